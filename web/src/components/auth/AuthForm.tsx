import { createSignal, For, type JSX, Show } from "solid-js";
import { errorMessage } from "../../lib/api.ts";
import styles from "./AuthForm.module.css";

export interface AuthField {
  name: string;
  label: string;
  type: "text" | "email" | "password";
  autocomplete: string;
  value?: string;
  readOnly?: boolean;
  minLength?: number;
}

interface AuthFormProps {
  title: string;
  intro?: JSX.Element;
  fields: AuthField[];
  submitLabel: string;
  busyLabel: string;
  onSubmit(values: Record<string, string>): Promise<void>;
}

/** The one form behind sign-in, first-run setup and invitations. */
export function AuthForm(props: AuthFormProps) {
  const [error, setError] = createSignal("");
  const [busy, setBusy] = createSignal(false);

  const submit: JSX.EventHandler<HTMLFormElement, SubmitEvent> = async (event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const values: Record<string, string> = {};
    for (const field of props.fields) values[field.name] = String(data.get(field.name) ?? "");
    setBusy(true);
    setError("");
    try {
      await props.onSubmit(values);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class={styles.page}>
      <form class={styles.card} onSubmit={submit} aria-busy={busy()}>
        <div class={styles.brand}>Flick</div>
        <h1 class={styles.title}>{props.title}</h1>
        <Show when={props.intro}>
          <p class={styles.intro}>{props.intro}</p>
        </Show>
        <For each={props.fields}>
          {(field) => (
            <label class={styles.field}>
              {field.label}
              <input
                class={styles.input}
                name={field.name}
                type={field.type}
                autocomplete={field.autocomplete}
                value={field.value ?? ""}
                readOnly={field.readOnly}
                minLength={field.minLength}
                required
              />
            </label>
          )}
        </For>
        <Show when={error()}>
          <p class={styles.error} role="alert">
            {error()}
          </p>
        </Show>
        <button class={styles.submit} type="submit" disabled={busy()}>
          {busy() ? props.busyLabel : props.submitLabel}
        </button>
      </form>
    </main>
  );
}
