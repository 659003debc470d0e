import { createSignal, onCleanup, Show, untrack } from "solid-js";
import { request } from "../../lib/api.ts";
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

/**
 * A labelled value to copy into another tool (a URL, a secret, a config snippet), with a Copy
 * button. A secret is hidden until asked for (a screen shared or looked over shows dots); Copy
 * takes it either way. `secret` as text hides only that part of the value (a snippet holding it).
 */
export function CopyField(props: { label: string; value: string; secret?: boolean | string; rows?: number }) {
  const [shown, setShown] = createSignal(false);
  const [copied, setCopied] = createSignal(false);
  let input: HTMLInputElement | HTMLTextAreaElement | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(timer));
  const hidden = () => props.secret !== undefined && props.secret !== false && !shown();
  const dots = (x: string) => "•".repeat(Math.min(x.length, 32));
  const displayed = () => {
    if (!hidden()) return props.value;
    return typeof props.secret === "string"
      ? props.value.replaceAll(props.secret, dots(props.secret))
      : dots(props.value);
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.value);
    } catch {
      // No clipboard API (an http page other than localhost): select it for the person to copy.
      setShown(true);
      input?.select();
      return;
    }
    setCopied(true);
    clearTimeout(timer);
    timer = setTimeout(() => setCopied(false), 2000);
  };
  return (
    <div class={styles.copyField} classList={{ [styles.copyBlock ?? ""]: props.rows !== undefined }}>
      <label class={styles.field}>
        {props.label}
        <Show
          when={props.rows}
          fallback={
            <input
              ref={(el) => {
                input = el;
              }}
              class={styles.code}
              readOnly
              value={displayed()}
            />
          }
        >
          <textarea
            ref={(el) => {
              input = el;
            }}
            class={styles.code}
            readOnly
            rows={props.rows}
            wrap="off"
            value={displayed()}
          />
        </Show>
      </label>
      <Show when={props.secret !== undefined && props.secret !== false}>
        <button
          type="button"
          class={styles.secondary}
          aria-pressed={shown()}
          onClick={() => setShown(!shown())}
        >
          {shown() ? "Hide" : "Show"}
          <span class={styles.hiddenText}> {props.label.toLowerCase()}</span>
        </button>
      </Show>
      <button type="button" class={styles.secondary} onClick={() => void copy()}>
        {copied() ? "Copied" : "Copy"}
        <span class={styles.hiddenText}> {props.label.toLowerCase()}</span>
      </button>
    </div>
  );
}

/** A source's settings as the forms edit them. */
export type Settings = Record<string, unknown>;

const num = (v: unknown) => (typeof v === "number" ? String(v) : "");

/** A text setting's value for its field ("" when unset). */
export const text = (v: unknown) => (typeof v === "string" ? v : "");

/** A number setting; blank unsets it (its default shows as the placeholder). */
export function NumberField(props: {
  label: string;
  key: string;
  step: number;
  placeholder: string;
  settings: Settings;
  set(key: string, value: unknown): void;
}) {
  return (
    <label class={styles.field}>
      {props.label}
      <input
        class={styles.input}
        type="number"
        inputMode={Number.isInteger(props.step) ? "numeric" : "decimal"}
        step={props.step}
        placeholder={props.placeholder}
        // Read once: the field is the admin's while they type ("0." is not a number yet).
        value={untrack(() => num(props.settings[props.key]))}
        onInput={(e) => props.set(props.key, e.currentTarget.valueAsNumber)}
      />
    </label>
  );
}

/**
 * A section's change through the API: calls it (inside the section's `run`, which shows errors),
 * reloads what the section lists, and says what was done — in words made from the answer, maybe.
 */
export function apiAction(
  run: (f: () => Promise<void>) => unknown,
  reload: () => unknown,
  notice: (message: string) => void,
) {
  return <T,>(url: string, init: Parameters<typeof request>[1], done: string | ((answer: T) => string)) =>
    void run(async () => {
      const answer = await request<T>(url, init);
      await reload();
      notice(typeof done === "string" ? done : done(answer));
    });
}
