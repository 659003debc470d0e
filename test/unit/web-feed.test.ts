import type { Card, CardEvent } from "@flick/shared";
import { describe, expect, it } from "vitest";
import {
  applyBrowsedEvent,
  applyCardEvent,
  emptyFeed,
  hideCard,
  loadPage,
  restoreCard,
  showIncoming,
  startRevising,
  stopRevising,
  visibleCards,
} from "../../web/src/lib/feed-state.ts";
import { endSwipe, moveSwipe, startSwipe, swipeProgress } from "../../web/src/lib/swipe.ts";

const card = (id: string, priority: number, version = 1, status: Card["status"] = "pending"): Card => ({
  id,
  agent: "a",
  fingerprint: `fp:${id}`,
  kind: "insight",
  title: id,
  summary: "",
  priority,
  priorityFactors: {},
  preview: null,
  change: null,
  evidence: { signalIds: [], count: 1, firstSeen: "", lastSeen: "", links: [], facts: {} },
  verification: [],
  status,
  version,
  supersedes: null,
  snoozedUntil: null,
  createdAt: "2026-11-24T00:00:00Z",
  updatedAt: "2026-11-24T00:00:00Z",
});
const ev = (type: CardEvent["type"], c: Card, id = 1): CardEvent => ({
  id,
  type,
  cardId: c.id,
  version: c.version,
  card: type === "card.removed" ? undefined : c,
});

describe("feed state", () => {
  const base = loadPage(emptyFeed, [card("a", 0.9), card("b", 0.5)], true);

  it("holds new cards above until the pill is tapped, then ranks them in", () => {
    const s = applyCardEvent(base, ev("card.created", card("c", 0.7)));
    expect(s.cards.map((c) => c.id)).toEqual(["a", "b"]);
    expect(s.incoming.map((c) => c.id)).toEqual(["c"]);
    expect(showIncoming(s).cards.map((c) => c.id)).toEqual(["a", "c", "b"]);
  });

  it("puts the revision someone asked for at the top in place of the old card, not behind the pill", () => {
    let s = startRevising(base, "b");
    s = applyCardEvent(s, { id: 9, type: "card.removed", cardId: "b", version: 2 });
    s = applyCardEvent(s, ev("card.created", { ...card("b2", 0.1), supersedes: "b" }));
    expect(s.cards.map((c) => c.id)).toEqual(["b2", "a"]);
    expect(s.incoming).toEqual([]);
    expect(s.revising).toEqual([]);
    // A revision nobody here asked for waits behind the pill like any new card.
    const other = applyCardEvent(base, ev("card.created", { ...card("a2", 0.1), supersedes: "a" }));
    expect(other.incoming.map((c) => c.id)).toEqual(["a2"]);
    expect(stopRevising(startRevising(base, "a"), "a").revising).toEqual([]);
  });

  it("shows a new card at once when the feed is empty", () => {
    const s = applyCardEvent(emptyFeed, ev("card.created", card("c", 0.7)));
    expect(s.cards.map((c) => c.id)).toEqual(["c"]);
    expect(s.incoming).toEqual([]);
  });

  it("updates a card in place and ignores stale versions", () => {
    const updated = applyCardEvent(base, ev("card.updated", { ...card("b", 0.99, 2), title: "b2" }));
    expect(updated.cards.map((c) => c.title)).toEqual(["a", "b2"]);
    expect(applyCardEvent(updated, ev("card.updated", card("b", 0.5, 1)))).toBe(updated);
  });

  it("drops removed or decided cards", () => {
    expect(applyCardEvent(base, ev("card.removed", card("a", 0.9, 2))).cards.map((c) => c.id)).toEqual(["b"]);
    expect(
      applyCardEvent(base, ev("card.updated", card("a", 0.9, 2, "applying"))).cards.map((c) => c.id),
    ).toEqual(["b"]);
  });

  it("hides a decided card at once and restores it when the server refuses", () => {
    const hidden = hideCard(base, "a");
    expect(visibleCards(hidden).map((c) => c.id)).toEqual(["b"]);
    const back = restoreCard(hidden, card("a", 0.9, 3));
    expect(visibleCards(back).map((c) => [c.id, c.version])).toEqual([
      ["a", 3],
      ["b", 1],
    ]);
  });
});

describe("a list looked back at (one state, newest first), kept live", () => {
  const applied = [card("x", 0.5, 2, "applied"), card("y", 0.5, 1, "applied")];

  it("takes a shown card's newer version in place: a carried-out card told what came of it", () => {
    const told = {
      ...card("y", 0.5, 2, "applied"),
      verification: [{ check: "came back", status: "passed" as const }],
    };
    const after = applyBrowsedEvent(applied, ev("card.updated", told), "applied", true);
    expect(after.map((c) => [c.id, c.version])).toEqual([
      ["x", 2],
      ["y", 2],
    ]);
    expect(after[1]?.verification).toEqual([{ check: "came back", status: "passed" }]);
    // An older or the same version changes nothing (the same list, so nothing re-renders).
    expect(
      applyBrowsedEvent(applied, ev("card.updated", card("x", 0.5, 1, "applied")), "applied", true),
    ).toBe(applied);
    expect(applyBrowsedEvent(applied, ev("card.updated", applied[0] as Card), "applied", true)).toBe(applied);
  });

  it("adds a card that comes into the state at the top, unless the list is narrowed past what the event tells", () => {
    const come = card("z", 0.9, 3, "applied");
    expect(applyBrowsedEvent(applied, ev("card.updated", come), "applied", true).map((c) => c.id)).toEqual([
      "z",
      "x",
      "y",
    ]);
    expect(applyBrowsedEvent(applied, ev("card.updated", come), "applied", false)).toBe(applied);
    // A card in another state is not this list's.
    expect(applyBrowsedEvent(applied, ev("card.created", card("p", 0.9)), "applied", true)).toBe(applied);
  });

  it("drops a card that moved on to another state or was removed", () => {
    const undone = card("x", 0.5, 3, "pending");
    expect(applyBrowsedEvent(applied, ev("card.updated", undone), "applied", true).map((c) => c.id)).toEqual([
      "y",
    ]);
    expect(
      applyBrowsedEvent(
        applied,
        { id: 9, type: "card.removed", cardId: "y", version: 1 },
        "applied",
        true,
      ).map((c) => c.id),
    ).toEqual(["x"]);
  });
});

describe("swipe gesture", () => {
  const width = 400;
  const drag = (points: [number, number, number][]) =>
    points
      .slice(1)
      .reduce(
        (s, [x, y, t]) => moveSwipe(s, x, y, t),
        startSwipe(...(points[0] as [number, number, number])),
      );

  it("commits a long horizontal drag right as accept and left as reject", () => {
    expect(
      endSwipe(
        drag([
          [200, 300, 0],
          [215, 302, 50],
          [350, 305, 400],
        ]),
        width,
      ),
    ).toBe("accept");
    expect(
      endSwipe(
        drag([
          [200, 300, 0],
          [185, 301, 50],
          [40, 304, 400],
        ]),
        width,
      ),
    ).toBe("reject");
  });

  it("springs back from a short slow drag", () => {
    const s = drag([
      [200, 300, 0],
      [215, 300, 100],
      [260, 300, 600],
    ]);
    expect(endSwipe(s, width)).toBe("cancel");
    expect(swipeProgress(s, width)).toBeCloseTo(60 / 140);
  });

  it("commits a quick flick even when short", () => {
    expect(
      endSwipe(
        drag([
          [200, 300, 0],
          [215, 300, 10],
          [290, 300, 80],
        ]),
        width,
      ),
    ).toBe("accept");
  });

  it("leaves vertical movement to the feed's scrolling", () => {
    const s = drag([
      [200, 300, 0],
      [203, 280, 20],
      [260, 100, 200],
    ]);
    expect(s.axis).toBe("vertical");
    expect(swipeProgress(s, width)).toBe(0);
    expect(endSwipe(s, width)).toBe("cancel");
  });
});

describe("recorder helpers", async () => {
  const { levelOf, pickMimeType } = await import("../../web/src/lib/recorder.ts");
  it("prefers opus in webm, falls back to mp4 (Safari)", () => {
    expect(pickMimeType(() => true)).toBe("audio/webm;codecs=opus");
    expect(pickMimeType((t) => t === "audio/mp4")).toBe("audio/mp4");
    expect(pickMimeType(() => false)).toBeUndefined();
  });
  it("reads silence as 0 and a loud signal as high", () => {
    expect(levelOf(new Uint8Array(512).fill(128))).toBe(0);
    expect(levelOf(Uint8Array.from({ length: 512 }, (_, i) => (i % 2 ? 255 : 0)))).toBe(1);
  });
});

describe("side-by-side diff", () => {
  it("pairs removals with the additions after them and keeps context on both sides", async () => {
    const { sideBySide } = await import("../../web/src/lib/diff.ts");
    const rows = sideBySide(
      [
        "diff --git a/x.ts b/x.ts",
        "--- a/x.ts",
        "+++ b/x.ts",
        "@@ -1,3 +1,4 @@",
        " keep",
        "-old one",
        "-old two",
        "+new one",
        " tail",
        "+added",
      ].join("\n"),
    );
    expect(rows).toEqual([
      { kind: "file", left: "x.ts", right: "x.ts", leftNo: null, rightNo: null },
      { kind: "hunk", left: "@@ -1,3 +1,4 @@", right: "@@ -1,3 +1,4 @@", leftNo: null, rightNo: null },
      { kind: "context", left: "keep", right: "keep", leftNo: 1, rightNo: 1 },
      // (the word that changed marked on both sides)
      {
        kind: "change",
        left: "old one",
        right: "new one",
        leftNo: 2,
        rightNo: 2,
        leftMark: [0, 3],
        rightMark: [0, 3],
      },
      { kind: "change", left: "old two", right: null, leftNo: 3, rightNo: null },
      { kind: "context", left: "tail", right: "tail", leftNo: 4, rightNo: 3 },
      { kind: "change", left: null, right: "added", leftNo: null, rightNo: 4 },
    ]);
  });

  it("numbers each line in the old and the new file from its hunk's header", async () => {
    const { diffLines } = await import("../../web/src/lib/diff.ts");
    const lines = diffLines(
      [
        "--- a/x.ts",
        "+++ b/x.ts",
        "@@ -10,3 +12,3 @@ function f() {",
        " a",
        "-b",
        "+c",
        " d",
        "\\ No newline at end of file",
        "@@ -40 +42,2 @@",
        " e",
        "+f",
        "",
      ].join("\n"),
    );
    expect(lines.map((l) => [l.kind, l.oldNo, l.newNo, l.text])).toEqual([
      ["file", null, null, "x.ts"],
      ["hunk", null, null, "@@ -10,3 +12,3 @@ function f() {"],
      ["context", 10, 12, "a"],
      ["del", 11, null, "b"],
      ["add", null, 13, "c"],
      ["context", 12, 14, "d"],
      ["hunk", null, null, "@@ -40 +42,2 @@"],
      ["context", 40, 42, "e"],
      ["add", null, 43, "f"],
    ]);
  });

  it("marks the words a changed line changed, in both its versions", async () => {
    const { diffLines, sideBySide } = await import("../../web/src/lib/diff.ts");
    const diff = [
      "@@ -1,4 +1,4 @@",
      "-  return items.reduce((sum, item) => sum + item.price, 0);",
      "-const limit = 10;",
      "+  return items.reduce((sum, item) => sum + item.price * (item.quantity ?? 1), 0);",
      "+const limit = 12;",
      "-let price = 1;",
      "+let prize = 1;",
      "-old();",
      "+completely(different, stuff);",
    ].join("\n");
    const marked = diffLines(diff)
      .filter((l) => l.kind === "del" || l.kind === "add")
      .map((l) => (l.mark ? l.text.slice(...l.mark) : null));
    expect(marked).toEqual([
      // words only added: nothing to mark on the old side
      null,
      "10",
      " * (item.quantity ?? 1)",
      "12",
      // inside a word: the whole word
      "price",
      "prize",
      // nothing in common: the whole line changed, nothing marked
      null,
      null,
    ]);
    // The side-by-side rows carry the same marks.
    const row = sideBySide(diff).find((r) => r.kind === "change");
    expect(row?.rightMark && row.right?.slice(...row.rightMark)).toBe(" * (item.quantity ?? 1)");
  });

  it("heads each file with its path, saying when it is new, deleted or renamed", async () => {
    const { diffLines } = await import("../../web/src/lib/diff.ts");
    const headings = (diff: string[]) =>
      diffLines(diff.join("\n"))
        .filter((l) => l.kind === "file")
        .map((l) => l.text);
    expect(
      headings([
        "--- a/src/x.ts",
        "+++ b/src/x.ts",
        "@@ -1 +1 @@",
        "-a",
        "+b",
        "--- /dev/null",
        "+++ b/src/new.ts",
        "@@ -0,0 +1 @@",
        "+n",
        "--- a/src/gone.ts",
        "+++ /dev/null",
        "@@ -1 +0,0 @@",
        "-g",
        "--- a/src/old.ts\t2026-11-27 01:00:00",
        "+++ b/src/renamed.ts\t2026-11-27 01:00:00",
      ]),
    ).toEqual(["src/x.ts", "src/new.ts (new file)", "src/gone.ts (deleted)", "src/old.ts → src/renamed.ts"]);
  });
});
