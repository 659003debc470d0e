import { createHmac, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as schema from "@flick/server/schema";
import { wakeSnoozedCards } from "@flick/server/snooze";
import type { Action, Card, DecisionResult, ErrorBody, Execution, FeedPage, Mute } from "@flick/shared";
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { countRows, insertCard } from "../helpers/db.ts";
import { drivers, startTestApp, type TestApp } from "../helpers/harness.ts";
import { type RecordedRequest, startRecorder } from "../helpers/http-recorder.ts";

const key = () => `k-${randomUUID()}`;

describe.each(drivers)("decisions on %s", (driver) => {
  let t: TestApp;
  let admin: string;
  let rita: string;
  let hook: Awaited<ReturnType<typeof startRecorder>>;
  let hookAnswer = 200;
  let action: Action;

  beforeEach(async () => {
    t = await startTestApp(driver, { UNDO_WINDOW_SECONDS: "8" });
    admin = await t.setupAdmin();
    rita = await t.addUser(admin, "reviewer", "rita@example.com");
    hookAnswer = 200;
    hook = await startRecorder(() => ({ status: hookAnswer, body: { ok: hookAnswer === 200 } }));
    const made = await t.request<{ action: Action }>("/api/actions", {
      cookie: admin,
      json: {
        name: "rollback",
        url: `${hook.url}/rollback`,
        headers: { "x-api-key": "target-key" },
        bodyTemplate: '{"service": "{{params.service}}", "reason": "{{card.title}}"}',
      },
    });
    expect(made.status, made.text).toBe(201);
    action = made.body.action;
  });
  afterEach(async () => {
    await hook?.close();
    await t?.close();
  });

  const rollbackCard = () =>
    insertCard(t.database.db, {
      title: 'Checkout errors ×40 since deploy a1b2c3 — "roll back"?',
      change: { type: "webhook", action: "rollback", params: { service: "checkout" } },
    });
  const decideOn = (
    card: { id: string; version: number },
    cookie: string,
    body: Record<string, unknown> = {},
  ) =>
    t.request<DecisionResult & ErrorBody>(`/api/cards/${card.id}/decisions`, {
      cookie,
      json: { verdict: "accept", cardVersion: card.version, idempotencyKey: key(), ...body },
    });

  it("a dry run says what would fail now: a missing action, a missing GitHub token", async () => {
    const dry = (id: string) =>
      t.request<{ ok: boolean; error?: string }>(`/api/cards/${id}/dry-run`, {
        cookie: rita,
        method: "POST",
      });
    const ready = await rollbackCard();
    expect((await dry(ready.id)).body).toMatchObject({ ok: true });
    const unknown = await insertCard(t.database.db, {
      change: { type: "webhook", action: "restart", params: {} },
    });
    expect((await dry(unknown.id)).body).toMatchObject({ ok: false, error: 'no action named "restart"' });
    // This install has no GITHUB_TOKEN: every GitHub change would fail, and the dry run says so.
    const issue = await insertCard(t.database.db, {
      change: {
        type: "github",
        operation: "create_issue",
        repository: "acme/shop",
        params: { title: "Crash", body: "…" },
      },
    });
    expect((await dry(issue.id)).body).toMatchObject({
      ok: false,
      error: "GITHUB_TOKEN is not set, so Flick cannot act on GitHub",
    });
  });

  it("accepts, waits out the undo window, then calls the signed webhook once; the card ends applied", async () => {
    const card = await rollbackCard();
    const res = await decideOn(card, rita, { client: "phone" });
    expect(res.status, res.text).toBe(201);
    expect(res.body.card.status).toBe("accepted");
    expect(res.body.execution?.state).toBe("scheduled");
    expect(res.body.decision.undoableUntil).toBe(new Date(t.clock.now().getTime() + 8000).toISOString());

    const runner = t.executions();
    expect(await runner.runNext()).toBeNull();
    expect(hook.requests).toHaveLength(0);
    t.clock.advance(8_001);
    expect(await runner.runNext()).toMatchObject({ state: "succeeded" });
    expect(await runner.runNext()).toBeNull();

    expect(hook.requests).toHaveLength(1);
    const sent = hook.requests[0] as RecordedRequest;
    expect(sent.method).toBe("POST");
    expect(JSON.parse(sent.body)).toEqual({ service: "checkout", reason: card.title });
    expect(sent.headers["x-api-key"]).toBe("target-key");
    expect(sent.headers["idempotency-key"]).toBe(res.body.execution?.id);
    const ts = String(sent.headers["x-flick-timestamp"]);
    const expected = createHmac("sha256", action.secret).update(`${ts}.${sent.body}`).digest("hex");
    expect(sent.headers["x-flick-signature"]).toBe(`sha256=${expected}`);

    const after = await t.request<{ card: Card }>(`/api/cards/${card.id}`, { cookie: rita });
    expect(after.body.card.status).toBe("applied");
    const history = await t.request<{ executions: Execution[] }>(`/api/cards/${card.id}/history`, {
      cookie: rita,
    });
    expect(history.body.executions[0]).toMatchObject({ state: "succeeded", result: { status: 200 } });

    const late = await t.request<ErrorBody>(`/api/decisions/${res.body.decision.id}/undo`, {
      cookie: rita,
      json: {},
    });
    expect(late.status, late.text).toBe(409);
    expect(late.body.error.message).toContain("the change was applied");
  });

  it("keeps the start of a hook's answer that never ends, without waiting for its end", async () => {
    // A hook that answers 200 and then streams its progress for as long as the job runs.
    const streaming = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("rollback started: checkout v41 → v40\n");
      const tick = setInterval(() => res.write(`${"still rolling back… ".repeat(50)}\n`), 5);
      res.on("close", () => clearInterval(tick));
    });
    await new Promise<void>((resolve) => streaming.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = streaming.address() as AddressInfo;
      const made = await t.request<{ action: Action }>("/api/actions", {
        cookie: admin,
        json: { name: "slow-rollback", url: `http://127.0.0.1:${port}/rollback`, timeoutMs: 30_000 },
      });
      expect(made.status, made.text).toBe(201);
      const card = await insertCard(t.database.db, {
        change: { type: "webhook", action: "slow-rollback", params: {} },
      });
      expect((await decideOn(card, rita)).status).toBe(201);
      t.clock.advance(8_001);
      expect(await t.executions().runNext()).toMatchObject({ state: "succeeded" });
      const history = await t.request<{ executions: Execution[] }>(`/api/cards/${card.id}/history`, {
        cookie: rita,
      });
      const result = history.body.executions[0]?.result as { status: number; response: string };
      expect(result.status).toBe(200);
      expect(result.response.startsWith("rollback started: checkout v41 → v40\nstill rolling back… ")).toBe(
        true,
      );
      expect(result.response.length).toBe(2000);
    } finally {
      streaming.closeAllConnections();
      await new Promise((resolve) => streaming.close(resolve));
    }
  });

  it("undo inside the window cancels the execution and puts the card back in the feed", async () => {
    const card = await rollbackCard();
    const res = await decideOn(card, rita);
    const feedDuring = await t.request<FeedPage>("/api/feed", { cookie: rita });
    expect(feedDuring.body.cards.map((c) => c.id)).not.toContain(card.id);
    t.clock.advance(5_000);
    const undo = await t.request<DecisionResult>(`/api/decisions/${res.body.decision.id}/undo`, {
      cookie: rita,
      json: {},
    });
    expect(undo.status, undo.text).toBe(200);
    expect(undo.body.card).toMatchObject({ status: "pending", version: card.version + 2 });
    expect(undo.body.execution?.state).toBe("cancelled");
    t.clock.advance(60_000);
    expect(await t.executions().runNext()).toBeNull();
    expect(hook.requests).toHaveLength(0);
    const feed = await t.request<FeedPage>("/api/feed", { cookie: rita });
    expect(feed.body.cards.map((c) => c.id)).toContain(card.id);
    // The same undo again changes nothing.
    const again = await t.request<DecisionResult>(`/api/decisions/${res.body.decision.id}/undo`, {
      cookie: rita,
      json: {},
    });
    expect(again.status).toBe(200);
    expect(again.body.decision.id).toBe(undo.body.decision.id);
  });

  it("lets exactly one of two people deciding at once win; the other learns who decided", async () => {
    const card = await rollbackCard();
    const [a, b] = await Promise.all([decideOn(card, rita), decideOn(card, admin, { verdict: "reject" })]);
    const statuses = [a.status, b.status].sort();
    expect(statuses, `${a.text} / ${b.text}`).toEqual([201, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.body.error.message).toMatch(
      /^(Ada Admin|rita@example\.com) already (accepted|rejected) this card \([A-Z][a-z]{2} \d{1,2}, \d\d:\d\d UTC\)\.$/,
    );
    expect(await countRows(t.database.db, "decision")).toBe(1);
    expect(await countRows(t.database.db, "execution")).toBeLessThanOrEqual(1);
  });

  it("answers 409 to a decision on a version the person did not see", async () => {
    const card = await rollbackCard();
    await t.database.db
      .update(schema.cards)
      .set({ version: card.version + 1 })
      .where(eq(schema.cards.id, card.id));
    const res = await decideOn(card, rita);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toContain(`version ${card.version}, now ${card.version + 1}`);
    expect(await countRows(t.database.db, "decision")).toBe(0);
  });

  it("replays the same idempotency key with the first result and does nothing twice", async () => {
    const card = await rollbackCard();
    const body = { verdict: "accept", cardVersion: card.version, idempotencyKey: "offline-queue-entry-1" };
    const first = await t.request<DecisionResult>(`/api/cards/${card.id}/decisions`, {
      cookie: rita,
      json: body,
    });
    const replays = await Promise.all(
      [1, 2, 3].map(() =>
        t.request<DecisionResult>(`/api/cards/${card.id}/decisions`, { cookie: rita, json: body }),
      ),
    );
    expect(first.status).toBe(201);
    for (const r of replays) {
      expect(r.status, r.text).toBe(200);
      expect(r.body.decision.id).toBe(first.body.decision.id);
    }
    expect(await countRows(t.database.db, "decision")).toBe(1);
    expect(await countRows(t.database.db, "execution")).toBe(1);
  });

  it("rejects with a reason, muting the fingerprint for the team until unmuted", async () => {
    const card = await insertCard(t.database.db, { fingerprint: "webhook:noisy" });
    const res = await decideOn(card, rita, {
      verdict: "reject",
      reason: "not_important",
      note: "flaky alert",
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.card.status).toBe("rejected");
    expect(res.body.execution).toBeNull();
    const mutes = await t.request<{ mutes: Mute[] }>("/api/mutes", { cookie: rita });
    expect(mutes.body.mutes).toHaveLength(1);
    expect(mutes.body.mutes[0]).toMatchObject({
      fingerprint: "webhook:noisy",
      reason: "not_important: flaky alert",
    });
    expect(new Date(mutes.body.mutes[0]?.until ?? "").getTime() - t.clock.now().getTime()).toBe(
      t.config.MUTE_HOURS * 3600_000,
    );
    const unmute = await t.request(`/api/mutes/${mutes.body.mutes[0]?.id}`, {
      cookie: rita,
      method: "DELETE",
    });
    expect(unmute.status).toBe(200);
    expect((await t.request<{ mutes: Mute[] }>("/api/mutes", { cookie: rita })).body.mutes).toHaveLength(0);
  });

  it("keeps a rejected proposal quiet when the same signal comes again, even from an agent that calls it new", async () => {
    const { defineAgent } = await import("@flick/server/agents");
    const reopening = defineAgent({
      name: "reopening",
      reads: ["webhook"],
      run: (_ctx, batch) =>
        batch.map((s) => ({
          fingerprint: s.fingerprint,
          kind: "insight" as const,
          title: "Disk almost full",
          priority: 0.5,
          evidence: { signalIds: [s.id], firstSeen: s.occurredAt, lastSeen: s.occurredAt },
          reopen: true,
        })),
    });
    const source = await t.createSource(admin, "webhook", { idPath: "$.id", fingerprintPath: "$.topic" });
    const send = (id: string) =>
      t.request(`/ingest/${source.id}`, {
        json: { id, topic: "disk" },
        origin: null,
        headers: { authorization: `Bearer ${source.secret}` },
      });
    const runtime = t.runtime([reopening]);
    await send("1");
    await t.drain(runtime);
    const [card] = await t.database.db.select().from(schema.cards);
    if (!card) throw new Error("no card");
    expect((await decideOn(card, rita, { verdict: "reject", reason: "not_important" })).status).toBe(201);
    await send("2");
    await t.drain(runtime);
    expect(await countRows(t.database.db, "card")).toBe(1);
    // Snoozed instead: new evidence brings it straight back.
    const mutes = await t.request<{ mutes: Mute[] }>("/api/mutes", { cookie: rita });
    await t.request(`/api/mutes/${mutes.body.mutes[0]?.id}`, { cookie: rita, method: "DELETE" });
    await send("3");
    await t.drain(runtime);
    const open = (await t.database.db.select().from(schema.cards)).find((c) => c.status === "pending");
    if (!open) throw new Error("no reopened card");
    const until = new Date(t.clock.now().getTime() + 86400_000).toISOString();
    expect((await decideOn(open, rita, { verdict: "snooze", snoozeUntil: until })).status).toBe(201);
    await send("4");
    await t.drain(runtime);
    const [woken] = await t.database.db.select().from(schema.cards).where(eq(schema.cards.id, open.id));
    expect(woken?.status).toBe("pending");
  });

  it("snoozes a card out of the feed until its time comes", async () => {
    const card = await rollbackCard();
    const until = new Date(t.clock.now().getTime() + 3600_000).toISOString();
    const res = await decideOn(card, rita, { verdict: "snooze", snoozeUntil: until });
    expect(res.status, res.text).toBe(201);
    expect(res.body.card).toMatchObject({ status: "snoozed", snoozedUntil: until });
    expect(await wakeSnoozedCards(t.database.db, t.clock.now())).toBe(0);
    t.clock.advance(3600_001);
    expect(await wakeSnoozedCards(t.database.db, t.clock.now())).toBe(1);
    const feed = await t.request<FeedPage>("/api/feed", { cookie: rita });
    expect(feed.body.cards.map((c) => c.id)).toContain(card.id);

    const noTime = await decideOn({ id: card.id, version: card.version + 2 }, rita, { verdict: "snooze" });
    expect(noTime.status).toBe(400);
    expect(noTime.body.error.message).toMatch(/^snoozeUntil: /);
    const past = await decideOn({ id: card.id, version: card.version + 2 }, rita, {
      verdict: "snooze",
      snoozeUntil: "2020-01-01T00:00:00Z",
    });
    expect(past.status).toBe(400);
  });

  it("retries a failing webhook with backoff, fails the card after the last attempt, and retries on request", async () => {
    hookAnswer = 503;
    const card = await rollbackCard();
    await decideOn(card, rita);
    const runner = t.executions();
    t.clock.advance(8_001);
    expect(await runner.runNext()).toMatchObject({ state: "scheduled" });
    expect(await runner.runNext()).toBeNull();
    t.clock.advance(10 * 60_000);
    expect(await runner.runNext()).toMatchObject({ state: "scheduled" });
    t.clock.advance(10 * 60_000);
    const last = await runner.runNext();
    expect(last?.state).toBe("failed");
    expect(last?.error).toContain("answered 503");
    // The action named, at its host: not its address, whose path may hold a secret.
    expect(last?.error).toMatch(/^the "rollback" action at 127\.0\.0\.1:\d+ answered 503/);
    expect(last?.error).not.toContain("/rollback");
    expect(hook.requests).toHaveLength(3);
    // Every attempt of one execution carries the same idempotency key.
    expect(new Set(hook.requests.map((r) => r.headers["idempotency-key"])).size).toBe(1);
    const failed = await t.request<{ card: Card }>(`/api/cards/${card.id}`, { cookie: rita });
    expect(failed.body.card.status).toBe("failed");
    // The card says why (the last attempt's error).
    expect(failed.body.card.evidence.outcome?.text).toContain("answered 503");

    hookAnswer = 200;
    const retry = await t.request<{ execution: Execution }>(`/api/executions/${last?.id}/retry`, {
      cookie: rita,
      method: "POST",
    });
    expect(retry.status, retry.text).toBe(200);
    expect(await runner.runNext()).toMatchObject({ state: "succeeded" });
    const applied = (await t.request<{ card: Card }>(`/api/cards/${card.id}`, { cookie: rita })).body.card;
    expect(applied.status).toBe("applied");
    // What was done now, not why it failed before.
    expect(applied.evidence.outcome).toEqual({ text: 'the "rollback" action answered 200' });
    const twice = await t.request<ErrorBody>(`/api/executions/${last?.id}/retry`, {
      cookie: rita,
      method: "POST",
    });
    expect(twice.status).toBe(409);
  });

  it("fails at once on a 4xx from the target, without retrying", async () => {
    hookAnswer = 422;
    const card = await rollbackCard();
    await decideOn(card, rita);
    t.clock.advance(8_001);
    expect(await t.executions().runNext()).toMatchObject({ state: "failed" });
    expect(hook.requests).toHaveLength(1);
  });

  it("recovers a crash between decision and execution: a resumable call runs once more with the same key", async () => {
    const card = await rollbackCard();
    const res = await decideOn(card, rita);
    // A process claimed the execution and died before finishing.
    await t.database.db
      .update(schema.executions)
      .set({
        state: "running",
        attempts: 1,
        leaseUntil: new Date(t.clock.now().getTime() + 1000),
        claimToken: "dead",
      })
      .where(eq(schema.executions.id, res.body.execution?.id ?? ""));
    const runner = t.executions();
    expect(await runner.runNext()).toBeNull();
    t.clock.advance(10_000);
    expect(await runner.runNext()).toMatchObject({ state: "succeeded" });
    expect(hook.requests).toHaveLength(1);
    expect(hook.requests[0]?.headers["idempotency-key"]).toBe(res.body.execution?.id);
  });

  it("refuses to re-run an interrupted call that is not safe to repeat, and says so", async () => {
    const card = await insertCard(t.database.db, {
      change: { type: "github", operation: "create_issue", repository: "acme/shop", params: { title: "x" } },
    });
    const res = await decideOn(card, rita);
    await t.database.db
      .update(schema.executions)
      .set({
        state: "running",
        attempts: 1,
        leaseUntil: new Date(t.clock.now().getTime() - 1000),
        claimToken: "dead",
      })
      .where(eq(schema.executions.id, res.body.execution?.id ?? ""));
    const report = await t.executions().runNext();
    expect(report?.state).toBe("failed");
    expect(report?.error).toContain("may have partly happened");
  });

  it("keeps decisions to signed-in people, undo to the decider or an admin, and the audit log to admins", async () => {
    const card = await rollbackCard();
    const anon = await t.request("/api/cards/x/decisions", {
      json: { verdict: "accept", cardVersion: 1, idempotencyKey: key() },
    });
    expect(anon.status).toBe(401);
    const res = await decideOn(card, rita);
    const sam = await t.addUser(admin, "reviewer", "sam@example.com");
    const notYours = await t.request<ErrorBody>(`/api/decisions/${res.body.decision.id}/undo`, {
      cookie: sam,
      json: {},
    });
    expect(notYours.status).toBe(403);
    expect((await t.request("/api/audit", { cookie: rita })).status).toBe(403);
    const audit = await t.request<{
      decisions: { verdict: string; userName: string; client: string | null }[];
    }>("/api/audit?verdict=accept", { cookie: admin });
    expect(audit.status, audit.text).toBe(200);
    expect(audit.body.decisions).toEqual([
      expect.objectContaining({ verdict: "accept", userName: "rita@example.com" }),
    ]);
    const bad = await t.request<ErrorBody>("/api/audit?since=yesterday", { cookie: admin });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^since: /);
    const badBody = await t.request<ErrorBody>(`/api/cards/${card.id}/decisions`, {
      cookie: rita,
      json: { verdict: "maybe", cardVersion: 1, idempotencyKey: key() },
    });
    expect(badBody.status).toBe(400);
    expect(badBody.body.error.message).toMatch(/^verdict: /);
  });
});
