import { randomUUID } from "node:crypto";
import * as schema from "@flick/server/schema";
import type { Card, IngestResult, Source } from "@flick/shared";
import { asc, like, or } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployPush } from "../helpers/fixtures.ts";
import { drivers, startTestApp, type TestApp } from "../helpers/harness.ts";

const minute = 60_000;

/**
 * A metric sent one series per pod (Prometheus remote_write of per-pod series), through the real
 * ingest endpoint and agent runtime: a deploy's rolling update, a scale-down and a bad release.
 * Each pod's value is its share of the traffic, so it moves whenever the pods do.
 */
describe.each(drivers)("a metric sent by pods, on %s", (driver) => {
  let t: TestApp;
  let admin: string;
  let gh: Source;
  let metrics: Source;

  beforeAll(async () => {
    t = await startTestApp(driver);
    admin = await t.setupAdmin();
    gh = await t.createSource(admin, "github");
    metrics = await t.createSource(admin, "metrics", {
      actions: {
        rolled_rate: "rollback",
        halved_rate: "rollback",
        scaled_rate: "rollback",
        muted_rate: "rollback",
        restarted_rate: "rollback",
      },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  // Deterministic noise, about ±1 around each pod's share.
  let seed = 7;
  const noise = () => {
    let sum = 0;
    for (let i = 0; i < 3; i++) {
      seed = (seed * 16807) % 2147483647;
      sum += seed / 2147483647;
    }
    return sum - 1.5;
  };
  const post = async (body: unknown[]) => {
    const res = await t.request<IngestResult>(`/ingest/${metrics.id}`, {
      json: body,
      origin: null,
      headers: { authorization: `Bearer ${metrics.secret}` },
    });
    expect(res.status, res.text).toBe(202);
  };
  const point = (name: string, pod: string, at: number, value: number) => ({
    name,
    labels: { job: "shop", pod, instance: `${pod}:9090` },
    ts: new Date(at).toISOString(),
    value: value + noise(),
  });
  /** Moves the fake clock to `at` (ms). */
  const clockTo = (at: number) => t.clock.advance(at - t.clock.now().getTime());
  /** Seven hours of `pods` sending `value` each, a point a minute, sent an hour at a time; returns the next minute. */
  const past = async (name: string, pods: string[], value: number) => {
    const start = t.clock.now().getTime();
    for (let hour = 0; hour < 7; hour++) {
      const batch = [];
      for (let i = hour * 60; i < (hour + 1) * 60; i++)
        batch.push(...pods.map((pod) => point(name, pod, start + i * minute, value)));
      // Sent as the hour ends (a point dated well ahead of the server's clock is refused).
      clockTo(start + (hour + 1) * 60 * minute);
      await post(batch);
      await t.drain();
    }
    return start + 7 * 60 * minute;
  };
  /** A push to the default branch of the fixture's repository at `at` (ms): a deploy. */
  const deploy = async (at: number, sha: string) => {
    clockTo(at);
    const res = await t.request(`/ingest/${gh.id}`, { ...deployPush(gh.secret, at, "a", sha), origin: null });
    expect(res.status, res.text).toBe(202);
    await t.drain();
  };
  /** Minute by minute from `from`: each step's pods and their values, sent as each minute ends. */
  const minutes = async (name: string, from: number, steps: Record<string, number>[]) => {
    for (const [i, step] of steps.entries()) {
      const at = from + (i + 1) * minute;
      clockTo(at + 5_000);
      await post(Object.entries(step).map(([pod, value]) => point(name, pod, at, value)));
      await t.drain();
      await t.tick();
    }
  };
  /** `n` minutes from `from` of `pods` at `value`, in one request (a sender catching up). */
  const bulk = async (name: string, from: number, n: number, pods: string[], value: number) => {
    const body = [];
    for (let i = 1; i <= n; i++) body.push(...pods.map((pod) => point(name, pod, from + i * minute, value)));
    clockTo(from + n * minute + 5_000);
    await post(body);
    await t.drain();
  };
  const decide = async (card: Card | undefined, verdict: "accept" | "reject") => {
    const res = await t.request(`/api/cards/${card?.id}/decisions`, {
      cookie: admin,
      json: { verdict, cardVersion: card?.version, idempotencyKey: randomUUID() },
    });
    expect(res.status, res.text).toBe(201);
  };
  const repeat = (n: number, step: Record<string, number>) => Array.from({ length: n }, () => step);
  /** A rolling update of two pods (a, b) to two new ones (c, d), one more at a time: each pod's share moves. */
  const rolling = (each: number, after = each): Record<string, number>[] => [
    { a: (each * 2) / 3, b: (each * 2) / 3, c: (after * 2) / 3 },
    { a: each * 0.3, b: each, c: after },
    { b: (each * 2) / 3, c: (after * 2) / 3, d: (after * 2) / 3 },
    { b: each * 0.3, c: after, d: after },
  ];
  /**
   * The cards about the metric (its series' own, the rollback card of the deploy of `sha`) changed
   * since `since` (ms): a seven-hour past of noise may hold an alarm of its own.
   */
  const cardsOf = async (name: string, sha: string, since = 0) =>
    (
      (await t.database.db
        .select()
        .from(schema.cards)
        .where(
          or(
            like(schema.cards.fingerprint, `metric:${name}%`),
            like(schema.cards.fingerprint, `deploy:%@${sha.repeat(40)}`),
          ),
        )
        .orderBy(asc(schema.cards.createdAt))) as unknown as Card[]
    ).filter((c) => new Date(c.updatedAt).getTime() >= since);

  it("a rolling update is no news: old pods drained, new ones taking their share; a break after it is told", async () => {
    const end = await past("rolled_rate", ["a", "b"], 50);
    await deploy(end, "b");
    await minutes("rolled_rate", end, [...rolling(50), ...repeat(40, { c: 50, d: 50 })]);
    // Before, each old pod's shrinking share and its drain made "rolled_rate dropped 36% on 2
    // series 1 min after push — roll back?".
    expect(await cardsOf("rolled_rate", "b")).toEqual([]);
    // The new pods were judged from their first quarter hour, as the old ones had learned: both
    // dropping for a minute is a card, told once they send again.
    const later = end + 44 * minute;
    await minutes("rolled_rate", later, [{ c: 10, d: 10 }]);
    expect(await cardsOf("rolled_rate", "b")).toEqual([]);
    await minutes("rolled_rate", later + minute, [{ c: 50, d: 50 }]);
    const [card, ...more] = await cardsOf("rolled_rate", "b");
    expect(more).toEqual([]);
    expect(card?.title).toMatch(/^rolled_rate dropped (79|8\d)% at \d\d:\d\d UTC and on 1 more series$/);
    expect(card?.fingerprint).toMatch(/^metric:rolled_rate\{.*pod="[cd]"\}$/);
    expect(card?.verification[0]?.detail).toMatch(
      /^scored 0\.\d\d against \d+ earlier points \(those before this pod began sent by pod=[ab], instance=[ab]:9090\)$/,
    );
  });

  it("a release that halves what each new pod does is told once the pods settle, on the deploy's rollback card", async () => {
    const end = await past("halved_rate", ["a", "b"], 50);
    await deploy(end, "c");
    await minutes("halved_rate", end, [...rolling(50, 25), ...repeat(14, { c: 25, d: 25 })]);
    // Still settling (a quarter hour since the last pod came): nothing yet.
    expect(await cardsOf("halved_rate", "c")).toEqual([]);
    await minutes("halved_rate", end + 18 * minute, repeat(3, { c: 25, d: 25 }));
    const [card, ...more] = await cardsOf("halved_rate", "c");
    expect(more).toEqual([]);
    expect(card?.fingerprint).toBe(`deploy:Codertocat/Hello-World@${"c".repeat(40)}`);
    // Told as it began: a minute after the push, the pods' level where they settled.
    expect(card?.title).toMatch(/^halved_rate dropped (4[5-9]|5[0-5])% on 2 series 1 min after push c{7} /);
  });

  it("a pod taken away: the ones left taking its share, and its drain, are no news", async () => {
    const end = await past("scaled_rate", ["a", "b", "z"], 40);
    await deploy(end, "d");
    await minutes("scaled_rate", end, [{ a: 40, b: 40, z: 12 }, ...repeat(80, { a: 60, b: 60 })]);
    // Before: "scaled_rate dropped 60% on 3 series 1 min after push — roll back?".
    expect(await cardsOf("scaled_rate", "d", end)).toEqual([]);
  });

  it("a pod's card rejected: the pods that replace it stay quiet for a break like it, and a far bigger one comes", async () => {
    const end = await past("muted_rate", ["a", "b"], 50);
    await minutes("muted_rate", end, [
      { a: 30, b: 30 },
      { a: 50, b: 50 },
    ]);
    const [card, ...more] = await cardsOf("muted_rate", "none");
    expect(more).toEqual([]);
    expect(card?.title).toMatch(/^muted_rate dropped (3\d|4\d)% at \d\d:\d\d UTC and on 1 more series$/);
    await decide(card, "reject");
    // The pods are replaced (a rolling update), and settle.
    await minutes("muted_rate", end + 2 * minute, [...rolling(50), ...repeat(20, { c: 50, d: 50 })]);
    // Hours on (past the rest after the first alarm), the new pods drop about as the rejected ones
    // did (56% against 42%): no card — before, the reject was forgotten with its pods.
    await bulk("muted_rate", end + 22 * minute, 160, ["c", "d"], 50);
    const later = end + 182 * minute;
    await minutes("muted_rate", later, [
      { c: 22, d: 22 },
      { c: 50, d: 50 },
    ]);
    expect((await cardsOf("muted_rate", "none")).map((c) => c.status)).toEqual(["rejected"]);
    // Hours back at the usual level again, then a far deeper drop: news.
    await bulk("muted_rate", later + 2 * minute, 160, ["c", "d"], 50);
    const deeper = later + 162 * minute;
    await minutes("muted_rate", deeper, [
      { c: 3, d: 3 },
      { c: 50, d: 50 },
    ]);
    const now = (await cardsOf("muted_rate", "none")).filter((c) => c.status === "pending");
    expect(now.map((c) => c.title)).toEqual([expect.stringMatching(/^muted_rate dropped 9\d% at /)]);
    expect(now[0]?.summary).toMatch(
      /Its card was rejected when it dropped (3\d|4\d)% .*; this break is far bigger, so it is here despite the mute\./,
    );
  });

  it("a pod restarted under its own name (a StatefulSet's): its drain and its gap are no card", async () => {
    const end = await past("restarted_rate", ["db-0"], 50);
    // Drained, gone three minutes, back.
    await minutes("restarted_rate", end, [{ "db-0": 50 }, { "db-0": 4 }]);
    await minutes("restarted_rate", end + 5 * minute, repeat(30, { "db-0": 50 }));
    expect(await cardsOf("restarted_rate", "none", end)).toEqual([]);
  });
});
