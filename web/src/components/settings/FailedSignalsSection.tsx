import type { DeadLetter } from "@flick/shared";
import { createResource, For, Show } from "solid-js";
import { request } from "../../lib/api.ts";
import { momentLabel } from "../../lib/chart-axis.ts";
import { apiAction } from "./parts.tsx";
import styles from "./Settings.module.css";

/**
 * Signals an agent failed on every time it tried (parked, not lost): what failed, from which
 * source, and the error; retried once the cause is fixed, or discarded.
 */
export function FailedSignalsSection(props: {
  run(f: () => Promise<unknown>): Promise<void>;
  notice(m: string): void;
}) {
  const [list, { refetch }] = createResource(() =>
    request<{ signals: DeadLetter[]; retentionDays: number }>("/api/admin/dead-letters"),
  );
  const failed = () => list()?.signals ?? [];
  const act = apiAction(props.run, refetch, props.notice);

  return (
    <section aria-labelledby="failed-title" class={styles.section}>
      <h2 id="failed-title">Signals that failed</h2>
      <p class={styles.muted}>
        A signal the agents failed on at every try is set aside here instead of lost: retry it once the cause
        is fixed, or discard it.
        <Show when={list()}>
          {(l) =>
            l().retentionDays > 0
              ? ` Processed signals are kept ${l().retentionDays} days (SIGNAL_RETENTION_DAYS), these until you act.`
              : " Processed signals are kept forever (SIGNAL_RETENTION_DAYS is 0)."
          }
        </Show>
      </p>
      <Show when={list.state === "ready"}>
        <Show
          when={failed().length > 0}
          fallback={<p class={styles.muted}>None: every signal so far went through the agents.</p>}
        >
          <Show when={failed().length > 1}>
            <button
              type="button"
              class={styles.secondary}
              onClick={() =>
                act(
                  "/api/admin/dead-letters/retry",
                  { method: "POST" },
                  `${failed().length} signals sent back to the agents.`,
                )
              }
            >
              Retry all {failed().length}
            </button>
          </Show>
          <For each={failed()}>
            {(s) => (
              <article class={styles.item} aria-label={`Failed signal ${s.externalId}`}>
                <h3>
                  {s.sourceName} <span class={styles.muted}>· {s.kind}</span>
                </h3>
                <p class={styles.muted}>
                  {s.externalId} · received {momentLabel(s.receivedAt)} · tried {s.attempts}{" "}
                  {s.attempts === 1 ? "time" : "times"}
                </p>
                <Show when={s.lastError}>
                  <pre class={styles.failure}>{s.lastError}</pre>
                </Show>
                <div class={styles.row}>
                  <button
                    type="button"
                    class={styles.secondary}
                    onClick={() =>
                      act(
                        `/api/admin/dead-letters/${s.id}/retry`,
                        { method: "POST" },
                        `${s.externalId} sent back to the agents.`,
                      )
                    }
                  >
                    Retry
                  </button>
                  <button
                    type="button"
                    class={styles.secondary}
                    onClick={() => {
                      if (!confirm(`Discard ${s.externalId}? No agent will see it.`)) return;
                      act(
                        `/api/admin/dead-letters/${s.id}`,
                        { method: "DELETE" },
                        `${s.externalId} discarded.`,
                      );
                    }}
                  >
                    Discard
                  </button>
                </div>
              </article>
            )}
          </For>
        </Show>
      </Show>
    </section>
  );
}
