import * as schema from "@flick/server/schema";
import { and, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replayFixtures } from "../demo/replay.ts";
import { fixturesDir } from "../helpers/fixtures.ts";
import { drivers, startTestApp, type TestApp } from "../helpers/harness.ts";

/** `pnpm demo` against an empty install: every agent has something to show, through real HTTP. */
describe.each(drivers)("replaying all fixtures into an empty install on %s", (driver) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(driver);
  });
  afterAll(async () => t?.close());

  // What went wrong inside the server, for a failure message worth reading.
  const problems = () =>
    t.logs.lines
      .filter((l) => /"level":(40|50|60)/.test(l))
      .slice(-10)
      .join("");

  it("fills the feed with believable cards from every built-in agent", async () => {
    const admin = await t.setupAdmin();
    const { body } = await t.request<{ token: string }>("/api/tokens", {
      cookie: admin,
      json: { name: "demo", role: "admin" },
    });
    const baseUrl = await t.listen();
    const report = await replayFixtures({
      baseUrl,
      token: body.token,
      fixturesDir,
      now: () => t.clock.now().getTime(),
      // The agents read each request's signals before the next arrives, as a live worker does
      // (draining once at the end hid a rollback card stuck at its first error's count).
      afterEach: () => t.drain(),
    });
    expect(report.sources).toHaveLength(5);
    expect(report.signals).toBeGreaterThan(10_000);
    await t.drain();

    const pending = await t.database.db
      .select({
        agent: schema.cards.agent,
        title: schema.cards.title,
        summary: schema.cards.summary,
        fingerprint: schema.cards.fingerprint,
        change: schema.cards.change,
        verification: schema.cards.verification,
      })
      .from(schema.cards)
      .where(eq(schema.cards.status, "pending"));
    const agents = new Set(pending.map((c) => c.agent));
    for (const agent of ["metrics", "errors", "ci", "prs", "feedback", "alerts", "security"])
      expect(agents, `${agent}; warnings in the log:\n${problems()}`).toContain(agent);
    const rollback = pending.filter((c) => c.fingerprint.startsWith("deploy:"));
    expect(rollback).toHaveLength(1);
    // Both troubles in a few words, short enough for a phone's first screen (the commit's message
    // and the error's text are in the summary).
    expect(rollback[0]?.title).toMatch(
      /^New TypeError ×6 \(6 users\) and checkout_success dropped \d+% \d+ min after push a1b2c3d — roll back\?$/,
    );
    expect(rollback[0]?.summary).toMatch(/^Push a1b2c3d "Cart: compute totals on the server" reached /);
    expect(rollback[0]?.summary).toContain(`- new error "TypeError: unsupported operand type(s) for *`);
    // Prometheus' alert on the drop is the same trouble: said on the card, its own card set aside.
    expect(rollback[0]?.summary).toContain("Alertmanager is firing CheckoutSuccessLow on it too");
    expect(pending.filter((c) => c.title.includes("CheckoutSuccessLow"))).toHaveLength(0);
    // A slow dependency on three instances at once, and timeouts on one of them: one card telling all
    // (its time with the day when the replayed break fell on the day before the test runs).
    const slow = pending.filter((c) => c.fingerprint.startsWith("metric:payment_"));
    expect(slow.map((c) => c.title)).toEqual([
      expect.stringMatching(
        /^payment_latency_ms rose \d+% at ([A-Z][a-z]{2} \d{1,2}, )?\d\d:\d\d UTC and on 2 more series, and payment_timeouts rose [\d.]+×$/,
      ),
    ]);
    expect(slow[0]?.summary).toMatch(
      /\n- payment_timeouts \(instance=api-2\): 41 where about [\d.]+ was expected/,
    );
    expect(slow[0]?.summary).toMatch(
      /^[\d.]+ where about [\d.]+ was expected \(instance=api-\d\)\.\nAt the same time, on 3 more series:\n- instance=api-\d: [^\n]+\n- instance=api-\d: /,
    );
    for (const instance of ["api-1", "api-2", "api-3"])
      expect(slow[0]?.summary).toContain(`instance=${instance}`);
    // The replay runs with no GITHUB_TOKEN: the CI card says why it quotes no log, and how to get it.
    const ci = pending.filter((c) => c.agent === "ci");
    expect(ci.length).toBeGreaterThan(0);
    for (const c of ci) {
      expect(c.summary).toContain("Flick reads a job's log with GITHUB_TOKEN, which is not set");
      expect(c.verification).toContainEqual(
        expect.objectContaining({ status: "skipped", detail: "not read: GITHUB_TOKEN is not set" }),
      );
    }
    // With no action mapped to them, a metric's cards propose an issue in the source's repository.
    // (The rollback card is whichever agent wrote it last: the metrics agent, here.)
    const metricCards = pending.filter((c) => c.agent === "metrics" && !c.fingerprint.startsWith("deploy:"));
    expect(metricCards.length).toBeGreaterThan(1);
    for (const c of metricCards)
      expect(c.change, c.title).toMatchObject({
        type: "github",
        operation: "create_issue",
        repository: "acme/ops",
      });
    // Attention is scarce: the deploy that broke checkout tops the feed, above the dozen customer
    // feedback clusters, the red CI job and the old alerts.
    const feed = await t.request<{ cards: { fingerprint: string; title: string }[] }>("/api/feed?limit=5", {
      cookie: admin,
    });
    expect(feed.body.cards[0]?.fingerprint, feed.body.cards.map((c) => c.title).join("\n")).toMatch(
      /^deploy:/,
    );
    // Fewer, better cards: thousands of signals, a few dozen cards at most.
    expect(pending.length).toBeLessThan(60);
    const parked = await t.database.db
      .select({ id: schema.signals.id })
      .from(schema.signals)
      .where(and(inArray(schema.signals.state, ["parked", "pending", "processing"])));
    expect(parked).toHaveLength(0);
  }, 120_000);
});
