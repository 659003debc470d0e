import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { openDatabase } from "@flick/server/db";
import { cardEvents, cards, executions, signals } from "@flick/server/schema";
import type { FeedPage } from "@flick/shared";
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { emptyPostgresDatabase } from "../helpers/harness.ts";
import {
  type ServerProcess,
  setUpFirstAdmin,
  signInTo,
  startServerProcess,
} from "../helpers/server-process.ts";
import { until } from "../helpers/until.ts";

type Target = "pglite" | "postgres";
const targets: Target[] = process.env.TEST_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];

async function api<T>(server: ServerProcess, cookie: string, p: string, body?: unknown): Promise<T> {
  const res = await fetch(`${server.url}${p}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json", origin: server.url, cookie },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** A fresh data folder (and PostgreSQL database) for one server's life across restarts. */
async function freshEnv(target: Target, cleanups: (() => Promise<void> | void)[]) {
  const dir = mkdtempSync(path.join(tmpdir(), "flick-kill-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const env: Record<string, string> = { DATA_DIR: dir };
  if (target === "postgres") {
    const db = await emptyPostgresDatabase("flick_kill");
    cleanups.push(db.drop);
    env.DATABASE_URL = db.url;
  }
  return env;
}

/** Opens what a stopped server left, the way the server itself would. */
async function openStored(target: Target, env: Record<string, string>) {
  return openDatabase(
    target === "postgres"
      ? { driver: "postgres" as const, url: env.DATABASE_URL ?? "" }
      : { driver: "pglite" as const, dataDir: path.join(env.DATA_DIR ?? "", "pglite") },
  );
}

/**
 * kill -9 while signals pour in: after a restart on the same data, every signal the server
 * acknowledged (2xx) is there exactly once, and the agents finish what was left.
 */
describe.each(targets)("kill -9 during ingest on %s", (target) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it("loses no acknowledged signal and duplicates none", async () => {
    const env = await freshEnv(target, cleanups);
    let server = await startServerProcess(env);
    const cookie = await setUpFirstAdmin(server);
    const made = await fetch(`${server.url}/api/sources`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.url, cookie },
      body: JSON.stringify({ kind: "feedback", name: "app reviews" }),
    });
    const source = ((await made.json()) as { source: { id: string; secret: string } }).source;

    // Eight senders post numbered items until the server dies under them.
    const acked = new Set<string>();
    let next = 0;
    let dead = false;
    const sender = async () => {
      while (!dead) {
        const id = `item-${next++}`;
        try {
          const res = await fetch(`${server.url}/ingest/${source.id}`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${source.secret}` },
            body: JSON.stringify([{ id, text: `The app crashes when I open screen ${id}` }]),
          });
          if (res.status === 202 || res.status === 200) acked.add(id);
        } catch {
          // the connection died with the server: not acknowledged
        }
      }
    };
    const senders = Array.from({ length: 8 }, sender);
    // Killed once it has acknowledged a few dozen, however fast this machine is today (a fixed
    // 1.5 s saw 9 in a busy CI run), and while they keep pouring in.
    try {
      await until("a few dozen acknowledged", async () => acked.size >= 30, 30_000);
    } finally {
      await server.stop("SIGKILL");
      dead = true;
    }
    await Promise.all(senders);
    expect(acked.size).toBeGreaterThan(20);

    // Restart on the same data: it must come up cleanly, then stop it and read what is stored.
    server = await startServerProcess(env);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    await server.stop("SIGTERM");
    const stored = await countSignals(target, env, source.id);
    for (const id of acked) expect(stored.get(id), `${id} was acknowledged`).toBe(1);
    for (const [id, n] of stored) expect(n, id).toBe(1);
  }, 120_000);
});

async function countSignals(
  target: Target,
  env: Record<string, string>,
  sourceId: string,
): Promise<Map<string, number>> {
  const handle = await openStored(target, env);
  try {
    const rows = await handle.db
      .select({ externalId: signals.externalId })
      .from(signals)
      .where(eq(signals.sourceId, sourceId));
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.externalId, (counts.get(r.externalId) ?? 0) + 1);
    return counts;
  } finally {
    await handle.close();
  }
}

/**
 * kill -9 while agents work through a backlog and while accepted changes run: after a restart the
 * agents finish every signal with no card made twice, and no action that completed runs again.
 */
describe.each(targets)("kill -9 during agent work and during execution on %s", (target) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it("finishes every signal's card after a restart, making none twice", async () => {
    // One signal per batch and a short lease: the backlog takes seconds, and a batch the killed
    // process had claimed comes back soon.
    const env = { ...(await freshEnv(target, cleanups)), WORKER_BATCH_SIZE: "1", WORKER_LEASE_SECONDS: "2" };
    let server = await startServerProcess(env);
    const cookie = await setUpFirstAdmin(server);
    const { source } = await api<{ source: { id: string; secret: string } }>(server, cookie, "/api/sources", {
      kind: "webhook",
      name: "deploy events",
      settings: { idPath: "$.id", fingerprintPath: "$.id", titlePath: "$.title" },
    });
    const N = 1000;
    await Promise.all(
      Array.from({ length: 10 }, async (_, b) => {
        const items = Array.from({ length: N / 10 }, (_, i) => ({
          id: `evt-${b}-${i}`,
          title: `Event ${b}-${i}`,
        }));
        const res = await fetch(`${server.url}/ingest/${source.id}`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${source.secret}` },
          body: JSON.stringify(items),
        });
        expect(res.status).toBe(202);
      }),
    );
    // Every signal is acknowledged; kill as soon as the agents have made their first card.
    const first = server;
    const started = async () => (await api<FeedPage>(first, cookie, "/api/feed?limit=1")).cards.length > 0;
    while (!(await started())) await new Promise((r) => setTimeout(r, 10));
    await server.stop("SIGKILL");

    server = await startServerProcess(env);
    const restarted = server;
    const feedCount = async () => {
      let count = 0;
      let cursor: string | null = null;
      do {
        const page: FeedPage = await api<FeedPage>(
          restarted,
          cookie,
          `/api/feed?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
        );
        count += page.cards.length;
        cursor = page.nextCursor;
      } while (cursor);
      return count;
    };
    await until("a card for every signal", async () => (await feedCount()) >= N, 90_000);
    await server.stop("SIGTERM");

    const handle = await openStored(target, env);
    try {
      const stored = await handle.db
        .select({ processedAt: signals.processedAt, processedBy: signals.processedBy })
        .from(signals)
        .where(eq(signals.sourceId, source.id));
      expect(stored).toHaveLength(N);
      expect(stored.filter((s) => s.processedAt === null)).toHaveLength(0);
      // Both processes did part of the work: the kill really landed in the middle of it.
      const byWorker = new Map<string | null, number>();
      for (const s of stored) byWorker.set(s.processedBy, (byWorker.get(s.processedBy) ?? 0) + 1);
      expect(byWorker.size, JSON.stringify([...byWorker])).toBeGreaterThanOrEqual(2);
      const made = await handle.db
        .select({ id: cards.id, fingerprint: cards.fingerprint, evidence: cards.evidence })
        .from(cards)
        .where(eq(cards.agent, "webhook"));
      expect(made).toHaveLength(N);
      expect(new Set(made.map((c) => c.fingerprint)).size).toBe(N);
      for (const c of made)
        expect((c.evidence as { signalIds: string[] }).signalIds, c.fingerprint).toHaveLength(1);
      const created = await handle.db
        .select({ cardId: cardEvents.cardId })
        .from(cardEvents)
        .where(eq(cardEvents.type, "card.created"));
      expect(created).toHaveLength(N);
    } finally {
      await handle.close();
    }
  }, 180_000);

  it("runs no completed action again after a restart, and re-sends an interrupted one with its idempotency key", async () => {
    // The action's target answers slowly, so the kill lands while one call is in flight.
    const calls: { key: string; card: string; completed: boolean; startedAt: number }[] = [];
    const receiver = createServer((req, res) => {
      const call = {
        key: String(req.headers["idempotency-key"]),
        card: String(req.headers["x-flick-card"]),
        completed: false,
        startedAt: Date.now(),
      };
      calls.push(call);
      req.resume();
      const timer = setTimeout(() => {
        call.completed = true;
        res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
      }, 700);
      res.on("close", () => clearTimeout(timer));
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise<void>((r) => receiver.close(() => r())));
    const targetUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/restart`;

    const env = {
      ...(await freshEnv(target, cleanups)),
      UNDO_WINDOW_SECONDS: "1",
      EXECUTOR_LEASE_SECONDS: "2",
    };
    let server = await startServerProcess(env);
    const cookie = await setUpFirstAdmin(server);
    await api(server, cookie, "/api/actions", { name: "restart", url: targetUrl });
    await server.stop("SIGTERM");

    // Pending cards proposing the action, as the metrics agent makes them.
    const N = 10;
    const seeded = await openStored(target, env);
    try {
      await seeded.db.insert(cards).values(
        Array.from({ length: N }, (_, i) => ({
          id: `kill_exec_${i}`,
          agent: "metrics",
          fingerprint: `metric:kill:${i}`,
          kind: "action" as const,
          title: `checkout_success dropped on shard ${i}`,
          priority: 0.5,
          change: { type: "webhook", action: "restart", params: { shard: i } },
        })),
      );
    } finally {
      await seeded.close();
    }

    server = await startServerProcess(env);
    const reviewer = await signInTo(server);
    for (let i = 0; i < N; i++)
      await api(server, reviewer, `/api/cards/kill_exec_${i}/decisions`, {
        verdict: "accept",
        cardVersion: 1,
        idempotencyKey: `kill-exec-accept-${i}`,
      });
    // Kill once a few calls have completed and another is well inside its 700 ms (so the kill
    // cannot fall between the target's answer and the server recording it).
    await until(
      "a call in flight after three completed",
      async () =>
        calls.filter((c) => c.completed).length >= 3 &&
        calls.some((c) => !c.completed && Date.now() - c.startedAt < 400),
    );
    await server.stop("SIGKILL");
    const completedBeforeKill = new Set(calls.filter((c) => c.completed).map((c) => c.key));
    const interrupted = calls.filter((c) => !c.completed).map((c) => c.key);
    expect(interrupted).toHaveLength(1);

    server = await startServerProcess(env);
    const after = server;
    const statuses = async () =>
      Promise.all(
        Array.from(
          { length: N },
          async (_, i) =>
            (await api<{ card: { status: string } }>(after, reviewer, `/api/cards/kill_exec_${i}`)).card
              .status,
        ),
      );
    await until("every accepted card applied", async () => (await statuses()).every((s) => s === "applied"));
    await server.stop("SIGTERM");

    // Every card's action reached the target; a call that had completed was never sent again;
    // the one cut off by the kill was sent again with the same idempotency key.
    const byKey = new Map<string, number>();
    for (const c of calls) byKey.set(c.key, (byKey.get(c.key) ?? 0) + 1);
    expect(byKey.size).toBe(N);
    expect(new Set(calls.map((c) => c.card)).size).toBe(N);
    for (const key of completedBeforeKill) expect(byKey.get(key), key).toBe(1);
    expect(byKey.get(interrupted[0] as string)).toBe(2);
    for (const [key, n] of byKey) if (key !== interrupted[0]) expect(n, key).toBe(1);
    expect(calls.filter((c) => c.completed)).toHaveLength(N);

    const handle = await openStored(target, env);
    try {
      const rows = await handle.db.select().from(executions);
      expect(rows).toHaveLength(N);
      expect(rows.every((r) => r.state === "succeeded")).toBe(true);
      const resumed = rows.filter((r) => r.log.includes("resuming after an interruption"));
      expect(resumed.map((r) => r.id)).toEqual(interrupted);
    } finally {
      await handle.close();
    }
  }, 180_000);
});
