import { describe, expect, it } from "vitest";
import { summaryBlocks } from "../../web/src/lib/summary.ts";

describe("a card's summary as paragraphs and lists", () => {
  it("makes a run of '- ' lines one list, between the lines around it", () => {
    expect(
      summaryBlocks(
        [
          "push a1b2c3d reached acme/shop at 04:25 UTC. Since then:",
          '- new error "TypeError: …" ×6 (6 users)',
          "- checkout_success dropped 38% at 04:30 UTC",
          "Alertmanager is firing CheckoutSuccessLow on it too.",
          "Accept opens a pull request reverting a1b2c3d.",
        ].join("\n"),
      ),
    ).toEqual([
      { kind: "text", text: "push a1b2c3d reached acme/shop at 04:25 UTC. Since then:" },
      {
        kind: "list",
        items: ['new error "TypeError: …" ×6 (6 users)', "checkout_success dropped 38% at 04:30 UTC"],
      },
      {
        kind: "text",
        text: "Alertmanager is firing CheckoutSuccessLow on it too.\nAccept opens a pull request reverting a1b2c3d.",
      },
    ]);
  });

  it("keeps paragraphs apart at blank lines, takes • and * bullets, and drops markdown marks", () => {
    expect(summaryBlocks("**Two** things:\n• one\n* `two`\n\n\nScope: zone=a.\n")).toEqual([
      { kind: "text", text: "Two things:" },
      { kind: "list", items: ["one", "two"] },
      { kind: "text", text: "Scope: zone=a." },
    ]);
  });

  it("leaves a plain summary one paragraph, and a minus sign inside a line alone", () => {
    expect(summaryBlocks("Balance went -5 - then back.")).toEqual([
      { kind: "text", text: "Balance went -5 - then back." },
    ]);
    expect(summaryBlocks("-5 degrees at the door")).toEqual([
      { kind: "text", text: "-5 degrees at the door" },
    ]);
  });

  it("leaves out what accepting would do once the card is decided, and nothing else", () => {
    const summary = [
      "Push c0ffee4 reached acme/shop at 02:11 UTC. Since then:",
      "- signup_success dropped 40% at 02:17 UTC",
      "Fixed in 2.3.1. Accept opens an issue in acme/shop to upgrade it.",
      "",
      "Accept runs the **rollback** action back to ccccccc.",
      "Accept rate for this agent is 80%.",
    ].join("\n");
    expect(summaryBlocks(summary, true)).toEqual([
      { kind: "text", text: "Push c0ffee4 reached acme/shop at 02:11 UTC. Since then:" },
      { kind: "list", items: ["signup_success dropped 40% at 02:17 UTC"] },
      { kind: "text", text: "Fixed in 2.3.1." },
      { kind: "text", text: "Accept rate for this agent is 80%." },
    ]);
    // Still waiting for a decision: all of it.
    expect(summaryBlocks(summary).flatMap((b) => (b.kind === "text" ? [b.text] : b.items))).toEqual([
      "Push c0ffee4 reached acme/shop at 02:11 UTC. Since then:",
      "signup_success dropped 40% at 02:17 UTC",
      "Fixed in 2.3.1. Accept opens an issue in acme/shop to upgrade it.",
      "Accept runs the rollback action back to ccccccc.\nAccept rate for this agent is 80%.",
    ]);
  });
});
