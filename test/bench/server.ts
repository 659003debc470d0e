import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type DatabaseOptions, migrateDatabase, openDatabase } from "@flick/server/db";
import type { FeedPage } from "@flick/shared";
import { sql } from "drizzle-orm";
import { emptyPostgresDatabase } from "../helpers/harness.ts";
import {
  repoRoot,
  type ServerProcess,
  setUpFirstAdmin,
  signInTo,
  startServerProcess,
} from "../helpers/server-process.ts";
import { arg, round, type Table, writeReport } from "./lib.ts";

/** What autocannon (a separate process on loopback) measured in one run. */
interface Load {
  requests: number;
  perSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

interface DriverResult {
  driver: string;
  cards: number;
  coldStartEmptyMs: number;
  coldStartMs: number;
  rssIdleMb: number;
  rssLoadMb: number;
  feed: Load;
  /** The second page: a keyset query on every request, not cached. */
  deep: Load;
  pageBytes: number;
  gzipBytes: number;
}

const autocannonBin = path.join(repoRoot, "test/node_modules/autocannon/autocannon.js");

/** Runs autocannon in its own process and reads its JSON summary. */
async function autocannon(
  url: string,
  clients: number,
  seconds: number,
  headers: string[] = [],
): Promise<Load> {
  const args = [autocannonBin, "-c", String(clients), "-d", String(seconds), "-j"];
  for (const h of headers) args.push("-H", h);
  args.push(url);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    let err = "";
    child.stdout.on("data", (d) => {
      text += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("exit", (code) =>
      code === 0 ? resolve(text) : reject(new Error(`autocannon ${code}: ${err}`)),
    );
  });
  const r = JSON.parse(out) as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
  };
  return {
    requests: r.requests.total,
    perSec: round(r.requests.average, 0),
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
  };
}

/** Resident set size of a process in MB, from /proc. */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m?.[1] ? round(Number(m[1]) / 1024, 0) : Number.NaN;
}

/** Samples a process's RSS while `work` runs; returns the work's result and the peak. */
async function peakRss<T>(pid: number, work: Promise<T>): Promise<{ value: T; peakMb: number }> {
  let peak = rssMb(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMb(pid));
  }, 200);
  try {
    return { value: await work, peakMb: peak };
  } finally {
    clearInterval(timer);
  }
}

/** A Hono hello-world on @hono/node-server in its own process: the framework's ceiling here. */
async function helloCeiling(clients: number, seconds: number): Promise<Load> {
  const code = `
    import { serve } from "@hono/node-server";
    import { Hono } from "hono";
    const app = new Hono().get("/", (c) => c.text("Hello Hono!"));
    serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => console.log("port " + info.port));
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", code], {
    cwd: path.join(repoRoot, "test"),
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const port = await new Promise<string>((resolve) => {
      child.stdout.on("data", (d) => {
        const m = /port (\d+)/.exec(String(d));
        if (m?.[1]) resolve(m[1]);
      });
    });
    return await autocannon(`http://127.0.0.1:${port}/`, clients, seconds);
  } finally {
    child.kill("SIGKILL");
  }
}

/** Fills the card table with `count` pending cards shaped like real ones (a series preview, evidence). */
async function seedCards(options: DatabaseOptions, count: number): Promise<void> {
  const handle = await openDatabase(options);
  try {
    await migrateDatabase(options, handle);
    await handle.db.execute(sql`
      insert into card (id, agent, fingerprint, kind, title, summary, priority, priority_factors,
                        preview, change, evidence, status, created_at, updated_at)
      select 'bench_' || g, 'metrics', 'metric:bench:' || g, 'action',
             'checkout_success dropped 38% at 14:05 (series ' || g || ')',
             'The series broke from its normal behaviour; the anomaly score crossed the alarm level.',
             random(), '{"severity":0.7,"blastRadius":0.4,"confidence":0.8,"recency":0.9,"acceptRate":0.5}'::jsonb,
             jsonb_build_object('type', 'series', 'points',
               (select jsonb_agg(jsonb_build_array(i, round((100 + 10 * sin(i / 5.0))::numeric, 2)))
                  from generate_series(1, 60) i), 'marked', jsonb_build_array(58, 59)),
             '{"type":"webhook","action":"rollback","params":{"service":"checkout"}}'::jsonb,
             jsonb_build_object('facts', jsonb_build_array(
               jsonb_build_object('label', 'metric', 'value', 'checkout_success'),
               jsonb_build_object('label', 'score', 'value', '0.93'),
               jsonb_build_object('label', 'window', 'value', '14:00–14:10'))),
             'pending', now() - g * interval '1 second', now() - g * interval '1 second'
        from generate_series(1, ${count}) g
    `);
    await handle.db.execute(sql`analyze card`);
  } finally {
    await handle.close();
  }
}

/** The admin's cookie: through the setup link on a new database, by password after a restart. */
const signInAdmin = (server: ServerProcess) =>
  server.setupUrl
    ? setUpFirstAdmin(server, { email: "admin@example.com", name: "Admin" })
    : signInTo(server, "admin@example.com");

async function benchDriver(
  driver: "pglite" | "postgres",
  count: number,
  clients: number,
  seconds: number,
): Promise<DriverResult> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "flick-bench-server-"));
  let env: Record<string, string> = { DATA_DIR: dataDir };
  let options: DatabaseOptions = { driver: "pglite", dataDir: path.join(dataDir, "pglite") };
  let drop = async () => {};
  if (driver === "postgres") {
    const db = await emptyPostgresDatabase("flick_bench_server");
    env = { DATABASE_URL: db.url };
    options = { driver: "postgres", url: db.url, maxConnections: 2 };
    drop = db.drop;
  }
  try {
    // Cold start on an empty database: migrations included.
    let server = await startServerProcess(env, 60_000, "bundle");
    const coldStartEmptyMs = round(server.startMs, 0);
    await signInAdmin(server);
    await server.stop("SIGTERM");

    await seedCards(options, count);

    server = await startServerProcess(env, 60_000, "bundle");
    const coldStartMs = round(server.startMs, 0);
    try {
      const cookie = await signInAdmin(server);
      const first = await fetch(`${server.url}/api/feed`, {
        headers: { cookie, "accept-encoding": "identity" },
      });
      const body = await first.text();
      const page = JSON.parse(body) as FeedPage;
      if (page.cards.length !== 20 || !page.nextCursor)
        throw new Error(`feed returned ${page.cards.length} cards`);
      const zipped = await fetch(`${server.url}/api/feed`, { headers: { cookie } });
      const gzipBytes = Number(zipped.headers.get("content-length") ?? Number.NaN);
      await zipped.arrayBuffer();
      const browser = [`cookie: ${cookie}`, "accept-encoding: gzip, deflate, br"];
      await new Promise((r) => setTimeout(r, 2000));
      const rssIdleMb = rssMb(server.pid);
      const { value: feed, peakMb } = await peakRss(
        server.pid,
        autocannon(`${server.url}/api/feed`, clients, seconds, browser),
      );
      const deep = await autocannon(
        `${server.url}/api/feed?cursor=${encodeURIComponent(page.nextCursor)}`,
        clients,
        seconds,
        browser,
      );
      return {
        driver,
        cards: count,
        coldStartEmptyMs,
        coldStartMs,
        rssIdleMb,
        rssLoadMb: peakMb,
        feed,
        deep,
        pageBytes: Buffer.byteLength(body),
        gzipBytes,
      };
    } finally {
      await server.stop("SIGTERM");
    }
  } finally {
    await drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const count = Number(arg("cards", "100000"));
  const clients = Number(arg("clients", "100"));
  const seconds = Number(arg("seconds", "10"));
  console.log("  building the server bundle…");
  execFileSync(process.execPath, ["build.mjs"], { cwd: path.join(repoRoot, "server"), stdio: "inherit" });
  console.log(`  hono hello-world: ${clients} clients × ${seconds}s…`);
  const hello = await helloCeiling(clients, seconds);
  const drivers: ("pglite" | "postgres")[] = process.env.TEST_DATABASE_URL
    ? ["pglite", "postgres"]
    : ["pglite"];
  const results: DriverResult[] = [];
  for (const d of drivers) {
    console.log(`  ${d}: ${count} cards, ${clients} clients × ${seconds}s on GET /api/feed…`);
    results.push(await benchDriver(d, count, clients, seconds));
  }
  const tables: Table[] = [
    {
      title: `GET /api/feed with ${count.toLocaleString("en")} pending cards, ${clients} concurrent clients, vs a Hono hello-world`,
      columns: [
        "server",
        "requests",
        "req/s",
        "ratio to hello-world",
        "p50 ms",
        "p99 ms",
        "non-2xx",
        "errors",
      ],
      rows: [
        [
          "hono hello-world (ceiling)",
          hello.requests,
          hello.perSec,
          1,
          hello.p50,
          hello.p99,
          hello.non2xx,
          hello.errors,
        ],
        ...results.flatMap((r) =>
          (
            [
              ["first page", r.feed],
              ["second page (cursor)", r.deep],
            ] as const
          ).map(([what, l]) => [
            `flick feed ${what}, ${r.driver}`,
            l.requests,
            l.perSec,
            round(l.perSec / hello.perSec, 3),
            l.p50,
            l.p99,
            l.non2xx,
            l.errors,
          ]),
        ),
      ],
      notes: [
        `autocannon ${seconds}s in its own process on loopback; the server is the bundle \`pnpm start\` runs, its own process; both share the 2 cores.`,
        `Each request carries a session cookie (looked up every time) and accepts gzip, as a browser does. A page is 20 cards with a 60-point series preview each: ${round((results[0]?.pageBytes ?? 0) / 1024, 1)} KB of JSON, ${round((results[0]?.gzipBytes ?? 0) / 1024, 1)} KB gzipped.`,
        "First page: served from the per-process cache after one index lookup of the newest card event (FeedPageCache). Second page: a keyset query and serialization on every request, gzipped per request.",
      ],
    },
    {
      title: "Server process: cold start and memory",
      columns: [
        "driver",
        "cold start, empty database (ms)",
        `cold start, ${count.toLocaleString("en")} cards (ms)`,
        "RSS idle (MB)",
        "RSS peak under feed load (MB)",
      ],
      rows: results.map((r) => [r.driver, r.coldStartEmptyMs, r.coldStartMs, r.rssIdleMb, r.rssLoadMb]),
      notes: [
        "Cold start: from spawning `node server/dist/main.js` to its 'Flick is running at' line (database opened and migrated, routes ready).",
        "RSS from /proc/<pid>/status, idle 2 s after the first request, peak sampled every 200 ms during the feed load.",
        "PGlite runs inside the server process, so its RSS includes the database; with PostgreSQL the database is another process.",
      ],
    },
  ];
  console.log(writeReport("server", { hello, results }, tables));
}
