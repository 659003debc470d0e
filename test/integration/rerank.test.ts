import { randomUUID } from "node:crypto";
import { type CardUpsert, defineAgent } from "@flick/server/agents";
import { loadConfig } from "@flick/server/config";
import { createLogger } from "@flick/server/logger";
import { rank, recency } from "@flick/server/rank";
import * as schema from "@flick/server/schema";
import { sweep } from "@flick/server/sweep";
import type { FeedPage, Source } from "@flick/shared";
import { count, sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { drivers, ingestInto, LogCapture, startTestApp, type TestApp } from "../helpers/harness.ts";

const HOUR = 3_600_000;

/** A card per signal, ranked as the built-in agents rank theirs: its severity from the signal, "now" recency. */
const ranked = defineAgent({
  name: "ranked",
  reads: ["webhook"],
  async run(ctx, batch) {
    return batch.map((s): CardUpsert => {
      const { topic, severity } = s.payload as { topic: string; severity: number };
      return {
        fingerprint: s.fingerprint,
        kind: "insight",
        title: topic,
        ...rank({
          severity,
          blastRadius: 0.3,
          confidence: 0.8,
          recency: recency(s.occurredAt, ctx.now),
          acceptRate: 0.5,
        }),
        evidence: { signalIds: [s.id], firstSeen: s.occurredAt, lastSeen: s.occurredAt },
      };
    });
  },
});

describe.each(drivers)("open cards ranked again as they age on %s", (driver) => {
  let t: TestApp;
  let admin: string;
  let hook: Source;
  const logger = createLogger({ level: "info", destination: new LogCapture() });
  const config = loadConfig({});

  beforeEach(async () => {
    t = await startTestApp(driver, { SESSION_TTL_HOURS: "9000" });
    admin = await t.setupAdmin();
    hook = await t.createSource(admin, "webhook", { idPath: "$.id", fingerprintPath: "$.topic" });
  });
  afterEach(async () => t?.close());

  const feed = async () => {
    const res = await t.request<FeedPage>("/api/feed", { cookie: admin });
    expect(res.status, res.text).toBe(200);
    return res.body.cards;
  };
  const events = async () =>
    Number((await t.database.db.select({ n: count() }).from(schema.cardEvents))[0]?.n);

  it("a card untouched for half a day sinks below a fresher one it outranked, keeping its version", async () => {
    const runtime = t.runtime([ranked]);
    await ingestInto(t, hook, [{ id: "a", topic: "Disk filling on db-1", severity: 0.7 }]);
    await t.drain(runtime);
    t.clock.advance(12 * HOUR);
    await ingestInto(t, hook, [{ id: "b", topic: "Queue backing up", severity: 0.6 }]);
    await t.drain(runtime);
    // Both said "happening now" when written: the older one, more severe, leads.
    const before = await feed();
    expect(before.map((c) => c.title)).toEqual(["Disk filling on db-1", "Queue backing up"]);
    const [old, fresh] = before;
    expect(old?.priorityFactors.recency).toBe(1);

    const written = await events();
    await sweep(t.database, config, logger, t.clock.now());
    // Twelve hours on, its recency is a quarter (a six-hour half-life): 0.1 × 0.75 off its priority.
    const after = await feed();
    expect(after.map((c) => c.title)).toEqual(["Queue backing up", "Disk filling on db-1"]);
    const aged = after[1];
    expect(aged?.priorityFactors).toMatchObject({ recency: 0.25, severity: 0.7, confidence: 0.8 });
    expect(aged?.priority).toBeCloseTo((old?.priority ?? 0) - 0.075, 3);
    expect(aged?.version).toBe(old?.version);
    expect(after[0]?.priority).toBe(fresh?.priority);
    // One card event (the feed's cached first page is read again), the same version: a live
    // feed keeps its order, and a decision made on what it shows is not refused as stale.
    expect(await events()).toBe(written + 1);
    const res = await t.request(`/api/cards/${old?.id}/decisions`, {
      cookie: admin,
      json: { verdict: "reject", cardVersion: old?.version, idempotencyKey: randomUUID() },
    });
    expect(res.status, res.text).toBe(201);

    // Swept again at the same time: nothing moves.
    const decided = await events();
    await sweep(t.database, config, logger, t.clock.now());
    expect(await events()).toBe(decided);
    expect((await feed()).map((c) => [c.title, c.priority])).toEqual([["Queue backing up", fresh?.priority]]);
  });

  it("ranks again more open cards than one statement can name", async () => {
    // 17,000 cards a day old that still say "now": a card event each is four parameters, past
    // PostgreSQL's 65,535 in one statement.
    const n = 17_000;
    const day = new Date(t.clock.now().getTime() - 24 * HOUR).toISOString();
    for (let k = 0; k < n; k += 1000) {
      await t.database.db.insert(schema.cards).values(
        Array.from({ length: 1000 }, (_, i) => ({
          id: `crd_old${k + i}`,
          agent: "test",
          fingerprint: `fp:old${k + i}`,
          kind: "insight" as const,
          title: `Old ${k + i}`,
          priority: 0.6,
          priorityFactors: { severity: 0.5, blastRadius: 0.3, confidence: 0.8, recency: 1, acceptRate: 0.5 },
          evidence: { signalIds: [], count: 1, firstSeen: day, lastSeen: day, links: [], facts: {} },
        })),
      );
    }
    const written = await events();
    await sweep(t.database, config, logger, t.clock.now());
    expect(await events()).toBe(written + n);
    const ranked = await t.database.db
      .select({ n: count() })
      .from(schema.cards)
      .where(sql`${schema.cards.priority} = 0.506 and ${schema.cards.priorityFactors}->>'recency' = '0.063'`);
    expect(Number(ranked[0]?.n)).toBe(n);
  });
});
