/**
 * A card's summary as its agent (or the model) wrote it: lines of text, some of them a list
 * ("Since then:" then "- new error …", "- checkout_success dropped …"). Split into paragraphs and
 * lists so a phone shows a list as one, each item's wrapped lines indented under its bullet.
 */
export type SummaryBlock = { kind: "text"; text: string } | { kind: "list"; items: string[] };

const ITEM = /^\s*[-•*]\s+/;

export function summaryBlocks(summary: string): SummaryBlock[] {
  const blocks: SummaryBlock[] = [];
  // Markdown emphasis and code marks read as noise in plain text; the words stay.
  for (const line of summary.replace(/\*\*|`/g, "").split("\n")) {
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
