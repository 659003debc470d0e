import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openDatabase } from "@flick/server/db";
import { signals } from "@flick/server/schema";
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { emptyPostgresDatabase, PASSWORD } from "../helpers/harness.ts";
import { type ServerProcess, startServerProcess } from "../helpers/server-process.ts";

type Target = "pglite" | "postgres";
const targets: Target[] = process.env.TEST_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];

async function signIn(server: ServerProcess): Promise<string> {
  const res = await fetch(`${server.url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: server.url },
    body: JSON.stringify({ email: "ada@example.com", password: PASSWORD }),
  });
  return (res.headers.getSetCookie()[0] ?? "").split(";")[0] ?? "";
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
    const dir = mkdtempSync(path.join(tmpdir(), "flick-kill-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env: Record<string, string> = { DATA_DIR: dir };
    if (target === "postgres") {
      const db = await emptyPostgresDatabase("flick_kill");
      cleanups.push(db.drop);
      env.DATABASE_URL = db.url;
    }
    let server = await startServerProcess(env);
    await fetch(`${server.url}/api/auth/setup`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.url },
      body: JSON.stringify({
        token: server.setupUrl?.split("#")[1],
        email: "ada@example.com",
        name: "Ada",
        password: PASSWORD,
      }),
    });
    const cookie = await signIn(server);
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
    await new Promise((r) => setTimeout(r, 1500));
    await server.stop("SIGKILL");
    dead = true;
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
  const options =
    target === "postgres"
      ? { driver: "postgres" as const, url: env.DATABASE_URL ?? "" }
      : { driver: "pglite" as const, dataDir: path.join(env.DATA_DIR ?? "", "pglite") };
  const handle = await openDatabase(options);
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
