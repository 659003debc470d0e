import type { Change, Decision, Execution } from "@flick/shared";
import { createResource, For, Show } from "solid-js";
import { errorMessage, request } from "../../lib/api.ts";
import { historyLines } from "../../lib/history.ts";
import styles from "./Card.module.css";

interface History {
  decisions: Decision[];
  executions: Execution[];
}

/** Who decided what on this card, and what ran, in the order it happened; fetched on each opening. */
export default function CardHistory(props: { cardId: string; opens: number; change: Change | null }) {
  const [history] = createResource(
    () => [props.cardId, props.opens] as const,
    ([id]) => request<History>(`/api/cards/${id}/history`),
  );
  return (
    <Show when={!history.error} fallback={<p role="alert">{errorMessage(history.error)}</p>}>
      <Show when={history.latest}>
        {(h) => (
          <ul class={styles.history}>
            <For each={historyLines(h(), Date.now(), props.change)} fallback={<li>No decisions yet.</li>}>
              {(line) => (
                <li>
                  <time dateTime={line.at}>{line.when}</time> ·{" "}
                  <Show when={line.url} fallback={line.text}>
                    {(url) => (
                      <a href={url()} target="_blank" rel="noopener noreferrer">
                        {line.text}
                      </a>
                    )}
                  </Show>
                </li>
              )}
            </For>
          </ul>
        )}
      </Show>
    </Show>
  );
}
