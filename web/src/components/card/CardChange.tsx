import type { Change } from "@flick/shared";
import { describeChange } from "@flick/shared/describe";
import { createSignal, For, Match, onCleanup, onMount, type ParentProps, Show, Switch } from "solid-js";
import { request } from "../../lib/api.ts";
import { type DiffLine, diffLines, sideBySide } from "../../lib/diff.ts";
import styles from "./Card.module.css";

const lineClass: Partial<Record<DiffLine["kind"], string | undefined>> = {
  add: styles.diffAdd,
  del: styles.diffDel,
  hunk: styles.diffHunk,
};
const marker: Partial<Record<DiffLine["kind"], string>> = { add: "+", del: "-" };

/**
 * Folded detail whose label says what tapping it does now: "Show the diff" / "Hide the diff". On a
 * desktop the "d" key opens and folds it (see the feed's keys).
 */
function Reveal(props: ParentProps<{ what: string }>) {
  const [open, setOpen] = createSignal(false);
  return (
    <details class={styles.diff} data-key="d" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>
        {open() ? "Hide" : "Show"} the {props.what}
      </summary>
      {props.children}
    </details>
  );
}

/**
 * Whether accepting could be carried out now, asked of the server's dry run (no side effect: the
 * patch is checked, requests are built, not sent) once the section comes into view — so a card
 * whose action is not set up says so before the swipe, not in a "Failed" after it.
 */
function useDryRun(target: () => HTMLElement | undefined, cardId: () => string | undefined) {
  const [problem, setProblem] = createSignal("");
  onMount(() => {
    const el = target();
    const id = cardId();
    if (!el || !id || typeof IntersectionObserver === "undefined") return;
    const seen = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      seen.disconnect();
      request<{ ok: boolean; error?: string }>(`/api/cards/${id}/dry-run`, { method: "POST" })
        .then((r) => setProblem(r.ok ? "" : (r.error ?? "the dry run failed")))
        // Offline or refused: no verdict, no warning.
        .catch(() => {});
    });
    seen.observe(el);
    onCleanup(() => seen.disconnect());
  });
  return problem;
}

/** "What accept will do", in words first; the full diff on demand. */
export function CardChange(props: { change: Change | null; demo?: boolean; cardId?: string }) {
  // Side by side reads best on a wide screen; phones start unified.
  const [split, setSplit] = createSignal(typeof window !== "undefined" && window.innerWidth >= 1100);
  let section: HTMLElement | undefined;
  const problem = useDryRun(
    () => section,
    () => (props.change && props.change.type !== "none" && !props.demo ? props.cardId : undefined),
  );
  return (
    <section class={styles.change} aria-label="What accept will do" ref={section}>
      <h3 class={styles.sectionTitle}>Accept will</h3>
      <p>{describeChange(props.change)}</p>
      <Show when={props.demo}>
        <p class={styles.demoNote}>Demo card: accepting only rehearses this.</p>
      </Show>
      <Show when={problem()}>
        <p class={styles.blocked} role="note">
          Would fail now: {problem()}.
        </p>
      </Show>
      <Switch>
        <Match when={props.change?.type === "patch" && (props.change as Extract<Change, { type: "patch" }>)}>
          {(c) => (
            <Reveal what="diff">
              <fieldset class={styles.diffModes} aria-label="Diff layout">
                <button type="button" aria-pressed={!split()} onClick={() => setSplit(false)}>
                  Unified
                </button>
                <button type="button" aria-pressed={split()} onClick={() => setSplit(true)}>
                  Side by side
                </button>
              </fieldset>
              <Show
                when={split()}
                fallback={
                  <div class={styles.unified}>
                    <table aria-label="Unified diff">
                      <tbody>
                        <For each={diffLines(c().diff)}>
                          {(line) => (
                            <tr data-kind={line.kind} class={lineClass[line.kind]}>
                              <Show
                                when={line.kind === "file" || line.kind === "hunk"}
                                fallback={
                                  <>
                                    <td class={styles.lineNo}>{line.oldNo ?? ""}</td>
                                    <td class={styles.lineNo}>{line.newNo ?? ""}</td>
                                    <td class={styles.code}>{`${marker[line.kind] ?? " "}${line.text}`}</td>
                                  </>
                                }
                              >
                                <td colSpan={3} class={styles.heading}>
                                  {line.text}
                                </td>
                              </Show>
                            </tr>
                          )}
                        </For>
                      </tbody>
                    </table>
                  </div>
                }
              >
                <table class={styles.split} aria-label="Side-by-side diff">
                  <colgroup>
                    <col class={styles.lineNoCol} />
                    <col />
                    <col class={styles.lineNoCol} />
                    <col />
                  </colgroup>
                  <tbody>
                    <For each={sideBySide(c().diff)}>
                      {(row) => (
                        <tr data-kind={row.kind}>
                          <Show
                            when={row.kind === "file" || row.kind === "hunk"}
                            fallback={
                              <>
                                <td class={styles.lineNo}>{row.leftNo ?? ""}</td>
                                <td
                                  class={
                                    row.kind === "change" && row.left !== null ? styles.diffDel : undefined
                                  }
                                >
                                  {row.left ?? ""}
                                </td>
                                <td class={styles.lineNo}>{row.rightNo ?? ""}</td>
                                <td
                                  class={
                                    row.kind === "change" && row.right !== null ? styles.diffAdd : undefined
                                  }
                                >
                                  {row.right ?? ""}
                                </td>
                              </>
                            }
                          >
                            {/* A file's heading, or a hunk's header, once across both sides. */}
                            <td colSpan={4} class={row.kind === "hunk" ? styles.diffHunk : undefined}>
                              {row.left}
                            </td>
                          </Show>
                        </tr>
                      )}
                    </For>
                  </tbody>
                </table>
              </Show>
            </Reveal>
          )}
        </Match>
        <Match
          when={props.change?.type === "github" && (props.change as Extract<Change, { type: "github" }>)}
        >
          {(c) => (
            <Show when={(c().params as { body?: string }).body}>
              {(body) => (
                <Reveal what="text">
                  <pre class={styles.prose}>{body()}</pre>
                </Reveal>
              )}
            </Show>
          )}
        </Match>
      </Switch>
    </section>
  );
}
