import { createHmac, randomUUID } from "node:crypto";
import * as schema from "@flick/server/schema";
import {
  ACCEPT_RATE_DECISIONS,
  type Card,
  type DecisionResult,
  type Execution,
  isDemoCard,
  type Source,
} from "@flick/shared";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drivers, startTestApp, type TestApp } from "../helpers/harness.ts";
import { startRecorder } from "../helpers/http-recorder.ts";

/**
 * "Replay sample signals" on an empty install: the demo sources get a day of a small shop's
 * signals through their own ingest checks, and the built-in agents make the cards. Accepting one
 * rehearses its change, even with a GitHub token that could carry it out (GitHub is a local
 * recorder here, speaking its REST routes).
 */
describe.each(drivers)("sample signals through the real agents on %s", (driver) => {
  let t: TestApp;
  let github: Awaited<ReturnType<typeof startRecorder>>;
  let admin: string;
  beforeAll(async () => {
    github = await startRecorder(() => ({ status: 200, body: { merged: true, sha: "abc" } }));
    t = await startTestApp(driver, { GITHUB_API_URL: github.url, GITHUB_TOKEN: "ghp_test" });
    admin = await t.setupAdmin();
  });
  afterAll(async () => {
    await t?.close();
    await github?.close();
  });

  const feed = async () =>
    (await t.request<{ cards: Card[] }>("/api/feed?limit=50", { cookie: admin })).body.cards;
  const replay = () =>
    t.request<{ loaded: boolean; sources: string[]; signals: number }>("/api/admin/demo/signals", {
      cookie: admin,
      method: "POST",
    });

  it("makes the agents' own cards from the samples, once", async () => {
    // A replay cut short after its first source was made: the next one goes on from there.
    await t.database.db.insert(schema.sources).values({
      id: "source_interrupted",
      kind: "github",
      name: "Demo GitHub",
      secret: "s".repeat(32),
      demo: true,
      createdAt: t.clock.now(),
      updatedAt: t.clock.now(),
    });
    const res = await replay();
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({
      loaded: true,
      sources: ["Demo GitHub", "Demo Sentry", "Demo metrics", "Demo feedback"],
    });
    // Two days of five-minute points for five series, and the rest.
    expect(res.body.signals).toBeGreaterThan(5 * 576);
    await t.drain();
    const cards = await feed();
    // One card per story, ranked: the deploy that broke signup first.
    expect(cards.map((c) => [c.agent, c.title])).toEqual([
      [
        "errors",
        expect.stringMatching(
          /^New TypeError ×7 \(7 users\) and signup_success dropped \d+% \d+ min after push c0ffee4 — roll back\?$/,
        ),
      ],
      [
        "metrics",
        expect.stringMatching(
          /^payment_latency_ms rose \d+% at \d\d:\d\d UTC and on 2 more series, and payment_timeouts rose [\d.]+×$/,
        ),
      ],
      ["prs", "Merge #57: Bump zod from 4.1.11 to 4.1.12"],
      ["feedback", '6 customers asked for "dark mode" this week'],
    ]);
    // The rollback: no "rollback" action is set up, so reverting the commit that preceded it.
    expect(cards[0]?.change).toMatchObject({
      type: "github",
      operation: "revert_commit",
      repository: "acme/shop",
      params: { sha: "c0ffee4d3c2b1a09f8e7d6c5b4a39281706f5e4d" },
    });
    // The reviews that said nothing to act on, and the three one-off troubles, made no card.
    for (const c of cards) expect(c.evidence.demo, c.title).toBe(true);
    const sources = (await t.request<{ sources: Source[] }>("/api/sources", { cookie: admin })).body.sources;
    expect(sources.map((s) => [s.name, s.demo])).toEqual(res.body.sources.map((n) => [n, true]));
    expect(sources[0]?.id).toBe("source_interrupted");

    // A second press sends nothing again: the demo sources are there.
    const again = await replay();
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ loaded: false, signals: 0 });
    await t.drain();
    expect((await feed()).map((c) => c.id)).toEqual(cards.map((c) => c.id));
  }, 60_000);

  it("rehearses every sample card's accept; a real source's card is carried out", async () => {
    const made = await t.request("/api/actions", {
      cookie: admin,
      json: { name: "rollback", url: `${github.url}/rollback` },
    });
    expect(made.status, made.text).toBe(201);
    const cards = await feed();
    expect(cards).toHaveLength(4);
    for (const card of cards) {
      const res = await t.request<DecisionResult>(`/api/cards/${card.id}/decisions`, {
        cookie: admin,
        json: { verdict: "accept", cardVersion: card.version, idempotencyKey: `k-${randomUUID()}` },
      });
      expect(res.status, res.text).toBe(201);
      expect(res.body.execution?.dryRun, card.title).toBe(true);
    }
    t.clock.advance(60_000);
    const runner = t.executions();
    while ((await runner.runNext()) !== null) {
      // until nothing is due
    }
    for (const card of cards) {
      const history = await t.request<{ executions: Execution[] }>(`/api/cards/${card.id}/history`, {
        cookie: admin,
      });
      expect(history.body.executions[0], card.title).toMatchObject({
        state: "succeeded",
        dryRun: true,
        result: { rehearsal: true },
      });
    }
    expect(github.requests).toEqual([]);

    // The same kind of card from a source that is not a demo one: merged for real.
    const { body } = await t.request<{ source: Source }>("/api/sources", {
      cookie: admin,
      json: { kind: "github", name: "Shop repo" },
    });
    const send = async (event: string, payload: unknown) => {
      const raw = JSON.stringify(payload);
      const res = await t.request(`/ingest/${body.source.id}`, {
        body: raw,
        origin: null,
        headers: {
          "content-type": "application/json",
          "x-github-event": event,
          "x-github-delivery": randomUUID(),
          "x-hub-signature-256": `sha256=${createHmac("sha256", body.source.secret).update(raw).digest("hex")}`,
        },
      });
      expect(res.status, res.text).toBe(202);
    };
    const repository = { full_name: "acme/real", default_branch: "main" };
    const sha = "1234567890abcdef1234567890abcdef12345678";
    await send("pull_request", {
      action: "opened",
      number: 3,
      repository,
      pull_request: {
        number: 3,
        title: "Bump hono from 4.13.1 to 4.13.2",
        state: "open",
        user: { login: "dependabot[bot]", type: "Bot" },
        head: { sha },
      },
    });
    await send("check_run", {
      action: "completed",
      repository,
      check_run: {
        id: 1,
        name: "test",
        head_sha: sha,
        status: "completed",
        conclusion: "success",
        pull_requests: [{ number: 3 }],
      },
    });
    await t.drain();
    const real = (await feed()).find((c) => c.title.startsWith("Merge #3"));
    expect(real?.evidence.demo).toBeUndefined();
    // The four demo cards accepted above are not the team's record: no decisions behind its rank.
    expect(real?.priorityFactors).toMatchObject({ acceptRate: 0.5, [ACCEPT_RATE_DECISIONS]: 0 });
    const res = await t.request<DecisionResult>(`/api/cards/${real?.id}/decisions`, {
      cookie: admin,
      json: { verdict: "accept", cardVersion: real?.version, idempotencyKey: `k-${randomUUID()}` },
    });
    expect(res.body.execution?.dryRun).toBe(false);
    t.clock.advance(60_000);
    await t.executions().runNext();
    expect(github.requests.map((r) => `${r.method} ${r.path}`)).toContain(
      "PUT /repos/acme/real/pulls/3/merge",
    );
  }, 60_000);
});

describe.each(drivers)("sample signals beside a team's own source of the same name on %s", (driver) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(driver);
  });
  afterAll(async () => t?.close());

  it("refuses, naming the source, and makes none of the demo sources", async () => {
    const admin = await t.setupAdmin();
    const own = await t.request("/api/sources", {
      cookie: admin,
      json: { kind: "metrics", name: "Demo metrics" },
    });
    expect(own.status, own.text).toBe(201);
    const res = await t.request<{ error: { message: string } }>("/api/admin/demo/signals", {
      cookie: admin,
      method: "POST",
    });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toBe('a source named "Demo metrics" already exists');
    const { body } = await t.request<{ sources: Source[] }>("/api/sources", { cookie: admin });
    expect(body.sources.map((s) => [s.name, s.demo])).toEqual([["Demo metrics", false]]);
    const signals = await t.database.db.select({ id: schema.signals.id }).from(schema.signals);
    expect(signals).toEqual([]);
  });
});

describe.each(drivers)("removing demo data on %s", (driver) => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startTestApp(driver);
    admin = await t.setupAdmin();
  });
  afterAll(async () => t?.close());

  it("deletes the demo sources and withdraws the demo cards waiting; a team's own stay", async () => {
    const { body: own } = await t.request<{ source: Source }>("/api/sources", {
      cookie: admin,
      json: { kind: "metrics", name: "Production metrics" },
    });
    expect((await t.request("/api/admin/demo/signals", { cookie: admin, method: "POST" })).status).toBe(201);
    expect((await t.request("/api/admin/demo", { cookie: admin, method: "POST" })).status).toBe(201);
    // The team's own card (a test signal from its source), waiting too.
    expect(
      (await t.request(`/api/sources/${own.source.id}/test`, { cookie: admin, method: "POST" })).status,
    ).toBe(202);
    await t.drain();
    const before = (await t.request<{ cards: Card[] }>("/api/feed?limit=50", { cookie: admin })).body.cards;
    expect(before).toHaveLength(9);

    const res = await t.request<{ sources: number; cards: number }>("/api/admin/demo", {
      cookie: admin,
      method: "DELETE",
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ sources: 4, cards: 8 });
    const after = (await t.request<{ cards: Card[] }>("/api/feed?limit=50", { cookie: admin })).body.cards;
    expect(after.map((c) => c.id)).toEqual(before.filter((c) => !isDemoCard(c)).map((c) => c.id));
    expect(after).toHaveLength(1);
    const { body } = await t.request<{ sources: Source[] }>("/api/sources", { cookie: admin });
    expect(body.sources.map((s) => s.name)).toEqual(["Production metrics"]);
    const left = await t.database.db.select({ source: schema.signals.sourceId }).from(schema.signals);
    expect(new Set(left.map((s) => s.source))).toEqual(new Set([own.source.id]));
    // Withdrawn, not deleted: each is in the history as such, and open feeds were told.
    const withdrawn = await t.request<{ cards: Card[] }>("/api/feed?status=expired&limit=50", {
      cookie: admin,
    });
    expect(withdrawn.body.cards).toHaveLength(8);
    const told = await t.database.db
      .select({ cardId: schema.cardEvents.cardId })
      .from(schema.cardEvents)
      .where(eq(schema.cardEvents.type, "card.removed"));
    expect(new Set(told.map((e) => e.cardId))).toEqual(new Set(withdrawn.body.cards.map((c) => c.id)));

    const again = await t.request("/api/admin/demo", { cookie: admin, method: "DELETE" });
    expect(again.body).toEqual({ sources: 0, cards: 0 });
  });

  it("forgets what the agents learned from the samples, and the mutes its rejects made: a later replay tells the same stories", async () => {
    const demoCards = async () =>
      (await t.request<{ cards: Card[] }>("/api/feed?limit=50", { cookie: admin })).body.cards.filter(
        isDemoCard,
      );
    const titles = async () => (await demoCards()).map((c) => c.title.replace(/\d+/g, "#"));
    t.clock.advance(3_600_000);
    expect((await t.request("/api/admin/demo/signals", { cookie: admin, method: "POST" })).status).toBe(201);
    await t.drain();
    const first = await titles();
    expect(first).toHaveLength(4);
    // Someone tried a reject: the merge card's fingerprint is muted for the team.
    const merge = (await demoCards()).find((c) => c.agent === "prs");
    const rejected = await t.request(`/api/cards/${merge?.id}/decisions`, {
      cookie: admin,
      json: { verdict: "reject", cardVersion: merge?.version, idempotencyKey: "k-demo-reject" },
    });
    expect(rejected.status, rejected.text).toBe(201);
    const muted = await t.database.db.select({ fingerprint: schema.mutes.fingerprint }).from(schema.mutes);
    expect(muted.map((m) => m.fingerprint)).toContain(merge?.fingerprint);
    await t.request("/api/admin/demo", { cookie: admin, method: "DELETE" });
    expect(await t.database.db.select().from(schema.mutes)).toEqual([]);
    t.clock.advance(3_600_000);
    expect((await t.request("/api/admin/demo/signals", { cookie: admin, method: "POST" })).status).toBe(201);
    await t.drain();
    expect(await titles()).toEqual(first);
  });
});

describe.each(drivers)("sample signals beside a team's own on %s", (driver) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(driver);
  });
  afterAll(async () => t?.close());

  it("a team's error minutes after the sample deploy is its own card, not the demo's rollback", async () => {
    const admin = await t.setupAdmin();
    const { body } = await t.request<{ source: Source }>("/api/sources", {
      cookie: admin,
      json: { kind: "sentry", name: "Production Sentry" },
    });
    expect((await t.request("/api/admin/demo/signals", { cookie: admin, method: "POST" })).status).toBe(201);
    await t.drain();
    // The sample deploy was 20 minutes ago: well inside the half hour a deploy takes blame for.
    const res = await t.request(`/api/${new URL(body.source.sentryDsn ?? "").pathname.slice(1)}/store/`, {
      origin: null,
      json: {
        event_id: "0123456789abcdef0123456789abcdef",
        timestamp: t.clock.now().toISOString(),
        platform: "python",
        level: "error",
        exception: {
          values: [
            {
              type: "KeyError",
              value: "'invoice_id'",
              stacktrace: {
                frames: [{ function: "bill", filename: "billing/run.py", lineno: 7, in_app: true }],
              },
            },
          ],
        },
      },
      headers: { "x-sentry-auth": `Sentry sentry_key=${body.source.secret}` },
    });
    expect(res.status, res.text).toBe(202);
    await t.drain();
    const cards = (await t.request<{ cards: Card[] }>("/api/feed?limit=50", { cookie: admin })).body.cards;
    const own = cards.filter((c) => !isDemoCard(c));
    expect(own.map((c) => c.title)).toEqual(["New error: KeyError: 'invoice_id'"]);
    const rollback = cards.find((c) => c.fingerprint.startsWith("deploy:"));
    expect(rollback?.title).toMatch(/^New TypeError ×7 \(7 users\) and signup_success dropped/);
    expect(rollback?.summary).not.toContain("KeyError");
  });
});
