import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emptyPostgresDatabase } from "../helpers/harness.ts";
import { type ServerProcess, setUpFirstAdmin, startServerProcess } from "../helpers/server-process.ts";

/**
 * A TCP proxy in front of PostgreSQL that the test can cut and restore: the server process sees
 * its database go away (connections reset, new ones refused) and come back, as in a restart.
 */
async function startProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      const listener = net.createServer((client) => {
        const upstream = net.connect(target.port, target.host);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on("close", () => sockets.delete(s));
          s.on("error", () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      server = listener;
      listener.listen(port, "127.0.0.1", () => {
        port = (listener.address() as net.AddressInfo).port;
        resolve();
      });
    });
  await listen();
  return {
    get port() {
      return port;
    },
    async cut() {
      // Stop accepting, then reset every open connection (close() waits for them to end).
      const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    restore: listen,
    async close() {
      await this.cut();
    },
  };
}

describe.skipIf(!process.env.TEST_DATABASE_URL)("PostgreSQL going away under a running server", () => {
  let db: Awaited<ReturnType<typeof emptyPostgresDatabase>>;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let server: ServerProcess;
  let dir: string;
  let source: { id: string; secret: string };

  beforeAll(async () => {
    db = await emptyPostgresDatabase("flick_fault");
    const real = new URL(db.url);
    proxy = await startProxy({ host: real.hostname, port: Number(real.port || 5432) });
    const viaProxy = new URL(db.url);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    dir = mkdtempSync(path.join(tmpdir(), "flick-fault-"));
    server = await startServerProcess({ DATABASE_URL: viaProxy.toString(), DATA_DIR: dir });
    const cookie = await setUpFirstAdmin(server);
    const made = await fetch(`${server.url}/api/sources`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.url, cookie },
      body: JSON.stringify({ kind: "metrics", name: "prod" }),
    });
    source = ((await made.json()) as { source: { id: string; secret: string } }).source;
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
    await proxy?.close();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * One point, on a connection of its own: fetch reuses idle keep-alive connections, and one the
   * server closes for idleness just as a request goes out fails "other side closed" with no answer —
   * most likely the one CI failure this test had; a client's race, not what this test is about.
   */
  const ingest = (i: number) =>
    new Promise<Response>((resolve, reject) => {
      const body = JSON.stringify([{ name: "fault_test", ts: 1_700_000_000 + i, value: i }]);
      const req = http.request(
        `${server.url}/ingest/${source.id}`,
        {
          method: "POST",
          agent: false,
          headers: { "content-type": "application/json", authorization: `Bearer ${source.secret}` },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const headers = new Headers();
            for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") headers.set(k, v);
            resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0, headers }));
          });
        },
      );
      req.on("error", (err) =>
        // No answer at all: what the server said is the only clue.
        reject(new Error(`${err.message}; server output:\n${server.output()}`)),
      );
      req.end(body);
    });

  it("answers 503 while the database is down (never 2xx without storing), then recovers by itself", async () => {
    const accepted: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await ingest(i);
      expect(res.status).toBe(202);
      accepted.push(i);
    }

    await proxy.cut();
    for (let i = 100; i < 105; i++) {
      const res = await ingest(i);
      expect(res.status, await res.clone().text()).toBe(503);
      const body = (await res.json()) as { error: { code: string } };
      expect(body.error.code).toBe("unavailable");
      expect(res.headers.get("retry-after")).toBe("5");
    }

    await proxy.restore();
    // postgres.js reconnects on its own; the first requests after the restart may still fail.
    let recovered = false;
    for (let attempt = 0; attempt < 50 && !recovered; attempt++) {
      const res = await ingest(200 + attempt);
      if (res.status === 202) {
        recovered = true;
        accepted.push(200 + attempt);
      } else {
        expect(res.status).toBe(503);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    expect(recovered).toBe(true);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    // Exactly what was acknowledged is stored: nothing from the outage, nothing lost.
    const check = postgres(db.url, { max: 1, onnotice: () => {} });
    const rows = await check<{ value: number }[]>`
      select (payload->>'value')::int as value from signal where source_id = ${source.id} order by 1`;
    await check.end();
    expect(rows.map((r) => r.value)).toEqual(accepted);
    // The server kept running through it.
    expect(server.output()).not.toMatch(/unhandled|uncaught/i);
  }, 60_000);
});
