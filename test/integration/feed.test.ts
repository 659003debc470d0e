import * as schema from "@flick/server/schema";
import type { Card, CardEvent, ErrorBody, FeedPage, IngestResult } from "@flick/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertCard } from "../helpers/db.ts";
import { drivers, startTestApp, type TestApp } from "../helpers/harness.ts";
import { SseReader } from "../helpers/sse.ts";

describe.each(drivers)("feed and live stream on %s", (driver) => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startTestApp(driver);
    admin = await t.setupAdmin();
  });
  afterAll(async () => t?.close());

  const insertCards = async (n: number, prefix: string) => {
    const base = t.clock.now().getTime();
    const rows = Array.from({ length: n }, (_, i) => ({
      id: `crd_${prefix}${String(i).padStart(4, "0")}`,
      agent: "test",
      fingerprint: `fp:${prefix}:${i}`,
      kind: "insight" as const,
      title: `${prefix} ${i}`,
      // Few distinct priorities and repeated timestamps, so ties must be broken by id.
      priority: [0.9, 0.5, 0.5, 0.1][i % 4] as number,
      evidence: { signalIds: [], count: 0, firstSeen: "", lastSeen: "", links: [], facts: {} },
      createdAt: new Date(base - (i % 3) * 1000),
      updatedAt: new Date(base - (i % 3) * 1000),
    }));
    await t.database.db.insert(schema.cards).values(rows);
  };

  it("pages through the ranked feed with keyset cursors, no card twice or missed", async () => {
    await insertCards(25, "a");
    const seen: Card[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `?limit=7&cursor=${cursor}` : "?limit=7";
      const res = await t.request<FeedPage>(`/api/feed${q}`, { cookie: admin });
      expect(res.status, res.text).toBe(200);
      seen.push(...res.body.cards);
      cursor = res.body.nextCursor;
      if (pages++ === 1) {
        // Cards arriving mid-scroll go to the top; the pages below are unaffected.
        await t.database.db.insert(schema.cards).values({
          id: "crd_zz_new",
          agent: "test",
          fingerprint: "fp:new",
          kind: "insight",
          title: "new",
          priority: 1,
          evidence: {},
        });
      }
    } while (cursor);
    expect(pages).toBe(4);
    const ids = seen.map((c) => c.id);
    expect(new Set(ids).size).toBe(25);
    const sorted = [...seen].sort(
      (x, y) => y.priority - x.priority || y.updatedAt.localeCompare(x.updatedAt) || y.id.localeCompare(x.id),
    );
    expect(ids).toEqual(sorted.map((c) => c.id));
  });

  it("serves the first page gzipped with an ETag, and any card change is in the very next read", async () => {
    const top = await insertCard(t.database.db, { priority: 0.999, title: "top of the feed" });
    const url = `${await t.listen()}/api/feed`;
    // undici's fetch asks for gzip and unpacks it, as a browser does.
    const first = await fetch(url, { headers: { cookie: admin } });
    expect(first.status).toBe(200);
    expect(first.headers.get("content-encoding")).toBe("gzip");
    const page = (await first.json()) as FeedPage;
    expect(page.cards.map((c) => c.id)).toContain(top.id);
    const etag = first.headers.get("etag") ?? "";
    expect(etag).toMatch(/^W\/"feed-\d+-20"$/);
    // Unchanged: a conditional request is answered 304 with no body.
    const again = await fetch(url, { headers: { cookie: admin, "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    // Without gzip the same page comes as plain JSON, equal to the unpacked one.
    const plain = await t.request<FeedPage>("/api/feed", { cookie: admin });
    expect(plain.headers.get("content-encoding")).toBeNull();
    expect(plain.body).toEqual(page);

    // A reviewer's decision removes the card; the next read, with the old ETag, no longer has it.
    const decided = await t.request(`/api/cards/${top.id}/decisions`, {
      cookie: admin,
      json: { verdict: "reject", cardVersion: top.version, idempotencyKey: "feed-cache-reject-1" },
    });
    expect(decided.status, decided.text).toBe(201);
    const after = await fetch(url, { headers: { cookie: admin, "if-none-match": etag } });
    expect(after.status).toBe(200);
    expect(after.headers.get("etag")).not.toBe(etag);
    expect(((await after.json()) as FeedPage).cards.map((c) => c.id)).not.toContain(top.id);
    // Pages further down come gzipped too.
    const second = await fetch(`${url}?limit=1&cursor=${encodeURIComponent(page.nextCursor ?? "")}`, {
      headers: { cookie: admin },
    });
    expect(second.status).toBe(200);
    expect(((await second.json()) as FeedPage).cards).toHaveLength(1);
    // A signed-out client gets nothing, cached or not.
    expect((await fetch(url)).status).toBe(401);
  });

  it("shows one card by id and answers 404 for an unknown one", async () => {
    const ok = await t.request<{ card: Card }>("/api/cards/crd_a0000", { cookie: admin });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.card.title).toBe("a 0");
    expect((await t.request("/api/cards/crd_nope", { cookie: admin })).status).toBe(404);
  });

  it("narrows by agent and by source, and shows cards in other states newest first", async () => {
    const hook = await t.createSource(admin, "webhook", {
      idPath: "$.id",
      fingerprintPath: "$.id",
      titlePath: "$.t",
    });
    for (const id of ["s1", "s2"])
      await t.request(`/ingest/${hook.id}`, {
        json: { id, t: `From the hook ${id}` },
        origin: null,
        headers: { authorization: `Bearer ${hook.secret}` },
      });
    await t.drain();
    const bySource = await t.request<FeedPage>(`/api/feed?source=${hook.id}`, { cookie: admin });
    expect(bySource.status, bySource.text).toBe(200);
    expect(bySource.body.cards.map((c) => c.title).sort()).toEqual(["From the hook s1", "From the hook s2"]);
    const byAgent = await t.request<FeedPage>("/api/feed?agent=webhook&limit=100", { cookie: admin });
    expect(byAgent.body.cards.every((c) => c.agent === "webhook")).toBe(true);
    expect(byAgent.body.cards.length).toBeGreaterThanOrEqual(2);

    const base = t.clock.now().getTime();
    for (let i = 0; i < 5; i++)
      await insertCard(t.database.db, {
        id: `crd_applied_${i}`,
        status: "applied",
        title: `Applied ${i}`,
        updatedAt: new Date(base - i * 60_000),
      });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : "";
      const page = await t.request<FeedPage>(`/api/feed?status=applied&limit=2${q}`, { cookie: admin });
      expect(page.status, page.text).toBe(200);
      seen.push(...page.body.cards.map((c) => c.id));
      expect(page.body.cards.every((c) => c.status === "applied")).toBe(true);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => `crd_applied_${i}`));

    const facets = await t.request<{ agents: string[]; sources: Record<string, unknown>[] }>(
      "/api/feed/facets",
      {
        cookie: admin,
      },
    );
    expect(facets.body.agents).toContain("webhook");
    expect(facets.body.sources).toContainEqual({ id: hook.id, name: hook.name, kind: "webhook" });
    expect(facets.text).not.toContain(hook.secret);
    const bad = await t.request<ErrorBody>("/api/feed?status=lost", { cookie: admin });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^status: /);
  });

  it("rejects bad paging input naming the field, and anonymous readers", async () => {
    const bad = await t.request<ErrorBody>("/api/feed?cursor=bm9wZQ", { cookie: admin });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^cursor: /);
    const big = await t.request<ErrorBody>("/api/feed?limit=5000", { cookie: admin });
    expect(big.status).toBe(400);
    expect(big.body.error.message).toMatch(/^limit: /);
    expect((await t.request("/api/feed")).status).toBe(401);
    expect((await t.request("/api/stream")).status).toBe(401);
  });

  it("streams card.created and card.updated live, and replays what a reconnecting client missed", async () => {
    const hook = await t.createSource(admin, "webhook", {
      idPath: "$.id",
      fingerprintPath: "$.topic",
      titlePath: "$.title",
    });
    const send = (id: string) =>
      t.request<IngestResult>(`/ingest/${hook.id}`, {
        json: { id, topic: "live", title: "Live card" },
        origin: null,
        headers: { authorization: `Bearer ${hook.secret}` },
      });
    const open = (lastEventId?: string) =>
      t.fetch(
        new Request("http://localhost/api/stream", {
          headers: { cookie: admin, ...(lastEventId ? { "last-event-id": lastEventId } : {}) },
        }),
      );

    const res = await open();
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const live = new SseReader(res);
    await live.next((e) => e.event === "ready");

    await send("e1");
    await t.drain();
    const created = await live.next((e) => e.event === "card.created");
    const createdBody = JSON.parse(created.data) as CardEvent;
    expect(createdBody.card?.title).toBe("Live card");
    expect(createdBody.version).toBe(1);
    expect(created.id).toBe(String(createdBody.id));
    await live.close();

    // While disconnected, the card changes twice.
    await send("e2");
    await t.drain();
    await send("e3");
    await t.drain();

    const resumed = new SseReader(await open(created.id));
    const first = JSON.parse((await resumed.next((e) => e.event === "card.updated")).data) as CardEvent;
    const second = JSON.parse((await resumed.next((e) => e.event === "card.updated")).data) as CardEvent;
    expect([first.version, second.version]).toEqual([2, 3]);
    expect(second.id).toBeGreaterThan(first.id);
    await resumed.next((e) => e.event === "ready");
    await resumed.close();
  });
});
