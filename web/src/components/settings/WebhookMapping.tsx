import type { WebhookPreview } from "@flick/shared";
import { createResource, createSignal, For, onCleanup, Show, untrack } from "solid-js";
import { errorMessage, request } from "../../lib/api.ts";
import { momentLabel } from "../../lib/chart-axis.ts";
import { NumberField, type Settings, text } from "./parts.tsx";
import styles from "./Settings.module.css";

/** Where in a delivery each part of its card is: the setting, its label, an example path. */
const PATHS = [
  { key: "titlePath", label: "Card title", placeholder: "$.title" },
  {
    key: "fingerprintPath",
    label: "Joins deliveries into one card (same value, same card)",
    placeholder: "$.group",
  },
  { key: "idPath", label: "Delivery id (a repeat is a duplicate)", placeholder: "$.id" },
  { key: "summaryPath", label: "Summary", placeholder: "$.text" },
  { key: "urlPath", label: "Link (a web page)", placeholder: "$.url" },
] as const;

/** How long the mapping must rest before it is tried (each keystroke would ask the server). */
const TRY_AFTER_MS = 300;

/**
 * A generic webhook's mapping: a path into the delivery's JSON for each part of its card, and what
 * the source's latest delivery (or a pasted sample) becomes under the mapping as typed, asked of
 * the server, which reads it exactly as the ingest and the agent will. Saved with the settings.
 */
export function WebhookMapping(props: {
  sourceId: string;
  settings: Settings;
  set(key: string, value: unknown): void;
}) {
  const [sample, setSample] = createSignal<string | null>(null);
  const [tried, setTried] = createSignal<{ settings: Settings; sample: string | null }>({
    settings: untrack(() => props.settings),
    sample: null,
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(timer));
  const later = (settings: Settings, text: string | null) => {
    clearTimeout(timer);
    timer = setTimeout(() => setTried({ settings, sample: text }), TRY_AFTER_MS);
  };
  const setPath = (key: string, value: string) => {
    props.set(key, value.trim());
    later({ ...props.settings }, sample());
  };
  const [preview] = createResource(tried, async (t): Promise<WebhookPreview | { problem: string }> => {
    let parsed: unknown;
    if (t.sample !== null) {
      try {
        parsed = JSON.parse(t.sample);
      } catch (err) {
        return { problem: `The sample is not valid JSON: ${(err as Error).message}` };
      }
    }
    try {
      return await request<WebhookPreview>(`/api/sources/${props.sourceId}/webhook-preview`, {
        json: { settings: t.settings, ...(t.sample !== null ? { sample: parsed } : {}) },
      });
    } catch (err) {
      return { problem: errorMessage(err) };
    }
  });
  const result = () => {
    const p = preview.latest;
    return p && !("problem" in p) ? p : undefined;
  };
  const problem = () => {
    const p = preview.latest;
    return p && "problem" in p ? p.problem : "";
  };
  return (
    <>
      <p class={styles.muted}>
        Where in the JSON each part of a card is: $.alert.name, $.items[0].id, $['odd key'].
      </p>
      <For each={PATHS}>
        {(path) => (
          <label class={styles.field}>
            {path.label}
            <input
              class={styles.input}
              placeholder={path.placeholder}
              autocapitalize="off"
              spellcheck={false}
              value={untrack(() => text(props.settings[path.key]))}
              onInput={(e) => setPath(path.key, e.currentTarget.value)}
            />
          </label>
        )}
      </For>
      <NumberField
        label="Priority in the feed (0–1)"
        key="priority"
        step={0.05}
        placeholder="0.3"
        settings={props.settings}
        set={props.set}
      />
      <section class={styles.fieldset} aria-label="What a delivery becomes">
        <Show
          when={sample() === null}
          fallback={
            <label class={styles.field}>
              A sample delivery (JSON)
              <textarea
                class={styles.json}
                rows={5}
                spellcheck={false}
                value={sample() ?? ""}
                onInput={(e) => {
                  setSample(e.currentTarget.value);
                  later({ ...props.settings }, e.currentTarget.value);
                }}
              />
            </label>
          }
        >
          <p class={styles.muted}>
            <Show
              when={result()?.from === "latest"}
              fallback={
                result()?.from === "none"
                  ? "Nothing received yet: send a delivery to the ingest URL, or paste a sample."
                  : "Trying the mapping…"
              }
            >
              The latest delivery, received {momentLabel(result()?.receivedAt ?? "")}, becomes:
            </Show>
          </p>
        </Show>
        <Show when={problem()}>
          <p class={styles.error} role="alert">
            {problem()}
          </p>
        </Show>
        <Show when={result()?.card}>
          {(card) => (
            <dl class={styles.mapped}>
              <dt>Card title</dt>
              <dd>{card().title}</dd>
              <dt>Joined by</dt>
              <dd>{card().groupedBy ?? "nothing: each delivery is a card of its own"}</dd>
              <Show when={card().summary}>
                <dt>Summary</dt>
                <dd>{card().summary}</dd>
              </Show>
              <Show when={card().url}>
                <dt>Link</dt>
                <dd>{card().url}</dd>
              </Show>
            </dl>
          )}
        </Show>
        <For each={result()?.missing ?? []}>
          {(m) => (
            <p class={styles.error}>
              {PATHS.find((p) => p.key === m.key)?.label}: {m.path} finds nothing in this delivery.
            </p>
          )}
        </For>
        <Show when={result()?.delivery !== undefined}>
          <details>
            <summary>The delivery</summary>
            <pre class={styles.json}>{JSON.stringify(result()?.delivery, null, 2).slice(0, 4000)}</pre>
          </details>
        </Show>
        <button
          type="button"
          class={styles.link}
          onClick={() => {
            const next = sample() === null ? JSON.stringify(result()?.delivery ?? {}, null, 2) : null;
            setSample(next);
            later({ ...props.settings }, next);
          }}
        >
          {sample() === null ? "Paste a sample instead" : "Use the latest delivery"}
        </button>
      </section>
    </>
  );
}
