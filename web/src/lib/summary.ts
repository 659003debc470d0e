/**
 * A card's summary as its agent (or the model) wrote it: lines of text, some of them a list
 * ("Since then:" then "- new error …", "- checkout_success dropped …"). Split into paragraphs and
 * lists so a phone shows a list as one, each item's wrapped lines indented under its bullet.
 */
export type SummaryBlock = { kind: "text"; text: string } | { kind: "list"; items: string[] };

const ITEM = /^\s*[-•*]\s+/;

/** A sentence saying what accepting would do ("Accept runs the rollback action back to 1a2b3c4."). */
const PROPOSAL =
  /^Accept(?:ing)?\s+(?:this\s+(?:card\s+)?)?(?:will\s+|would\s+)?(?:open|run|reopen|squash-merge|merge|re-run|revert|roll|create|send|close|post|call)s?\b/;

/**
 * `decided`: the card has been decided, and its change section says what became of the change, so
 * the summary's sentences saying what accepting would do are left out (on an applied card "Accept
 * runs the rollback action" reads as if it still waited).
 */
export function summaryBlocks(summary: string, decided = false): SummaryBlock[] {
  const blocks: SummaryBlock[] = [];
  // Markdown emphasis and code marks read as noise in plain text; the words stay.
  for (const full of summary.replace(/\*\*|`/g, "").split("\n")) {
    const line = decided ? withoutProposal(full) : full;
    if (line === null) continue;
    const last = blocks[blocks.length - 1];
    if (ITEM.test(line)) {
      const item = line.replace(ITEM, "");
      if (last?.kind === "list") last.items.push(item);
      else blocks.push({ kind: "list", items: [item] });
    } else if (line.trim() === "") {
      // A blank line ends a paragraph; the next line starts another.
      if (last?.kind === "text" && last.text !== "") blocks.push({ kind: "text", text: "" });
    } else if (last?.kind === "text") {
      last.text = last.text === "" ? line : `${last.text}\n${line}`;
    } else {
      blocks.push({ kind: "text", text: line });
    }
  }
  return blocks.filter((b) => b.kind === "list" || b.text !== "");
}

/** A line without its sentences saying what accepting would do; null when nothing else is left. */
function withoutProposal(line: string): string | null {
  const sentences = line.split(/(?<=[.!?])\s+/);
  const kept = sentences.filter((s) => !PROPOSAL.test(s.replace(ITEM, "")));
  if (kept.length === sentences.length) return line;
  return kept.length === 0 ? null : kept.join(" ");
}
