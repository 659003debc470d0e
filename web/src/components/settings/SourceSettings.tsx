import type { Source, SourceKind } from "@flick/shared";
import { createSignal, Show } from "solid-js";
import { errorMessage, request } from "../../lib/api.ts";
import styles from "./Settings.module.css";

/** What the agents read from a source's settings, by kind: an example to start from. */
const EXAMPLES: Partial<Record<SourceKind, string>> = {
  metrics:
    '{"actions": {"checkout_success": "rollback"}, "repository": "owner/name", "oneService": true}: the action a broken metric proposes, else an issue in the repository; oneService: its metrics come from one service, so unlabelled ones breaking together are one card.',
  feedback:
    '{"clusterThreshold": 5, "similarity": 0.3, "names": ["Your product"], "repository": "owner/name"}: how many similar items in a week make a card, how alike they must be, names that are no topic, where issues go.',
  sentry: '{"repository": "owner/name"}: where error issues are opened.',
  webhook:
    '{"titlePath": "$.title", "idPath": "$.id", "fingerprintPath": "$.group", "summaryPath": "$.text", "urlPath": "$.url"}: where in the JSON each part of a card is.',
};

/**
 * A source's settings as JSON, saved with PATCH: the server checks them against what the agents
 * read and names the field it refuses ("settings.similarity: …"); nothing is saved then.
 */
export function SourceSettings(props: { source: Source; onSaved(message: string): void }) {
  const [text, setText] = createSignal(JSON.stringify(props.source.settings, null, 2));
  const [error, setError] = createSignal("");
  const [busy, setBusy] = createSignal(false);
  const save = async () => {
    let settings: unknown;
    try {
      settings = JSON.parse(text());
    } catch (err) {
      setError(`Not valid JSON: ${(err as Error).message}`);
      return;
    }
    if (settings === null || typeof settings !== "object" || Array.isArray(settings)) {
      setError("Settings must be a JSON object: {…}");
      return;
    }
    setBusy(true);
    try {
      const saved = await request<{ source: Source }>(`/api/sources/${props.source.id}`, {
        method: "PATCH",
        json: { settings },
      });
      setText(JSON.stringify(saved.source.settings, null, 2));
      setError("");
      props.onSaved(`Saved the settings of ${props.source.name}.`);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <details class={styles.settings}>
      <summary>Settings</summary>
      <Show when={EXAMPLES[props.source.kind]}>{(example) => <p class={styles.muted}>{example()}</p>}</Show>
      <textarea
        class={styles.json}
        aria-label={`Settings of ${props.source.name} (JSON)`}
        spellcheck={false}
        rows={6}
        value={text()}
        onInput={(e) => setText(e.currentTarget.value)}
      />
      <Show when={error()}>
        <p class={styles.error} role="alert">
          {error()}
        </p>
      </Show>
      <button type="button" class={styles.secondary} disabled={busy()} onClick={() => void save()}>
        Save settings
      </button>
    </details>
  );
}
