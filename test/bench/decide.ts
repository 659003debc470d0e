import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Card, FeedPage, Source } from "@flick/shared";
import { Agent, setGlobalDispatcher } from "undici";
import { emptyPostgresDatabase, PASSWORD } from "../helpers/harness.ts";
import { type ServerProcess, setUpFirstAdmin, startServerProcess } from "../helpers/server-process.ts";
import { arg, percentile, round, type Table, writeReport } from "./lib.ts";

interface Result {
  driver: string;
  reviewers: number;
  decisions: number;
  errors: number;
  perSec: number;
  p50: number;
  p99: number;
  max: number;
}

async function json<T>(res: Response): Promise<T> {
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

function post(server: ServerProcess, p: string, body: unknown, cookie?: string) {
  return fetch(`${server.url}${p}`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: server.url, ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
  });
}

const cookieOf = (res: Response) => (res.headers.getSetCookie()[0] ?? "").split(";")[0] ?? "";

async function benchDriver(
  driver: "pglite" | "postgres",
  reviewers: number,
  cardsPerReviewer: number,
): Promise<Result> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "flick-bench-decide-"));
  let env: Record<string, string> = { DATA_DIR: dataDir };
  let drop = async () => {};
  if (driver === "postgres") {
    const db = await emptyPostgresDatabase("flick_bench_decide");
    env = { DATABASE_URL: db.url };
    drop = db.drop;
  }
  const server = await startServerProcess({ ...env, LOG_LEVEL: "warn", UNDO_WINDOW_SECONDS: "8" });
  try {
    const admin = await setUpFirstAdmin(server, { email: "admin@example.com", name: "Admin" });
    // Reviewers join through real invitations.
    const cookies: string[] = [];
    for (let i = 0; i < reviewers; i++) {
      const inv = await json<{ token: string }>(
        await post(server, "/api/invites", { role: "reviewer" }, admin),
      );
      const res = await post(server, "/api/auth/accept-invite", {
        token: inv.token,
        email: `r${i}@example.com`,
        name: `Reviewer ${i}`,
        password: PASSWORD,
      });
      cookies.push(cookieOf(res));
    }
    // Cards come the normal way: signals through a webhook source, turned into cards by the agent.
    const { source } = await json<{ source: Source }>(
      await post(
        server,
        "/api/sources",
        { kind: "webhook", name: "bench", settings: { idPath: "$.id", fingerprintPath: "$.id" } },
        admin,
      ),
    );
    const total = reviewers * cardsPerReviewer;
    for (let i = 0; i < total; i += 1000) {
      const items = Array.from({ length: Math.min(1000, total - i) }, (_, j) => ({ id: `c-${i + j}` }));
      await fetch(`${server.url}/ingest/${source.id}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${source.secret}` },
        body: JSON.stringify(items),
      });
    }
    const cards: Card[] = [];
    for (let tries = 0; cards.length < total && tries < 600; tries++) {
      cards.length = 0;
      let cursor: string | null = null;
      do {
        const page: FeedPage = await json<FeedPage>(
          await fetch(`${server.url}/api/feed?limit=100${cursor ? `&cursor=${cursor}` : ""}`, {
            headers: { cookie: admin },
          }),
        );
        cards.push(...page.cards);
        cursor = page.nextCursor;
      } while (cursor);
      if (cards.length < total) await new Promise((r) => setTimeout(r, 500));
    }

    // Reviewers already have the app open: their connections exist before the timed part.
    await Promise.all(
      cookies.map(async (cookie) =>
        (await fetch(`${server.url}/api/auth/me`, { headers: { cookie } })).arrayBuffer(),
      ),
    );

    const latencies: number[] = [];
    let errors = 0;
    const start = performance.now();
    await Promise.all(
      cookies.map(async (cookie, r) => {
        const mine = cards.filter((_, i) => i % reviewers === r);
        for (const [i, card] of mine.entries()) {
          const t0 = performance.now();
          const res = await post(
            server,
            `/api/cards/${card.id}/decisions`,
            {
              verdict: i % 3 === 0 ? "reject" : i % 3 === 1 ? "accept" : "snooze",
              cardVersion: card.version,
              idempotencyKey: randomUUID(),
              snoozeUntil: new Date(Date.now() + 86400_000).toISOString(),
            },
            cookie,
          );
          await res.arrayBuffer();
          latencies.push(performance.now() - t0);
          if (res.status !== 201) errors++;
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      driver,
      reviewers,
      decisions: latencies.length,
      errors,
      perSec: round(latencies.length / seconds),
      p50: round(percentile(latencies, 50)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies.at(-1) ?? Number.NaN),
    };
  } finally {
    await server.stop();
    await drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  setGlobalDispatcher(new Agent({ connections: 128 }));
  const reviewers = Number(arg("reviewers", "50"));
  const perReviewer = Number(arg("cards", "20"));
  const drivers: ("pglite" | "postgres")[] = process.env.TEST_DATABASE_URL
    ? ["pglite", "postgres"]
    : ["pglite"];
  const results: Result[] = [];
  for (const d of drivers) {
    console.log(`  ${d}: ${reviewers} reviewers × ${perReviewer} decisions…`);
    results.push(await benchDriver(d, reviewers, perReviewer));
  }
  const tables: Table[] = [
    {
      title: `Decision requests under ${reviewers} concurrent reviewers`,
      columns: ["driver", "decisions", "non-201", "decisions/s", "p50 ms", "p99 ms", "max ms"],
      rows: results.map((r) => [r.driver, r.decisions, r.errors, r.perSec, r.p50, r.p99, r.max]),
      notes: [
        "Each reviewer decides its own cards back to back (accept, reject or snooze in turn), with a session cookie and Origin check, as the web app does.",
        "Server in its own process with workers on; the load generator shares the 2 cores.",
      ],
    },
  ];
  console.log(writeReport("decide", { results }, tables));
}
