import type { Change } from "@flick/shared";
import { For, Match, Show, Switch } from "solid-js";
import styles from "./Card.module.css";

/** "What accept will do", in words first; the full diff on demand. */
export function describeChange(change: Change | null): string {
  switch (change?.type) {
    case "patch":
      return `Commit this patch to ${change.repository} on a new branch`;
    case "github": {
      const p = change.params as Record<string, unknown>;
      const what = {
        merge_pr: `Merge pull request #${p.number}`,
        rerun_workflow: `Re-run workflow run ${p.runId}`,
        create_issue: `Open an issue "${p.title}"`,
        comment: `Comment on #${p.number}`,
        create_pr: `Open a pull request "${p.title}"`,
        revert_commit: `Open a pull request reverting ${String(p.sha).slice(0, 7)} on ${p.branch}`,
      }[change.operation];
      return `${what} in ${change.repository}`;
    }
    case "webhook":
      return `Run the "${change.action}" action`;
    default:
      return "Nothing outside Flick: accepting acknowledges it";
  }
}

function diffLineClass(line: string): string | undefined {
  if (line.startsWith("+") && !line.startsWith("+++")) return styles.diffAdd;
  if (line.startsWith("-") && !line.startsWith("---")) return styles.diffDel;
  if (line.startsWith("@@")) return styles.diffHunk;
  return undefined;
}

export function CardChange(props: { change: Change | null }) {
  return (
    <section class={styles.change} aria-label="What accept will do">
      <h3 class={styles.sectionTitle}>Accept will</h3>
      <p>{describeChange(props.change)}</p>
      <Switch>
        <Match when={props.change?.type === "patch" && (props.change as Extract<Change, { type: "patch" }>)}>
          {(c) => (
            <details class={styles.diff}>
              <summary>Show the diff</summary>
              <pre>
                <For each={c().diff.split("\n")}>
                  {(line) => <span class={diffLineClass(line)}>{`${line}\n`}</span>}
                </For>
              </pre>
            </details>
          )}
        </Match>
        <Match
          when={props.change?.type === "github" && (props.change as Extract<Change, { type: "github" }>)}
        >
          {(c) => (
            <Show when={(c().params as { body?: string }).body}>
              {(body) => <p class={styles.muted}>{body()}</p>}
            </Show>
          )}
        </Match>
      </Switch>
    </section>
  );
}
