import type { CardEvent, IngestResult, Source } from "@flick/shared";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, PASSWORD } from "../helpers/harness.ts";
import { type ServerProcess, startServerProcess } from "../helpers/server-process.ts";
import { SseReader } from "../helpers/sse.ts";

const SIGNALS = 10_000;
const TOPICS = 500;

/** Two real server processes on one PostgreSQL share the agent work and each other's live events. */
describe.runIf(process.env.TEST_DATABASE_URL)("two server processes on one PostgreSQL", () => {
  let a: ServerProcess;
  let b: ServerProcess;
  let sql: postgres.Sql;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const db = await freshDatabase("postgres");
    drop = db.drop;
    const url = db.options.driver === "postgres" ? db.options.url : "";
    sql = postgres(url, { max: 2, onnotice: () => {} });
    const env = { DATABASE_URL: url, WORKER_BATCH_SIZE: "100", DATA_DIR: "/tmp/flick-unused" };
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  }, 120_000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await sql?.end();
    await drop?.();
  });

  it(`splits ${SIGNALS} signals between them with no duplicate cards, and fans out every card event`, async () => {
    const setupUrl = a.setupUrl ?? b.setupUrl;
    expect(setupUrl).toBeTruthy();
    const token = setupUrl?.split("#")[1];
    const setup = await fetch(`${a.url}/api/auth/setup`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: a.url },
      body: JSON.stringify({ token, email: "admin@example.com", name: "Admin", password: PASSWORD }),
    });
    expect(setup.status, await setup.clone().text()).toBe(201);
    const cookie = (setup.headers.getSetCookie()[0] ?? "").split(";")[0] ?? "";
    const made = await fetch(`${b.url}/api/sources`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: b.url, cookie },
      body: JSON.stringify({
        kind: "webhook",
        name: "load",
        settings: { idPath: "$.id", fingerprintPath: "$.topic" },
      }),
    });
    expect(made.status, await made.clone().text()).toBe(201);
    const source = ((await made.json()) as { source: Source }).source;

    // A live client on process A only.
    const stream = await fetch(`${a.url}/api/stream`, { headers: { cookie } });
    const live = new SseReader(stream);
    await live.next((e) => e.event === "ready");

    const perRequest = 1000;
    const posts = [];
    for (let r = 0; r < SIGNALS / perRequest; r++) {
      const items = Array.from({ length: perRequest }, (_, i) => {
        const n = r * perRequest + i;
        return { id: `sig-${n}`, topic: `topic-${n % TOPICS}` };
      });
      const target = r % 2 === 0 ? a : b;
      posts.push(
        fetch(`${target.url}/ingest/${source.id}`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${source.secret}` },
          body: JSON.stringify(items),
        }).then(async (res) => {
          expect(res.status).toBe(202);
          return ((await res.json()) as IngestResult).accepted;
        }),
      );
    }
    expect((await Promise.all(posts)).reduce((x, y) => x + y, 0)).toBe(SIGNALS);

    await expect
      .poll(async () => (await sql`select count(*)::int as n from signal where state = 'done'`)[0]?.n, {
        timeout: 120_000,
        interval: 500,
      })
      .toBe(SIGNALS);

    const cards = await sql`select fingerprint, (evidence->>'count')::int as count from card`;
    const retried =
      await sql`select count(*)::int as n, max(attempts)::int as max from signal where attempts > 1`;
    const counts = await sql`select s.fingerprint, count(*)::int as n from signal s group by 1`;
    const off = cards.filter((c) => counts.find((x) => x.fingerprint === c.fingerprint)?.n !== c.count);
    if (off.length > 0)
      console.log(
        "retried",
        retried,
        "off",
        off.length,
        off.slice(0, 3),
        counts.find((x) => x.fingerprint === off[0]?.fingerprint),
      );
    expect(cards.length).toBe(TOPICS);
    expect(new Set(cards.map((c) => c.fingerprint)).size).toBe(TOPICS);
    expect(cards.reduce((n, c) => n + Number(c.count), 0)).toBe(SIGNALS);

    const workers = await sql`select processed_by, count(*)::int as n from signal group by processed_by`;
    expect(workers.length, JSON.stringify(workers)).toBe(2);
    for (const w of workers) expect(w.n).toBeGreaterThan(SIGNALS / 10);

    // Every card created anywhere reached the client on A, whichever process wrote it.
    const createdOnA = new Set<string>();
    while (createdOnA.size < TOPICS) {
      const e = await live.next((x) => x.event === "card.created", 30_000);
      createdOnA.add((JSON.parse(e.data) as CardEvent).cardId);
    }
    expect(createdOnA.size).toBe(TOPICS);
    await live.close();
  }, 240_000);
});
