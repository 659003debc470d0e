import { createMemo, For, type ParentProps, Show } from "solid-js";
import { type DiffLine, diffLines, sideBySide } from "../../lib/diff.ts";
import { diffPrefs, setDiffPrefs } from "../../lib/diff-prefs.ts";
import styles from "./DiffView.module.css";

const lineClass: Partial<Record<DiffLine["kind"], string | undefined>> = {
  add: styles.diffAdd,
  del: styles.diffDel,
  hunk: styles.diffHunk,
};
const marker: Partial<Record<DiffLine["kind"], string>> = { add: "+", del: "-" };

/** A row of a diff's table: a file's heading or a hunk's header once across it, else its cells. */
function Row(
  props: ParentProps<{ kind: string; text: string | null; span: number; class?: string | undefined }>,
) {
  return (
    <tr data-kind={props.kind} class={props.class}>
      <Show when={props.kind === "file" || props.kind === "hunk"} fallback={props.children}>
        <td colSpan={props.span} class={styles.heading}>
          {props.text}
        </td>
      </Show>
    </tr>
  );
}

/** A changed line, the words that changed in it marked. */
function Marked(props: { text: string; mark?: [number, number] | undefined }) {
  return (
    <Show when={props.mark} fallback={props.text}>
      {(m) => (
        <>
          {props.text.slice(0, m()[0])}
          <mark class={styles.changed}>{props.text.slice(m()[0], m()[1])}</mark>
          {props.text.slice(m()[1])}
        </>
      )}
    </Show>
  );
}

/** A patch's diff, unified or side by side, each line with its numbers in the old and new file. */
export default function DiffView(props: { diff: string }) {
  const split = () => diffPrefs().split;
  const wrap = () => diffPrefs().wrap;
  const lines = createMemo(() => diffLines(props.diff));
  // The number columns are as wide as the largest number, so a wrapped line keeps the most room.
  const numberWidth = createMemo(() => {
    const most = lines().reduce((n, l) => Math.max(n, l.oldNo ?? 0, l.newNo ?? 0), 0);
    return `${String(most).length + 1}ch`;
  });
  return (
    <>
      <fieldset class={styles.diffModes} aria-label="Diff layout">
        <button type="button" aria-pressed={!split()} onClick={() => setDiffPrefs({ split: false })}>
          Unified
        </button>
        <button type="button" aria-pressed={split()} onClick={() => setDiffPrefs({ split: true })}>
          Side by side
        </button>
        <Show when={!split()}>
          <button
            type="button"
            class={styles.wrapToggle}
            aria-pressed={wrap()}
            onClick={() => setDiffPrefs({ wrap: !wrap() })}
          >
            Wrap lines
          </button>
        </Show>
      </fieldset>
      <Show
        when={split()}
        fallback={
          <div class={styles.unified} data-wrap={wrap() ? "" : undefined}>
            <table aria-label="Unified diff">
              <colgroup>
                <col style={{ width: numberWidth() }} />
                <col style={{ width: numberWidth() }} />
                <col />
              </colgroup>
              <tbody>
                <For each={lines()}>
                  {(line) => (
                    <Row kind={line.kind} text={line.text} span={3} class={lineClass[line.kind]}>
                      <td class={styles.lineNo}>{line.oldNo ?? ""}</td>
                      <td class={styles.lineNo}>{line.newNo ?? ""}</td>
                      <td class={styles.code}>
                        {marker[line.kind] ?? " "}
                        <Marked text={line.text} mark={line.mark} />
                      </td>
                    </Row>
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
            <For each={sideBySide(props.diff)}>
              {(row) => (
                <Row kind={row.kind} text={row.left} span={4}>
                  <td class={styles.lineNo}>{row.leftNo ?? ""}</td>
                  <td class={row.kind === "change" && row.left !== null ? styles.diffDel : undefined}>
                    <Marked text={row.left ?? ""} mark={row.leftMark} />
                  </td>
                  <td class={styles.lineNo}>{row.rightNo ?? ""}</td>
                  <td class={row.kind === "change" && row.right !== null ? styles.diffAdd : undefined}>
                    <Marked text={row.right ?? ""} mark={row.rightMark} />
                  </td>
                </Row>
              )}
            </For>
          </tbody>
        </table>
      </Show>
    </>
  );
}
