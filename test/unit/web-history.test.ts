import type { Decision, Execution } from "@flick/shared";
import { describe, expect, it } from "vitest";
import { historyLines } from "../../web/src/lib/history.ts";

const now = Date.parse("2026-11-27T06:00:00Z");
const decision = (d: Partial<Decision> & Pick<Decision, "id" | "verdict" | "createdAt">): Decision => ({
  cardId: "c1",
  cardVersion: 1,
  userId: "u1",
  userName: "Ada",
  reason: null,
  snoozeUntil: null,
  undoes: null,
  client: "web",
  undoableUntil: null,
  ...d,
});
const execution = (x: Partial<Execution> & Pick<Execution, "id" | "state" | "runAfter">): Execution => ({
  cardId: "c1",
  decisionId: "d1",
  executor: "github",
  dryRun: false,
  attempts: 0,
  log: "",
  result: null,
  error: null,
  finishedAt: null,
  ...x,
});

describe("a card's history in words", () => {
  it("tells decisions and what they ran in the order they happened, undos by what they undid", () => {
    const lines = historyLines(
      {
        decisions: [
          decision({ id: "d1", verdict: "accept", createdAt: "2026-11-27T05:18:00Z" }),
          decision({ id: "d2", verdict: "undo", undoes: "d1", createdAt: "2026-11-27T05:18:05Z" }),
          decision({
            id: "d3",
            verdict: "snooze",
            snoozeUntil: "2026-11-27T09:00:00Z",
            createdAt: "2026-11-27T05:20:00Z",
          }),
          decision({ id: "d4", verdict: "accept", client: "voice", createdAt: "2026-11-27T05:40:00Z" }),
        ],
        executions: [
          execution({
            id: "x1",
            state: "cancelled",
            runAfter: "2026-11-27T05:18:30Z",
            finishedAt: "2026-11-27T05:18:05Z",
          }),
          execution({
            id: "x2",
            decisionId: "d4",
            state: "succeeded",
            runAfter: "2026-11-27T05:40:30Z",
            finishedAt: "2026-11-27T05:40:31Z",
          }),
        ],
      },
      now,
    );
    expect(lines.map((l) => `${l.when} · ${l.text}`)).toEqual([
      "Nov 27, 05:18 UTC · Ada accepted it",
      "Nov 27, 05:18 UTC · Ada undid the accept",
      "Nov 27, 05:18 UTC · GitHub: cancelled before it ran",
      "Nov 27, 05:20 UTC · Ada snoozed it until Nov 27, 09:00 UTC",
      "Nov 27, 05:40 UTC · Ada accepted it by voice",
      "Nov 27, 05:40 UTC · GitHub: done",
    ]);
    expect(lines[0]?.at).toBe("2026-11-27T05:18:00Z");
  });

  it("says why a card was rejected, what is waiting to run, what failed and what only rehearsed", () => {
    const lines = historyLines(
      {
        decisions: [
          decision({
            id: "d1",
            verdict: "reject",
            reason: "not_important",
            userName: null,
            createdAt: "2026-11-26T22:00:00Z",
          }),
        ],
        executions: [
          execution({ id: "x1", executor: "webhook", state: "scheduled", runAfter: "2026-11-27T06:00:30Z" }),
          execution({
            id: "x2",
            executor: "git-patch",
            state: "failed",
            error: "the patch does not apply",
            runAfter: "2026-11-27T05:00:00Z",
            finishedAt: "2026-11-27T05:00:02Z",
          }),
          execution({
            id: "x3",
            state: "succeeded",
            dryRun: true,
            runAfter: "2025-12-31T23:59:00Z",
            finishedAt: "2025-12-31T23:59:30Z",
          }),
        ],
      },
      now,
    );
    expect(lines.map((l) => `${l.when} · ${l.text}`)).toEqual([
      "2025-12-31 23:59 UTC · GitHub: rehearsed, nothing changed",
      "Nov 26, 22:00 UTC · Someone rejected it: not important",
      "Nov 27, 05:00 UTC · Patch: failed — the patch does not apply",
      "Nov 27, 06:00 UTC · Action: to run at Nov 27, 06:00 UTC",
    ]);
  });

  it("says what came of a change carried out, linking to the page GitHub named", () => {
    const done = (result: unknown, x: Partial<Execution> = {}) =>
      execution({
        id: "x1",
        state: "succeeded",
        runAfter: "2026-11-27T05:40:30Z",
        finishedAt: "2026-11-27T05:40:31Z",
        result,
        ...x,
      });
    const issue = {
      type: "github" as const,
      operation: "create_issue" as const,
      repository: "acme/app",
      params: { title: "Customers report: sync", body: "…" },
    };
    const line = (x: Execution, change: Parameters<typeof historyLines>[2]) =>
      historyLines({ decisions: [], executions: [x] }, now, change)[0];
    expect(
      line(done({ status: 201, number: 46, url: "https://github.com/acme/app/issues/46" }), issue),
    ).toEqual({
      at: "2026-11-27T05:40:31Z",
      when: "Nov 27, 05:40 UTC",
      text: "GitHub: done — opened acme/app#46",
      url: "https://github.com/acme/app/issues/46",
    });
    // A page that is no web page is not made a link; the words stay.
    expect(line(done({ number: 46, url: "javascript:alert(1)" }), issue)).not.toHaveProperty("url");
    expect(
      line(done({ merged: true, sha: "8b8b8b8b8b" }), {
        type: "github",
        operation: "merge_pr",
        repository: "acme/app",
        params: { number: 58 },
      })?.text,
    ).toBe("GitHub: done — merged as 8b8b8b8");
    expect(
      line(done({ status: 202, response: "" }, { executor: "webhook" }), {
        type: "webhook",
        action: "rollback",
        params: {},
      })?.text,
    ).toBe('Action: done — the "rollback" action answered 202');
    // A rehearsal, or a result that says nothing more, is as before.
    expect(line(done({ dryRun: true, wouldDo: "…" }, { dryRun: true }), issue)?.text).toBe(
      "GitHub: rehearsed, nothing changed",
    );
    expect(line(done(null), issue)?.text).toBe("GitHub: done");
  });

  it("is empty for a card nobody decided", () => {
    expect(historyLines({ decisions: [], executions: [] }, now)).toEqual([]);
  });
});
