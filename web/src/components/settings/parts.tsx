import { Show } from "solid-js";
import styles from "./Settings.module.css";

/** A section's outcome line: the error as an alert, else what was done as a status. */
export function Messages(props: { error: string; notice: string }) {
  return (
    <>
      <Show when={props.error}>
        <p class={styles.error} role="alert">
          {props.error}
        </p>
      </Show>
      <Show when={props.notice}>
        <p class={styles.muted} role="status">
          {props.notice}
        </p>
      </Show>
    </>
  );
}

/** A labelled value to copy into another tool (a URL, a secret). */
export function CopyField(props: { label: string; value: string }) {
  return (
    <label class={styles.field}>
      {props.label}
      <input class={styles.code} readOnly value={props.value} />
    </label>
  );
}
