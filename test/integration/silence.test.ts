import * as schema from "@flick/server/schema";
import type { Source, Verification } from "@flick/shared";
import { and, asc, eq, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployPush } from "../helpers/fixtures.ts";
import { drivers, startTestApp, type TestApp } from "../helpers/harness.ts";
import { startRecorder } from "../helpers/http-recorder.ts";

const minute = 60_000;

/**
 * A metrics source that stops sending: the silence agent, driven by the real runtime's tick on a
 * fake clock, with points sent through the real ingest endpoint.
 */
describe.each(drivers)("a metrics source going quiet, on %s", (driver) => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp(driver);
    admin = await t.setupAdmin();
  });
  afterAll(async () => {
    await t?.close();
  });

  const send = async (
    source: Source,
    secret = source.secret,
    value = 1,
    names: string[] = ["checkout_success"],
  ) => {
    const res = await t.request(`/ingest/${source.id}`, {
      json: names.map((name) => ({ name, labels: { job: "shop" }, ts: t.clock.now().toISOString(), value })),
      origin: null,
      headers: { authorization: `Bearer ${secret}` },
    });
    return res.status;
  };
  const silenceCards = (source: Source) =>
    t.database.db
      .select()
      .from(schema.cards)
      .where(eq(schema.cards.fingerprint, `silence:${source.id}`))
      .orderBy(asc(schema.cards.createdAt));
  const pending = async (source: Source) =>
    (await silenceCards(source)).filter((c) => c.status === "pending");
  /** `minutes` minutes of the source sending every `every` ms, the clock's tick each minute. */
  const steady = async (source: Source, minutes: number, every = 30_000, names?: string[], drain = false) => {
    const end = t.clock.now().getTime() + minutes * minute;
    let nextTick = t.clock.now().getTime() + minute;
    while (t.clock.now().getTime() < end) {
      expect(await send(source, source.secret, 90 + Math.random(), names)).toBe(202);
      if (drain) await t.drain();
      t.clock.advance(every);
      while (t.clock.now().getTime() >= nextTick) {
        await t.tick();
        nextTick += minute;
      }
    }
  };
  /** `minutes` minutes of nothing but the clock, one tick a minute. */
  const quiet = async (minutes: number) => {
    for (let i = 0; i < minutes; i++) {
      t.clock.advance(minute);
      await t.tick();
    }
  };
  const hhmm = (d: Date) => `${d.toISOString().slice(11, 16)} UTC`;
  /** A push to the default branch of the fixture's repository, now: a deploy. */
  const pushTo = async (gh: Source, sha: string) => {
    const res = await t.request(`/ingest/${gh.id}`, {
      ...deployPush(gh.secret, t.clock.now().getTime(), "1", sha),
      origin: null,
    });
    expect(res.status, res.text).toBe(202);
  };

  it("tells once when a steady sender stops, ten minutes on, and takes the card back when it sends again", async () => {
    const prom = await t.createSource(admin, "metrics", {}, "prometheus-prod");
    await steady(prom, 30);
    const last = new Date(t.clock.now().getTime() - 30_000);
    // Nine minutes of nothing: a sender that lags (a slow scrape, a network blip) is not news.
    await quiet(9);
    expect(await silenceCards(prom)).toHaveLength(0);
    await quiet(2);
    const [card, ...more] = await silenceCards(prom);
    expect(more).toHaveLength(0);
    expect(card).toMatchObject({
      agent: "silence",
      kind: "insight",
      status: "pending",
      change: null,
      title: `Nothing from prometheus-prod since ${hhmm(last)}: its metrics are not being watched`,
    });
    expect(card?.summary).toContain(`prometheus-prod sent every minute or more often until ${hhmm(last)}`);
    expect(card?.summary).toContain("a break in its series makes no card");
    expect(card?.summary).toContain("Check the sender");
    expect(card?.evidence).toMatchObject({
      facts: { source: "prometheus-prod", lastSignal: last.toISOString(), usualGapSeconds: 60 },
    });
    expect(card?.priorityFactors).toMatchObject({ severity: 0.6, confidence: 0.8, recency: 1 });
    // An hour more of silence: the same card, untouched (no churn in the feed).
    await quiet(60);
    const [same] = await silenceCards(prom);
    expect(same?.version).toBe(card?.version);
    // It sends again: the card leaves the feed at the next tick.
    expect(await send(prom)).toBe(202);
    await quiet(1);
    expect((await silenceCards(prom)).map((c) => c.status)).toEqual(["expired"]);
    // A second silence, after a steady stretch, is a card of its own.
    await steady(prom, 20);
    await quiet(11);
    expect((await silenceCards(prom)).map((c) => c.status)).toEqual(["expired", "pending"]);
  });

  it("says why when the source is refusing the sender (a rotated secret)", async () => {
    const source = await t.createSource(admin, "metrics", {}, "collector-eu");
    await steady(source, 25);
    const old = source.secret;
    const rotated = await t.request<{ source: Source }>(`/api/sources/${source.id}/rotate-secret`, {
      cookie: admin,
      method: "POST",
    });
    expect(rotated.status).toBe(200);
    // The collector keeps sending with the old secret: 401 each time.
    for (let i = 0; i < 12; i++) {
      expect(await send(source, old)).toBe(401);
      t.clock.advance(minute);
      await t.tick();
    }
    const [card] = await pending(source);
    expect(card?.summary).toMatch(
      /Its requests are being refused: the latest, at \d\d:\d\d UTC, got 401: the bearer token does not match this source's secret/,
    );
    expect(card?.priorityFactors).toMatchObject({ confidence: 1 });
    // The collector gets the new secret: its next point takes the card back.
    expect(await send(source, rotated.body.source.secret)).toBe(202);
    await quiet(1);
    expect(await pending(source)).toHaveLength(0);
  });

  it("makes no card for a paused source, nor for one that never sent steadily, and takes one back when its source is paused or deleted", async () => {
    const paused = await t.createSource(admin, "metrics", {}, "paused-on-purpose");
    const rare = await t.createSource(admin, "metrics", {}, "sent-twice");
    const later = await t.createSource(admin, "metrics", {}, "paused-later");
    const pause = (s: Source) =>
      t.request(`/api/sources/${s.id}`, { cookie: admin, method: "PATCH", json: { enabled: false } });
    await steady(paused, 25);
    expect((await pause(paused)).status).toBe(200);
    expect(await send(rare)).toBe(202);
    await steady(later, 25);
    expect(await send(rare)).toBe(202);
    await quiet(15);
    expect(await silenceCards(paused)).toHaveLength(0);
    expect(await silenceCards(rare)).toHaveLength(0);
    const [told] = await pending(later);
    expect(told?.title).toContain("Nothing from paused-later since");
    expect((await pause(later)).status).toBe(200);
    await quiet(1);
    expect((await silenceCards(later)).map((c) => c.status)).toEqual(["expired"]);
    // Back on after an hour paused: its quiet counts from then — ten minutes, not at once.
    await quiet(60);
    const resume = await t.request(`/api/sources/${later.id}`, {
      cookie: admin,
      method: "PATCH",
      json: { enabled: true },
    });
    expect(resume.status).toBe(200);
    await quiet(9);
    expect(await pending(later)).toHaveLength(0);
    await quiet(2);
    expect((await silenceCards(later)).map((c) => c.status)).toEqual(["expired", "pending"]);
    // A source deleted while its card stands: the card goes with it.
    const gone = await t.createSource(admin, "metrics", {}, "deleted-later");
    await steady(gone, 25);
    await quiet(11);
    expect(await pending(gone)).toHaveLength(1);
    const deleted = await t.request(`/api/sources/${gone.id}`, { cookie: admin, method: "DELETE" });
    expect(deleted.status, deleted.text).toBeLessThan(300);
    await quiet(1);
    expect((await silenceCards(gone)).map((c) => c.status)).toEqual(["expired"]);
  });

  it("waits out five of a slower sender's gaps, and counts a silence from when Flick itself began listening", async () => {
    const slow = await t.createSource(admin, "metrics", {}, "cloudwatch-5min");
    await steady(slow, 120, 5 * minute);
    // Sends every 5 minutes (the last one 5 minutes ago): 20 minutes of nothing is not yet five of
    // its gaps; 26 are.
    await quiet(15);
    expect(await silenceCards(slow)).toHaveLength(0);
    await quiet(6);
    const [card] = await pending(slow);
    expect(card?.summary).toContain("sent about every 5 minutes until");

    // Flick was down for an hour: a runtime that starts now has heard nothing of the source for an
    // hour, but that hour is its own absence — ten minutes of listening first.
    const fresh = await t.createSource(admin, "metrics", {}, "after-restart");
    await steady(fresh, 25);
    t.clock.advance(60 * minute);
    const restarted = t.runtime();
    for (let i = 0; i < 9; i++) {
      await restarted.tick();
      t.clock.advance(minute);
    }
    expect(await silenceCards(fresh)).toHaveLength(0);
    t.clock.advance(minute);
    await restarted.tick();
    const [late] = await pending(fresh);
    expect(late?.title).toContain("Nothing from after-restart since");
  });

  it("tells when a series mapped to an action stops while its source keeps sending, once caught up", async () => {
    const shop = await t.createSource(
      admin,
      "metrics",
      { actions: { checkout_success: "rollback" } },
      "prom-shop",
    );
    const both = ["checkout_success", "queue_depth"];
    await steady(shop, 25, 30_000, both, true);
    const last = new Date(t.clock.now().getTime() - 30_000);
    // checkout_success stops; queue_depth (mapped to nothing) goes on.
    await steady(shop, 9, 30_000, ["queue_depth"], true);
    const cardsOf = () => silenceCards({ id: `${shop.id}:metric:checkout_success{job="shop"}` } as Source);
    expect(await cardsOf()).toHaveLength(0);
    await steady(shop, 2, 30_000, ["queue_depth"], true);
    const [card, ...more] = await cardsOf();
    expect(more).toHaveLength(0);
    expect(card).toMatchObject({
      agent: "silence",
      status: "pending",
      title: `checkout_success (job=shop) stopped: nothing since ${hhmm(last)}`,
    });
    expect(card?.summary).toContain("while prom-shop kept sending its other series");
    expect(card?.summary).toContain('It is mapped to the action "rollback"');
    expect(card?.evidence).toMatchObject({
      facts: { metric: "checkout_success", labels: "job=shop", stepSeconds: 60 },
    });
    // The source itself is not silent, and queue_depth, which stopped nowhere, has no card.
    expect(await silenceCards(shop)).toHaveLength(0);
    // It sends again: the card leaves the feed.
    await steady(shop, 2, 30_000, both, true);
    expect((await cardsOf()).map((c) => c.status)).toEqual(["expired"]);

    // The workers are behind (its points wait unprocessed for 12 minutes): not taken for a silence.
    await steady(shop, 12, 30_000, both, false);
    expect((await cardsOf()).map((c) => c.status)).toEqual(["expired"]);
    await t.drain();
    await quiet(1);
    expect((await cardsOf()).map((c) => c.status)).toEqual(["expired"]);

    // No longer mapped: a stop is no news (and an open card would go).
    const unmapped = await t.request(`/api/sources/${shop.id}`, {
      cookie: admin,
      method: "PATCH",
      json: { settings: { actions: {} } },
    });
    expect(unmapped.status, unmapped.text).toBe(200);
    await steady(shop, 12, 30_000, ["queue_depth"], true);
    expect((await cardsOf()).map((c) => c.status)).toEqual(["expired"]);
  });

  it("a mapped series that stops minutes after a deploy is told on the deploy's rollback card, and whether the rollback brought it back", async () => {
    // The team's rollback hook, answered by a local server: accepting the card runs it.
    const hook = await startRecorder(() => ({ status: 200, body: { ok: true } }));
    try {
      const action = await t.request("/api/actions", {
        cookie: admin,
        json: { name: "rollback", url: `${hook.url}/rollback` },
      });
      expect(action.status, action.text).toBe(201);
      const gh = await t.createSource(admin, "github");
      /** Steady for 25 minutes, a push, and two minutes later `metric` stops: the push's rollback card. */
      const stopAfterPush = async (sha: string, metric: string) => {
        const source = await t.createSource(
          admin,
          "metrics",
          { actions: { [metric]: "rollback" } },
          `prom-${metric}`,
        );
        const both = [metric, "queue_depth"];
        await steady(source, 25, 30_000, both, true);
        await pushTo(gh, sha);
        await steady(source, 2, 30_000, both, true);
        await steady(source, 12, 30_000, ["queue_depth"], true);
        const cards = await t.database.db
          .select()
          .from(schema.cards)
          .where(eq(schema.cards.fingerprint, `deploy:Codertocat/Hello-World@${sha.repeat(40)}`));
        expect(cards).toHaveLength(1);
        // One card, not two: no silence card of its own.
        expect(
          await silenceCards({ id: `${source.id}:metric:${metric}{job="shop"}` } as Source),
        ).toHaveLength(0);
        return { source, card: cards[0] as typeof schema.cards.$inferSelect };
      };
      const rollBack = async (card: { id: string; version: number }) => {
        const decided = await t.request(`/api/cards/${card.id}/decisions`, {
          cookie: admin,
          json: { verdict: "accept", cardVersion: card.version, idempotencyKey: crypto.randomUUID() },
        });
        expect(decided.status, decided.text).toBe(201);
        t.clock.advance(10_000);
        const runner = t.executions();
        while (await runner.runNext()) {
          // every due run
        }
      };
      const checksOf = async (id: string) => {
        const [card] = await t.database.db.select().from(schema.cards).where(eq(schema.cards.id, id));
        return (card?.verification as Verification | undefined)?.filter((v) => v.after);
      };

      const first = await stopAfterPush("2", "orders_ok");
      expect(first.card.status).toBe("pending");
      expect(first.card.title).toBe(
        `orders_ok stopped 2 min after push 2222222 "Initial commit" — roll back?`,
      );
      expect(first.card.summary).toContain("orders_ok (job=shop) stopped: nothing since");
      await rollBack(first.card);
      expect(hook.requests.map((r) => r.path)).toEqual(["/rollback"]);
      // Three minutes later orders_ok sends again: the card that was carried out says so.
      await steady(first.source, 3, 30_000, ["queue_depth"], true);
      await steady(first.source, 2, 30_000, ["orders_ok", "queue_depth"], true);
      expect(await checksOf(first.card.id)).toEqual([
        {
          check: "after the rollback, orders_ok (job=shop) sent again",
          status: "passed",
          detail: expect.stringMatching(
            /^it was sending again [34] min after it \(it had sent nothing since \d\d:\d\d UTC\)$/,
          ),
          after: true,
        },
      ]);

      // This one stays gone after its rollback: the clock says so once the hour is over.
      const second = await stopAfterPush("3", "payments_ok");
      await rollBack(second.card);
      await steady(second.source, 59, 60_000, ["queue_depth"], true);
      expect(await checksOf(second.card.id)).toEqual([]);
      await steady(second.source, 3, 60_000, ["queue_depth"], true);
      expect(await checksOf(second.card.id)).toEqual([
        {
          check: "after the rollback, payments_ok (job=shop) sent again",
          status: "failed",
          detail: "it sent nothing in the hour after it",
          after: true,
        },
      ]);
    } finally {
      await hook.close();
    }
  });

  it("a metric sent by pods: a deploy replacing them is no news, nor one pod of several going; the last one going is one card", async () => {
    const gh = await t.createSource(admin, "github");
    const source = await t.createSource(admin, "metrics", { actions: { pods_ok: "rollback" } }, "prom-pods");
    /** `minutes` of pods_ok from each pod and queue_depth (unmapped), every 30 s, drained, a tick a minute. */
    const pods = async (minutes: number, names: string[]) => {
      for (let i = 0; i < minutes * 2; i++) {
        const res = await t.request(`/ingest/${source.id}`, {
          json: [
            ...names.map((pod) => ({
              name: "pods_ok",
              labels: { job: "shop", pod, instance: `${pod}:9090` },
              ts: t.clock.now().toISOString(),
              value: 99 + Math.random(),
            })),
            { name: "queue_depth", labels: { job: "shop" }, ts: t.clock.now().toISOString(), value: 5 },
          ],
          origin: null,
          headers: { authorization: `Bearer ${source.secret}` },
        });
        expect(res.status, res.text).toBe(202);
        await t.drain();
        t.clock.advance(30_000);
        if (i % 2 === 1) await t.tick();
      }
    };
    const deployCards = () =>
      t.database.db
        .select()
        .from(schema.cards)
        .where(eq(schema.cards.fingerprint, `deploy:Codertocat/Hello-World@${"4".repeat(40)}`));
    const group = `${source.id}:metric:pods_ok{job="shop"}`;
    const cardsOf = () => silenceCards({ id: group } as Source);

    await pods(25, ["shop-7d9f-a", "shop-7d9f-b"]);
    // A deploy: new pods start, a minute later the old ones stop (a rolling update).
    await pushTo(gh, "4");
    await pods(1, ["shop-7d9f-a", "shop-7d9f-b", "shop-5c2e-x", "shop-5c2e-y"]);
    await pods(25, ["shop-5c2e-x", "shop-5c2e-y"]);
    expect(await deployCards()).toHaveLength(0);
    expect(await cardsOf()).toHaveLength(0);
    // One of the two goes (scaled down): the other still sends the metric.
    await pods(15, ["shop-5c2e-x"]);
    expect(await cardsOf()).toHaveLength(0);
    // The last one goes: one card for the metric, not one per pod.
    const last = new Date(t.clock.now().getTime() - 30_000);
    await pods(12, []);
    const [card, ...more] = await cardsOf();
    expect(more).toHaveLength(0);
    expect(card).toMatchObject({
      status: "pending",
      title: `pods_ok (job=shop) stopped: nothing from any pod since ${hhmm(last)}`,
    });
    expect(card?.summary).toContain("(from 4 different pods over time)");
    expect(card?.evidence).toMatchObject({
      facts: { metric: "pods_ok", labels: "job=shop", replicaLabels: "pod, instance", seriesSeen: 4 },
    });
    const ofSource = await t.database.db
      .select()
      .from(schema.cards)
      .where(and(eq(schema.cards.agent, "silence"), like(schema.cards.fingerprint, `silence:${source.id}%`)));
    expect(ofSource.map((c) => c.fingerprint)).toEqual([`silence:${group}`]);
    // A new pod sends it again: the card leaves the feed.
    await pods(2, ["shop-91aa-z"]);
    expect((await cardsOf()).map((c) => c.status)).toEqual(["expired"]);
  });

  it("keeps watching new pods once a hundred have come and gone: the ones gone a day make room", async () => {
    const source = await t.createSource(
      admin,
      "metrics",
      { actions: { churn_ok: "rollback" } },
      "prom-churn",
    );
    const point = (pod: string) => ({
      name: "churn_ok",
      labels: { job: "shop", pod },
      ts: t.clock.now().toISOString(),
      value: 99 + Math.random(),
    });
    const post = async (points: object[]) => {
      const res = await t.request(`/ingest/${source.id}`, {
        json: points,
        origin: null,
        headers: { authorization: `Bearer ${source.secret}` },
      });
      expect(res.status, res.text).toBe(202);
      await t.drain();
    };
    // A hundred pods, a point a minute each for 21 minutes: the watched list is full.
    const old = Array.from({ length: 100 }, (_, i) => `shop-old-${i}`);
    for (let i = 0; i < 21; i++) {
      await post(old.map(point));
      t.clock.advance(minute);
      await t.tick();
    }
    // A day later, one new pod (and queue_depth, unmapped) every 30 s.
    t.clock.advance(25 * 60 * minute);
    const queue = () => ({
      name: "queue_depth",
      labels: { job: "shop" },
      ts: t.clock.now().toISOString(),
      value: 3,
    });
    const run = async (minutes: number, pods: string[]) => {
      for (let i = 0; i < minutes * 2; i++) {
        await post([...pods.map(point), queue()]);
        t.clock.advance(30_000);
        if (i % 2 === 1) await t.tick();
      }
    };
    const cardsOf = () => silenceCards({ id: `${source.id}:metric:churn_ok{job="shop"}` } as Source);
    await run(25, ["shop-new-0"]);
    expect(await cardsOf()).toHaveLength(0);
    // It stops: the metric is gone, and said so.
    const last = new Date(t.clock.now().getTime() - 30_000);
    await run(12, []);
    expect((await cardsOf()).map((c) => [c.status, c.title])).toEqual([
      ["pending", `churn_ok (job=shop) stopped: nothing from any pod since ${hhmm(last)}`],
    ]);
  });

  it("does not watch the demo's sources", async () => {
    const loaded = await t.request("/api/admin/demo/signals", { cookie: admin, method: "POST", json: {} });
    expect(loaded.status, loaded.text).toBe(201);
    const [demo] = await t.database.db
      .select()
      .from(schema.sources)
      .where(and(eq(schema.sources.demo, true), eq(schema.sources.kind, "metrics")));
    if (!demo) throw new Error("no demo metrics source");
    // Even one sent to steadily, then left: the demo's sources are samples, their quiet is no news.
    await steady({ id: demo.id, secret: demo.secret } as Source, 25);
    await quiet(15);
    expect(await silenceCards({ id: demo.id } as Source)).toHaveLength(0);
  });
});
