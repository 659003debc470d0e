import type { Action } from "@flick/shared";
import { createResource, For, Show } from "solid-js";
import { request } from "../../lib/api.ts";
import { setActionsVersion } from "./actions-version.ts";
import { CopyField } from "./parts.tsx";
import styles from "./Settings.module.css";

/**
 * Admin-defined actions: the webhooks a card's accept may call (a rollback, a restart). The target
 * checks the signature with the secret shown here; agents propose an action by its name.
 */
export function ActionsSection(props: {
  run(f: () => Promise<unknown>): Promise<void>;
  notice(m: string): void;
}) {
  const [actions, { refetch: reload }] = createResource(() => request<{ actions: Action[] }>("/api/actions"));
  const refetch = async () => {
    await reload();
    setActionsVersion((v) => v + 1);
  };

  return (
    <section aria-labelledby="actions-title" class={styles.section}>
      <h2 id="actions-title">Actions</h2>
      <p class={styles.muted}>
        What accepting a card may call. Flick signs each call (X-Flick-Signature: sha256 HMAC of
        "timestamp.body" with the action's secret) and sends an Idempotency-Key. The body template may use{" "}
        <code>{"{{card.title}}"}</code>, <code>{"{{card.id}}"}</code> and <code>{"{{params.name}}"}</code>.
      </p>
      <form
        class={styles.row}
        onSubmit={(e) => {
          e.preventDefault();
          const form = e.currentTarget;
          const data = new FormData(form);
          void props.run(async () => {
            await request("/api/actions", {
              json: {
                name: String(data.get("name") ?? "").trim(),
                url: String(data.get("url") ?? "").trim(),
                method: data.get("method"),
                bodyTemplate: String(data.get("bodyTemplate") ?? "").trim() || "{}",
              },
            });
            form.reset();
            await refetch();
            props.notice("Action added.");
          });
        }}
      >
        <label class={styles.field}>
          Action id
          <input name="name" class={styles.input} required maxLength={60} placeholder="rollback" />
        </label>
        <label class={styles.field}>
          Calls
          <input
            name="url"
            class={styles.input}
            type="url"
            required
            placeholder="https://deploy.example/rollback"
          />
        </label>
        <label class={styles.field}>
          Method
          <select name="method" class={styles.input}>
            <For each={["POST", "PUT", "PATCH", "DELETE"]}>{(m) => <option value={m}>{m}</option>}</For>
          </select>
        </label>
        <label class={styles.field}>
          Body template
          <input
            name="bodyTemplate"
            class={styles.code}
            placeholder={'{"service": "{{params.service}}", "card": "{{card.id}}"}'}
          />
        </label>
        <button type="submit" class={styles.primary}>
          Add action
        </button>
      </form>
      <For each={actions()?.actions ?? []}>
        {(a) => (
          <article class={styles.item} aria-label={`Action ${a.name}`}>
            <h3>
              {a.name} <span class={styles.muted}>· {a.method}</span>
              <Show when={!a.enabled}>
                <span class={styles.muted}> · disabled</span>
              </Show>
            </h3>
            <CopyField label="URL" value={a.url} />
            <CopyField label="Signing secret" value={a.secret} secret />
            <div class={styles.row}>
              <button
                type="button"
                class={styles.secondary}
                onClick={() =>
                  void props.run(async () => {
                    await request(`/api/actions/${a.id}`, { method: "PATCH", json: { enabled: !a.enabled } });
                    await refetch();
                    props.notice(`${a.name} ${a.enabled ? "disabled" : "enabled"}.`);
                  })
                }
              >
                {a.enabled ? "Disable" : "Enable"}
              </button>
              <button
                type="button"
                class={styles.secondary}
                onClick={() =>
                  void props.run(async () => {
                    await request(`/api/actions/${a.id}`, { method: "DELETE", json: {} });
                    await refetch();
                    props.notice(`${a.name} deleted.`);
                  })
                }
              >
                Delete
              </button>
            </div>
          </article>
        )}
      </For>
    </section>
  );
}
