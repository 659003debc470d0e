import { type CardUpsert, defineAgent } from "@flick/server/agents";
import { loadConfig } from "@flick/server/config";
import { createLogger } from "@flick/server/logger";
import * as schema from "@flick/server/schema";
import { pruneSignals, sweep } from "@flick/server/sweep";
import type { FeedPage, Source } from "@flick/shared";
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { drivers, ingestInto, LogCapture, startTestApp, type TestApp } from "../helpers/harness.ts";

const DAY = 86400_000;

/** One card per topic, none for "noise"; "poison" is never handled (parked at once). */
const probe = defineAgent({
  name: "probe",
  reads: ["webhook"],
  async run(_ctx, batch) {
    const out: CardUpsert[] = [];
    for (const s of batch) {
      const topic = (s.payload as { topic: string }).topic;
      if (topic === "poison") throw new Error("cannot handle poison");
      if (topic === "noise") continue;
      out.push({
        fingerprint: s.fingerprint,
        kind: "insight",
        title: `About ${topic}`,
        priority: 0.5,
        evidence: { signalIds: [s.id], firstSeen: s.occurredAt, lastSeen: s.occurredAt },
      });
    }
    return out;
  },
});

describe.each(drivers)("signal retention on %s", (driver) => {
  let t: TestApp;
  let admin: string;
  let hook: Source;
  const logs = new LogCapture();
  const logger = createLogger({ level: "info", destination: logs });

  beforeEach(async () => {
    // Sessions outlive the months these tests skip.
    t = await startTestApp(driver, { SESSION_TTL_HOURS: "9000" });
    admin = await t.setupAdmin();
    hook = await t.createSource(admin, "webhook", { idPath: "$.id", fingerprintPath: "$.topic" });
  });
  afterEach(async () => t?.close());

  const send = (items: Record<string, unknown>[]) => ingestInto(t, hook, items);
  const states = async () => {
    const rows = await t.database.db
      .select({ id: schema.signals.externalId, state: schema.signals.state })
      .from(schema.signals);
    return Object.fromEntries(rows.map((r) => [r.id, r.state]));
  };
  const feedFromSource = async () => {
    const res = await t.request<FeedPage>(`/api/feed?source=${hook.id}`, { cookie: admin });
    expect(res.status, res.text).toBe(200);
    return res.body.cards.map((c) => c.title);
  };

  it("deletes processed signals past the retention, keeping those a card names, parked ones and unprocessed ones", async () => {
    const runtime = t.runtime([probe], { maxAttempts: 1 });
    await send([
      { id: "n1", topic: "noise" },
      { id: "c1", topic: "disk" },
      { id: "n2", topic: "noise" },
      { id: "p1", topic: "poison" },
      { id: "n3", topic: "noise" },
    ]);
    await t.drain(runtime);
    // Sent but not processed before the month passes (say the workers were stopped).
    await send([{ id: "w1", topic: "noise" }]);
    t.clock.advance(31 * DAY);
    await send([{ id: "n4", topic: "noise" }]);
    await t.drain(runtime);
    expect(await states()).toEqual({
      n1: "done",
      c1: "done",
      n2: "done",
      p1: "parked",
      n3: "done",
      w1: "done",
      n4: "done",
    });

    const config = loadConfig({ SIGNAL_RETENTION_DAYS: "30" });
    expect(await sweep(t.database, config, logger, t.clock.now())).toEqual({ signals: 3, series: 0 });
    // w1 was processed a moment ago, although it arrived a month back: it is kept for its month.
    expect(await states()).toEqual({ c1: "done", p1: "parked", w1: "done", n4: "done" });
    expect(logs.text).toContain("deleted processed signals past their retention");
    expect(await feedFromSource()).toEqual(["About disk"]);
    // Dead letters still list the parked one, and say how long processed ones are kept.
    const dead = await t.request<{ signals: { externalId: string }[]; retentionDays: number }>(
      "/api/admin/dead-letters",
      { cookie: admin },
    );
    expect(dead.body.signals.map((s) => s.externalId)).toEqual(["p1"]);
    expect(dead.body.retentionDays).toBe(30);

    // Idempotent: nothing more to delete.
    expect(await sweep(t.database, config, logger, t.clock.now())).toEqual({ signals: 0, series: 0 });
    // The sender retrying an old delivery after its signal went is taken as new (noted in the README).
    t.clock.advance(31 * DAY);
    expect(await sweep(t.database, config, logger, t.clock.now())).toEqual({ signals: 2, series: 0 });
    expect(await states()).toEqual({ c1: "done", p1: "parked" });
  });

  it("forgets a metric series that sent nothing for 30 days (its detector and calm copy), keeping one that sends", async () => {
    const metrics = await t.createSource(admin, "metrics", {}, "prom");
    const points = (names: string[]) =>
      ingestInto(
        t,
        metrics,
        names.map((name) => ({ name, labels: { pod: "a" }, ts: t.clock.now().toISOString(), value: 1 })),
      );
    const seriesStates = async () =>
      (
        await t.database.db
          .select({ key: schema.agentStates.key })
          .from(schema.agentStates)
          .where(eq(schema.agentStates.agent, "metrics"))
      )
        .map((r) => r.key)
        .filter((k) => k.startsWith("metric:") || k.startsWith("calm:"))
        .sort();
    await points(["gone_total", "kept_total"]);
    await t.drain();
    // A calm copy beside each (written by the agent every 60 calm points; put here directly).
    for (const key of ['metric:gone_total{pod="a"}', 'metric:kept_total{pod="a"}'])
      await t.database.db
        .insert(schema.agentStates)
        .values({ agent: "metrics", key: `calm:${key}`, state: {} });
    const all = [
      'calm:metric:gone_total{pod="a"}',
      'calm:metric:kept_total{pod="a"}',
      'metric:gone_total{pod="a"}',
      'metric:kept_total{pod="a"}',
    ];
    expect(await seriesStates()).toEqual(all);
    t.clock.advance(20 * DAY);
    await points(["kept_total"]);
    await t.drain();
    t.clock.advance(11 * DAY);
    const config = loadConfig({ SIGNAL_RETENTION_DAYS: "0" });
    expect(await sweep(t.database, config, logger, t.clock.now())).toEqual({ signals: 0, series: 1 });
    expect(await seriesStates()).toEqual(['calm:metric:kept_total{pod="a"}', 'metric:kept_total{pod="a"}']);
    expect(logs.text).toContain("forgot metric series that sent nothing for days");
    // It comes back: it starts learning again.
    await points(["gone_total"]);
    await t.drain();
    expect(await seriesStates()).toContain('metric:gone_total{pod="a"}');
  });

  it("keeps every signal when the retention is 0, and walks past kept signals across chunks", async () => {
    const runtime = t.runtime([probe]);
    const topics = ["noise", "noise", "disk", "cpu", "noise", "noise", "noise"];
    await send(topics.map((topic, i) => ({ id: `s${i}`, topic })));
    await t.drain(runtime);
    t.clock.advance(40 * DAY);
    expect(
      await sweep(t.database, loadConfig({ SIGNAL_RETENTION_DAYS: "0" }), logger, t.clock.now()),
    ).toEqual({ signals: 0, series: 0 });
    expect(Object.keys(await states())).toHaveLength(7);

    // Two at a time: chunks made only of kept signals must not stop the walk.
    expect(await pruneSignals(t.database, t.clock.now(), { days: 30, chunk: 2 })).toBe(5);
    expect(Object.keys(await states()).sort()).toEqual(["s2", "s3"]);
    expect((await feedFromSource()).sort()).toEqual(["About cpu", "About disk"]);
  });
});
