import { hhmmSpan } from "@flick/server/card-words";
import { type Deploy, deployOf, remembered } from "@flick/server/deploys";
import type * as schema from "@flick/server/schema";
import { describe, expect, it } from "vitest";
import { fixture } from "../helpers/fixtures.ts";

type Json = Record<string, unknown>;
const signal = (kind: string, payload: Json, at: string) =>
  ({ id: "sig_1", kind, payload, occurredAt: new Date(at) }) as typeof schema.signals.$inferSelect;

/** GitHub's workflow_run webhook (fixture), as the "Deploy" workflow on the default branch. */
const run = (fields: Json) => {
  const p = JSON.parse(fixture("github-webhooks/workflow_run/completed.payload.json")) as Json;
  const repo = p.repository as Json;
  return {
    ...p,
    workflow_run: {
      ...(p.workflow_run as Json),
      name: "Deploy",
      head_branch: repo.default_branch,
      head_sha: "6d".repeat(20),
      conclusion: "success",
      ...fields,
    },
  };
};

describe("what a push brought", () => {
  const push = (fields: Json) => ({
    ref: "refs/heads/main",
    before: "1".repeat(40),
    after: "3".repeat(40),
    repository: { full_name: "acme/shop", default_branch: "main" },
    commits: [{ id: "2".repeat(40) }, { id: "3".repeat(40) }],
    ...fields,
  });

  it("counts the commits a push lists up to the pushed one, and none of a force-push's", () => {
    const at = "2026-11-27T14:00:00Z";
    expect(deployOf(signal("github.push", push({}), at))).toMatchObject({
      sha: "3".repeat(40),
      previous: "1".repeat(40),
      commits: 2,
    });
    // A force-push's commits need not follow the commit before it: no range to revert.
    expect(deployOf(signal("github.push", push({ forced: true }), at))?.commits).toBeUndefined();
    // A list that does not end at the pushed commit is not this push's.
    expect(
      deployOf(signal("github.push", push({ commits: [{ id: "2".repeat(40) }] }), at))?.commits,
    ).toBeUndefined();
  });
});

describe("when a deploy went out", () => {
  it("a deploy workflow began rolling out when its run started, minutes before it reported success", () => {
    const d = deployOf(
      signal("github.workflow_run", run({ run_started_at: "2026-11-27T14:00:00Z" }), "2026-11-27T14:06:30Z"),
    );
    expect(d).toMatchObject({
      at: Date.parse("2026-11-27T14:00:00Z"),
      done: Date.parse("2026-11-27T14:06:30Z"),
      label: "Deploy 6d6d6d6",
      sha: "6d".repeat(20),
    });
  });

  it("a start time that cannot be read, or comes after the report (a skewed clock), is the report's time", () => {
    for (const started of ["not a time", "2026-11-27T15:00:00Z"]) {
      const d = deployOf(
        signal("github.workflow_run", run({ run_started_at: started }), "2026-11-27T14:06:30Z"),
      );
      expect(d?.at).toBe(Date.parse("2026-11-27T14:06:30Z"));
      expect(d?.done).toBeUndefined();
    }
  });

  it("a workflow that failed, ran on another branch or is not a deploy is no deploy", () => {
    const at = "2026-11-27T14:06:30Z";
    expect(deployOf(signal("github.workflow_run", run({ conclusion: "failure" }), at))).toBeNull();
    expect(deployOf(signal("github.workflow_run", run({ head_branch: "feature/x" }), at))).toBeNull();
    expect(deployOf(signal("github.workflow_run", run({ name: "Unit tests" }), at))).toBeNull();
  });

  it("a successful deployment went out when the deployment was made", () => {
    const repo = { full_name: "acme/shop", default_branch: "main" };
    const status = (state: string) => ({
      action: "created",
      repository: repo,
      deployment: { sha: "ab".repeat(20), environment: "production", created_at: "2026-11-27T14:01:00Z" },
      deployment_status: { state, environment: "production" },
    });
    expect(
      deployOf(signal("github.deployment_status", status("success"), "2026-11-27T14:09:00Z")),
    ).toMatchObject({
      at: Date.parse("2026-11-27T14:01:00Z"),
      done: Date.parse("2026-11-27T14:09:00Z"),
      label: "deploy abababa to production",
    });
    expect(
      deployOf(signal("github.deployment_status", status("failure"), "2026-11-27T14:09:00Z")),
    ).toBeNull();
  });

  it("says a rollout's span in one time of day when it began and ended on the same day", () => {
    const now = new Date("2026-11-27T20:00:00Z");
    expect(hhmmSpan(new Date("2026-11-27T14:00:00Z"), new Date("2026-11-27T14:06:30Z"), now)).toBe(
      "14:00 to 14:06 UTC",
    );
    expect(hhmmSpan(new Date("2026-11-26T14:00:00Z"), new Date("2026-11-26T14:06:00Z"), now)).toBe(
      "Nov 26, 14:00 to 14:06 UTC",
    );
    expect(hhmmSpan(new Date("2026-11-26T23:58:00Z"), new Date("2026-11-27T00:03:00Z"), now)).toBe(
      "Nov 26, 23:58 UTC to 00:03 UTC",
    );
  });
});

describe("the deploys remembered", () => {
  const day = 24 * 60 * 60_000;
  const now = Date.parse("2026-11-27T14:00:00Z");
  const deploy = (repository: string, at: number, n: number): Deploy => ({
    repository,
    sha: n.toString(16).padStart(40, "0"),
    previous: null,
    label: `push ${n}`,
    at,
    signalId: `sig_${n}`,
  });

  it("keeps every deploy of the week up to five hundred, and of older ones each repository's latest", () => {
    const old = [deploy("acme/legacy", now - 30 * day, 1), deploy("acme/legacy", now - 20 * day, 2)];
    const week = Array.from({ length: 700 }, (_, i) =>
      deploy(`acme/service-${i % 40}`, now - day + i * 60_000, 100 + i),
    );
    const kept = remembered([...week.slice(0, 300), ...old, ...week.slice(300)], now);
    // The newest five hundred of the week, whatever else deployed meanwhile…
    expect(kept.filter((d) => d.repository !== "acme/legacy")).toEqual(week.slice(-500));
    // …and the repository that last deployed three weeks ago, once: its latest.
    expect(kept.filter((d) => d.repository === "acme/legacy")).toEqual([old[1]]);
    // Oldest first.
    expect(kept[0]).toBe(old[1]);
    // A week on with nothing new: each repository's latest only.
    expect(remembered(kept, now + 8 * day).map((d) => d.repository)).toEqual([
      "acme/legacy",
      ...Array.from({ length: 40 }, (_, i) => `acme/service-${(700 - 40 + i) % 40}`),
    ]);
  });
});
