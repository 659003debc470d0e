import {
  type CardUpsert,
  defineAgent,
  NonRetryableError,
  outcome,
  type SignalRow,
} from "@flick/server/agents";
import * as schema from "@flick/server/schema";
import type { DeadLetter, ErrorBody, FeedPage, Source } from "@flick/shared";
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { countRows } from "../helpers/db.ts";
import { drivers, ingestInto, startTestApp, type TestApp } from "../helpers/harness.ts";
import { until } from "../helpers/until.ts";

/** A test agent: one insight card per fingerprint; `behaviour` decides per signal what goes wrong. */
function agent(
  behaviour: (s: SignalRow) => "ok" | "throw" | "fatal" | Promise<void> = () => "ok",
  reopen = false,
) {
  return defineAgent({
    name: "probe",
    reads: ["webhook"],
    async run(_ctx, batch) {
      const out: CardUpsert[] = [];
      for (const s of batch) {
        const b = behaviour(s);
        if (b === "throw") throw new Error(`cannot handle ${s.externalId}`);
        if (b === "fatal") throw new NonRetryableError(`never handle ${s.externalId}`);
        if (b instanceof Promise) await b;
        out.push({
          fingerprint: s.fingerprint,
          kind: "insight",
          title: `About ${s.fingerprint}`,
          priority: 0.5,
          evidence: { signalIds: [s.id], firstSeen: s.occurredAt, lastSeen: s.occurredAt },
          reopen,
        });
      }
      return out;
    },
  });
}

describe.each(drivers)("agent runtime on %s", (driver) => {
  let t: TestApp;
  let admin: string;
  let hook: Source;

  beforeEach(async () => {
    t = await startTestApp(driver);
    admin = await t.setupAdmin();
    hook = await t.createSource(admin, "webhook", {
      idPath: "$.id",
      fingerprintPath: "$.topic",
      titlePath: "$.title",
    });
  });
  afterEach(async () => t?.close());

  const send = (items: Record<string, unknown>[]) => ingestInto(t, hook, items);
  const cardsOf = () => t.database.db.select().from(schema.cards);

  it("turns signals into one card per fingerprint with the evidence merged, and shows it in the feed", async () => {
    await send([
      { id: "1", topic: "disk", title: "Disk almost full on db-1" },
      { id: "2", topic: "disk", title: "Disk almost full on db-1" },
      { id: "3", topic: "cpu", title: "CPU pegged" },
    ]);
    expect(await t.drain()).toBe(3);
    const cards = await cardsOf();
    expect(cards.map((c) => c.title).sort()).toEqual(["CPU pegged", "Disk almost full on db-1"]);
    const disk = cards.find((c) => c.title.startsWith("Disk"));
    expect(disk?.evidence).toMatchObject({ count: 2 });
    expect(disk?.agent).toBe("webhook");

    await send([{ id: "4", topic: "disk", title: "Disk almost full on db-1" }]);
    await t.drain();
    const [again] = await t.database.db
      .select()
      .from(schema.cards)
      .where(eq(schema.cards.id, disk?.id ?? ""));
    expect(again?.version).toBe(2);
    expect(again?.evidence).toMatchObject({ count: 3 });
    expect(await countRows(t.database.db, "card")).toBe(2);

    const feed = await t.request<FeedPage>("/api/feed", { cookie: admin });
    expect(feed.status, feed.text).toBe(200);
    expect(feed.body.cards).toHaveLength(2);
    const states = await t.database.db.select({ state: schema.signals.state }).from(schema.signals);
    expect(states.every((s) => s.state === "done")).toBe(true);
  });

  it("hands the signals of one request to the agents in the order they were sent, across batches", async () => {
    // Before ids rose within a millisecond, a batch was any 200 of the request's 1,000 signals,
    // and an agent that keeps time order (the metric detector) threw the late ones away.
    const seen: string[] = [];
    const runtime = t.runtime(
      [
        agent((s) => {
          seen.push(s.externalId);
          return "ok";
        }),
      ],
      { batchSize: 200 },
    );
    const ids = Array.from({ length: 1000 }, (_, i) => `p${String(i).padStart(4, "0")}`);
    await send(ids.map((id) => ({ id, topic: "order", title: id })));
    await t.drain(runtime);
    expect(seen).toEqual(ids);
  });

  it("lets another worker take over a crashed worker's batch after the lease, processing it exactly once", async () => {
    await send([{ id: "only", topic: "x", title: "X" }]);
    let release: () => void = () => {};
    const stuck = new Promise<void>((resolve) => {
      release = resolve;
    });
    const crashed = t.runtime([agent(() => stuck)], { leaseSeconds: 30 });
    const healthy = t.runtime([agent()], { leaseSeconds: 30 });

    const first = crashed.processBatch();
    await expect
      .poll(async () => (await t.database.db.select().from(schema.signals))[0]?.state)
      .toBe("processing");
    // Within the lease nobody else may touch it.
    expect((await healthy.processBatch()).claimed).toBe(0);
    t.clock.advance(31_000);
    const second = await healthy.processBatch();
    expect(second).toMatchObject({ claimed: 1, done: 1, cardsCreated: 1 });
    // The "crashed" worker wakes up late: its commit is refused, nothing is written twice.
    release();
    expect((await first).lostLease).toBe(true);
    const cards = await cardsOf();
    expect(cards).toHaveLength(1);
    expect(cards[0]?.evidence).toMatchObject({ count: 1 });
    expect(cards[0]?.version).toBe(1);
    const [signal] = await t.database.db.select().from(schema.signals);
    expect(signal?.attempts).toBe(2);
    expect(signal?.processedBy).toBe(healthy.workerId);
  });

  it("backs off failing signals, parks them after the last attempt, and lets an admin retry them", async () => {
    await send([
      { id: "good", topic: "g", title: "Good" },
      { id: "bad", topic: "b", title: "Bad" },
    ]);
    let broken = true;
    const runtime = t.runtime([agent((s) => (broken && s.externalId === "bad" ? "throw" : "ok"))], {
      maxAttempts: 3,
    });
    const report = await runtime.processBatch();
    // The good signal goes through even though it shared a batch with the bad one.
    expect(report).toMatchObject({ claimed: 2, done: 1, failed: 1, cardsCreated: 1 });
    expect((await runtime.processBatch()).claimed).toBe(0);
    for (let i = 0; i < 2; i++) {
      t.clock.advance(10 * 60_000);
      await runtime.processBatch();
    }
    const [bad] = await t.database.db
      .select()
      .from(schema.signals)
      .where(eq(schema.signals.externalId, "bad"));
    expect(bad?.state).toBe("parked");
    expect(bad?.lastError).toContain("cannot handle bad");

    const list = await t.request<{ signals: DeadLetter[] }>("/api/admin/dead-letters", { cookie: admin });
    expect(list.status, list.text).toBe(200);
    expect(list.body.signals.map((s) => s.externalId)).toEqual(["bad"]);
    const reviewer = await t.addUser(admin, "reviewer", "r@example.com");
    expect((await t.request("/api/admin/dead-letters", { cookie: reviewer })).status).toBe(403);

    broken = false;
    const retry = await t.request(`/api/admin/dead-letters/${bad?.id}/retry`, {
      cookie: admin,
      method: "POST",
    });
    expect(retry.status, retry.text).toBe(200);
    expect((await runtime.processBatch()).done).toBe(1);
    expect(await countRows(t.database.db, "card")).toBe(2);
    const again = await t.request<ErrorBody>(`/api/admin/dead-letters/${bad?.id}/retry`, {
      cookie: admin,
      method: "POST",
    });
    expect(again.status).toBe(404);
  });

  it("parks a signal at once on a non-retryable error", async () => {
    await send([{ id: "poison", topic: "p", title: "P" }]);
    const report = await t.runtime([agent(() => "fatal")]).processBatch();
    expect(report.parked).toBe(1);
  });

  it("makes no card for a muted fingerprint, and none for a decided one unless the agent says it is new", async () => {
    await t.database.db.insert(schema.mutes).values({
      id: "mut_test",
      fingerprint: `webhook:${hook.id}:muted`,
      until: new Date(t.clock.now().getTime() + 3600_000),
    });
    await send([{ id: "m1", topic: "muted", title: "Muted" }]);
    await t.drain(t.runtime([agent()]));
    expect(await countRows(t.database.db, "card")).toBe(0);

    await send([{ id: "d1", topic: "decided", title: "D" }]);
    await t.drain(t.runtime([agent()]));
    await t.database.db.update(schema.cards).set({ status: "rejected" });
    await send([{ id: "d2", topic: "decided", title: "D" }]);
    await t.drain(t.runtime([agent()]));
    expect(await countRows(t.database.db, "card")).toBe(1);
    await send([{ id: "d3", topic: "decided", title: "D" }]);
    await t.drain(t.runtime([agent(() => "ok", true)]));
    const cards = await cardsOf();
    expect(cards.map((c) => c.status).sort()).toEqual(["pending", "rejected"]);
  });

  it("tells what came of a card only on one really carried out, as one of its checks, once", async () => {
    await send(["real", "rehearsed", "open"].map((topic) => ({ id: topic, topic, title: topic })));
    await t.drain(t.runtime([agent()]));
    const byTopic = async () =>
      new Map((await cardsOf()).map((c) => [c.fingerprint.split(":").pop() as string, c]));
    const made = await byTopic();
    // Two carried out, one of them only rehearsed (a demo card's accept); one still waiting.
    for (const [topic, dryRun] of [
      ["real", false],
      ["rehearsed", true],
    ] as const) {
      const card = made.get(topic);
      if (!card) throw new Error(`no card for ${topic}`);
      await t.database.db.update(schema.cards).set({ status: "applied" }).where(eq(schema.cards.id, card.id));
      await t.database.db.insert(schema.decisions).values({
        id: `dec_${topic}`,
        cardId: card.id,
        cardVersion: card.version,
        verdict: "accept",
        idempotencyKey: topic,
      });
      await t.database.db.insert(schema.executions).values({
        id: `exe_${topic}`,
        cardId: card.id,
        decisionId: `dec_${topic}`,
        executor: "webhook",
        dryRun,
        state: "succeeded",
        runAfter: t.clock.now(),
        finishedAt: t.clock.now(),
      });
    }
    const before = await byTopic();
    /** An agent telling, at each signal, what came of all three. */
    const teller = (status: "passed" | "failed") =>
      defineAgent({
        name: "teller",
        reads: ["webhook"],
        run: (_ctx, batch) =>
          batch.flatMap((s) =>
            ["real", "rehearsed", "open"].map((topic) =>
              outcome(`webhook:${hook.id}:${topic}`, s, { check: "after it, the disk had room", status }),
            ),
          ),
      });
    t.clock.advance(3600_000);
    await send([{ id: "t1", topic: "other", title: "tell" }]);
    await t.drain(t.runtime([teller("passed")]));
    const told = await byTopic();
    expect(told.get("real")).toMatchObject({
      status: "applied",
      version: (before.get("real")?.version ?? 0) + 1,
      // Marked as told after the decision, not a check made before asking.
      verification: [{ check: "after it, the disk had room", status: "passed", after: true }],
      // When it was carried out stays its time.
      updatedAt: before.get("real")?.updatedAt,
    });
    for (const topic of ["rehearsed", "open"]) expect(told.get(topic)).toEqual(before.get(topic));
    // No card for the signal itself: the teller only tells.
    expect(told.has("other")).toBe(false);
    const events = await t.database.db
      .select()
      .from(schema.cardEvents)
      .where(eq(schema.cardEvents.cardId, told.get("real")?.id ?? ""));
    expect(events.at(-1)).toMatchObject({ type: "card.updated", version: told.get("real")?.version });
    // The same word again changes nothing; a new one replaces it.
    await send([{ id: "t2", topic: "other", title: "tell" }]);
    await t.drain(t.runtime([teller("passed")]));
    expect((await byTopic()).get("real")?.version).toBe(told.get("real")?.version);
    await send([{ id: "t3", topic: "other", title: "tell" }]);
    await t.drain(t.runtime([teller("failed")]));
    expect((await byTopic()).get("real")).toMatchObject({
      version: (told.get("real")?.version ?? 0) + 1,
      verification: [{ check: "after it, the disk had room", status: "failed" }],
    });
  });

  it("a started runtime tells its agents that time passed, with no signal, once a minute of its clock", async () => {
    /** Counts the ticks it hears in its state, and says so on a card. */
    const watcher = defineAgent({
      name: "watcher",
      reads: ["webhook"],
      run: () => [],
      async tick(ctx) {
        const heard = ((await ctx.state.get<number>("ticks")) ?? 0) + 1;
        ctx.state.set("ticks", heard);
        return [
          {
            fingerprint: "clock:watcher",
            kind: "insight",
            title: `Heard the time ${heard} times`,
            priority: 0.5,
            evidence: { signalIds: [], firstSeen: ctx.now, lastSeen: ctx.now },
          },
        ];
      },
    });
    const runtime = t.runtime([agent(), watcher]);
    const title = async () => (await cardsOf()).find((c) => c.fingerprint === "clock:watcher")?.title;
    await runtime.start();
    // At start, then not again until a minute of the runtime's clock has passed (it polls every 50 ms).
    await until("the first tick", async () => (await title()) === "Heard the time 1 times", 10_000);
    await send([{ id: "n1", topic: "disk", title: "Disk" }]);
    await until(
      "the signal's card",
      async () => (await cardsOf()).some((c) => c.title.startsWith("About ")),
      10_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(await title()).toBe("Heard the time 1 times");
    t.clock.advance(59_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(await title()).toBe("Heard the time 1 times");
    t.clock.advance(1_000);
    await until("the next tick", async () => (await title()) === "Heard the time 2 times", 10_000);
    await runtime.stop();
  });

  it("wakes a snoozed card when new evidence arrives", async () => {
    await send([{ id: "s1", topic: "sleepy", title: "S" }]);
    await t.drain(t.runtime([agent()]));
    await t.database.db
      .update(schema.cards)
      .set({ status: "snoozed", snoozedUntil: new Date(t.clock.now().getTime() + 86400_000) });
    await send([{ id: "s2", topic: "sleepy", title: "S" }]);
    await t.drain(t.runtime([agent()]));
    const [card] = await cardsOf();
    expect(card?.status).toBe("pending");
    expect(card?.snoozedUntil).toBeNull();
  });
  it("lets an admin retry every parked signal at once, or discard one for good", async () => {
    await send([
      { id: "p1", topic: "a", title: "A" },
      { id: "p2", topic: "b", title: "B" },
      { id: "p3", topic: "c", title: "C" },
    ]);
    expect((await t.runtime([agent(() => "fatal")]).processBatch()).parked).toBe(3);
    const list = await t.request<{ signals: DeadLetter[] }>("/api/admin/dead-letters", { cookie: admin });
    expect(list.body.signals.map((s) => [s.externalId, s.sourceName]).sort()).toEqual([
      ["p1", hook.name],
      ["p2", hook.name],
      ["p3", hook.name],
    ]);
    const p1 = list.body.signals.find((s) => s.externalId === "p1");
    const discard = await t.request(`/api/admin/dead-letters/${p1?.id}`, { cookie: admin, method: "DELETE" });
    expect(discard.status, discard.text).toBe(200);
    expect(
      (await t.request(`/api/admin/dead-letters/${p1?.id}`, { cookie: admin, method: "DELETE" })).status,
    ).toBe(404);
    const all = await t.request<{ retried: number }>("/api/admin/dead-letters/retry", {
      cookie: admin,
      method: "POST",
    });
    expect(all.body).toEqual({ retried: 2 });
    expect((await t.runtime([agent()]).processBatch()).done).toBe(2);
    expect((await cardsOf()).map((c) => c.fingerprint.split(":").pop()).sort()).toEqual(["b", "c"]);
    expect(
      (
        await t.request<{ retried: number }>("/api/admin/dead-letters/retry", {
          cookie: admin,
          method: "POST",
        })
      ).body,
    ).toEqual({ retried: 0 });
    expect(await countRows(t.database.db, "signal")).toBe(2);
  });
});
