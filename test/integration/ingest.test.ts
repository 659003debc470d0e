import { randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import * as schema from "@flick/server/schema";
import type { ErrorBody, IngestResult, Source, StrayRequest } from "@flick/shared";
import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countRows } from "../helpers/db.ts";
import { filesIn, fixture, githubFixtures, hmacSha256Hex } from "../helpers/fixtures.ts";
import { drivers, ingestInto, startTestApp, type TestApp } from "../helpers/harness.ts";
import { remoteWriteHeaders, type Series, snappyLiterals, writeRequest } from "../helpers/remote-write.ts";

describe.each(drivers)("ingest on %s", (driver) => {
  let t: TestApp;
  let admin: string;
  let gh: Source;
  let sentry: Source;
  let metrics: Source;
  let alerts: Source;
  let feedback: Source;
  let hook: Source;

  beforeAll(async () => {
    t = await startTestApp(driver, { INGEST_MAX_BODY_BYTES: String(256 * 1024) });
    admin = await t.setupAdmin();
    gh = await t.createSource(admin, "github");
    sentry = await t.createSource(admin, "sentry");
    metrics = await t.createSource(admin, "metrics");
    alerts = await t.createSource(admin, "alertmanager");
    feedback = await t.createSource(admin, "feedback");
    hook = await t.createSource(admin, "webhook", { titlePath: "$.alert.title", idPath: "$.id" });
  });
  afterAll(async () => t?.close());

  /** A source as its admin sees it in Settings. */
  const listed = async (id: string) => {
    const res = await t.request<{ sources: Source[] }>("/api/sources", { cookie: admin });
    const found = res.body.sources.find((s) => s.id === id);
    if (!found) throw new Error(`source ${id} not listed: ${res.text}`);
    return found;
  };

  const ghPost = (body: string, headers: Record<string, string> = {}, source = gh) =>
    t.request<IngestResult & ErrorBody>(`/ingest/${source.id}`, {
      body,
      origin: null,
      headers: {
        "content-type": "application/json",
        "x-github-event": "ping",
        "x-github-delivery": randomUUID(),
        "x-hub-signature-256": `sha256=${hmacSha256Hex(source.secret, body)}`,
        ...headers,
      },
    });

  describe("GitHub webhooks", () => {
    it("ingests every fixture payload, one signal each, with a fingerprint per subject", async () => {
      const all = githubFixtures();
      expect(all.length).toBeGreaterThan(100);
      const before = await countRows(t.database.db, "signal");
      for (const f of all) {
        const res = await ghPost(f.body, { "x-github-event": f.event });
        expect(res.status, `${f.event}/${f.file}: ${res.text}`).toBe(202);
        expect(res.body.accepted).toBe(1);
      }
      expect(await countRows(t.database.db, "signal")).toBe(before + all.length);
      const pr = await t.database.db.query.signals.findFirst({
        where: (s, { eq }) => eq(s.kind, "github.pull_request"),
      });
      expect(pr?.fingerprint).toMatch(/^github:pr:[\w.-]+\/[\w.-]+#\d+$/);
    });

    it("answers a redelivery with 200 and stores nothing new", async () => {
      const body = fixture("github-webhooks/ping/payload.json");
      const delivery = randomUUID();
      const first = await ghPost(body, { "x-github-delivery": delivery });
      expect(first.status, first.text).toBe(202);
      const before = await countRows(t.database.db, "signal");
      const again = await ghPost(body, { "x-github-delivery": delivery });
      expect(again.status, again.text).toBe(200);
      expect(again.body).toMatchObject({ accepted: 0, duplicates: 1 });
      expect(await countRows(t.database.db, "signal")).toBe(before);
    });

    it("rejects a bad or missing signature with 401 and stores nothing", async () => {
      const body = fixture("github-webhooks/ping/payload.json");
      const before = await countRows(t.database.db, "signal");
      const wrong = await ghPost(body, {
        "x-hub-signature-256": `sha256=${hmacSha256Hex("not-the-secret", body)}`,
      });
      expect(wrong.status, wrong.text).toBe(401);
      expect(wrong.body.error.message).toContain("X-Hub-Signature-256");
      const tampered = await ghPost(body, {
        "x-hub-signature-256": `sha256=${hmacSha256Hex(gh.secret, `${body} `)}`,
      });
      expect(tampered.status).toBe(401);
      const missing = await t.request<ErrorBody>(`/ingest/${gh.id}`, {
        body,
        origin: null,
        headers: {
          "content-type": "application/json",
          "x-github-event": "ping",
          "x-github-delivery": randomUUID(),
        },
      });
      expect(missing.status).toBe(401);
      expect(missing.body.error.message).toBe("X-Hub-Signature-256 header is missing");
      expect(await countRows(t.database.db, "signal")).toBe(before);
    });

    it("shows the source's admin what its last refused request was told", async () => {
      const source = await t.createSource(admin, "github", {}, "Refused hook");
      const refusal = async () => (await listed(source.id)).lastRefusal;
      expect(await refusal()).toBeNull();
      const body = fixture("github-webhooks/ping/payload.json");
      const wrong = await ghPost(body, { "x-hub-signature-256": "sha256=00" }, source);
      expect(wrong.status).toBe(401);
      expect(await refusal()).toMatchObject({
        status: 401,
        message: wrong.body.error.message,
        at: t.clock.now().toISOString(),
      });
      // A sender refused in a loop is written down at most every half minute.
      t.clock.advance(10_000);
      expect((await ghPost("{", {}, source)).status).toBe(400);
      expect(await refusal()).toMatchObject({ status: 401 });
      t.clock.advance(25_000);
      const broken = await ghPost("{", {}, source);
      expect(await refusal()).toMatchObject({ status: 400, message: broken.body.error.message });
      // Delivered once the secret is right: the refusal stays, older than the last signal.
      expect((await ghPost(body, {}, source)).status).toBe(202);
      const now = await listed(source.id);
      expect(now.lastSignalAt).not.toBeNull();
      expect(now.lastRefusal?.message).toMatch(/not valid JSON/);
      // A source that refused nothing says nothing; a deleted one takes its refusal with it.
      expect((await listed(hook.id)).lastRefusal).toBeNull();
      const gone = await t.request(`/api/sources/${source.id}`, { method: "DELETE", cookie: admin });
      expect(gone.status, gone.text).toBeLessThan(300);
      expect(
        await t.database.db
          .select()
          .from(schema.sourceRefusals)
          .where(eq(schema.sourceRefusals.sourceId, source.id)),
      ).toEqual([]);
    });

    it("shows admins the requests to sources that do not exist: a removed source's sender, a mistyped URL", async () => {
      const strays = async () =>
        (await t.request<{ strays: StrayRequest[] }>("/api/sources", { cookie: admin })).body.strays;
      const post = (path: string, userAgent = "Prometheus/2.53.0") =>
        t.request(path, {
          json: [{ name: "up", ts: t.clock.now().toISOString(), value: 1 }],
          origin: null,
          headers: { authorization: "Bearer whatever", "user-agent": userAgent },
        });
      const before = await countRows(t.database.db, "signal");
      // A removed source whose Prometheus still sends.
      const removed = await t.createSource(admin, "metrics", {}, "Old metrics");
      expect(
        (await t.request(`/api/sources/${removed.id}`, { method: "DELETE", cookie: admin })).status,
      ).toBe(200);
      const gone = await post(`/ingest/${removed.id}`);
      expect(gone.status).toBe(404);
      expect(await strays()).toEqual([
        {
          path: `/ingest/${removed.id}`,
          at: t.clock.now().toISOString(),
          status: 404,
          message: (gone.body as ErrorBody).error.message,
          userAgent: "Prometheus/2.53.0",
        },
      ]);
      // A mistyped one, a while later; a scanner's guess at a path is not kept.
      t.clock.advance(5_000);
      expect((await post(`/ingest/${removed.id.slice(0, -1)}`, "curl/8.5")).status).toBe(404);
      expect((await post("/ingest/wp-login.php")).status).toBe(404);
      expect((await strays()).map((s) => [s.path, s.userAgent])).toEqual([
        [`/ingest/${removed.id.slice(0, -1)}`, "curl/8.5"],
        [`/ingest/${removed.id}`, "Prometheus/2.53.0"],
      ]);
      // A sender in a loop is written at most every half minute, and any path at most every two seconds.
      t.clock.advance(10_000);
      expect((await post(`/ingest/${removed.id}`)).status).toBe(404);
      expect((await strays())[1]?.at).toBe(new Date(t.clock.now().getTime() - 15_000).toISOString());
      // A Sentry DSN naming a project that is not one.
      t.clock.advance(25_000);
      expect((await t.request("/api/98765/store/", { json: {}, origin: null })).status).toBe(404);
      expect((await strays())[0]?.path).toBe("/api/98765/ (a Sentry DSN's project)");
      // Twenty paths at most, the newest.
      for (let i = 0; i < 25; i++) {
        t.clock.advance(3_000);
        await post(`/ingest/src_${String(i).padStart(22, "0")}`);
      }
      const kept = await strays();
      expect(kept).toHaveLength(20);
      expect(kept[0]?.path).toBe(`/ingest/src_${"0".repeat(20)}24`);
      expect(await countRows(t.database.db, "signal")).toBe(before);
      // Admins only; an admin who fixed the sender forgets them.
      const reviewer = await t.addUser(admin, "reviewer", "rita-strays@example.com");
      expect((await t.request("/api/sources/strays", { method: "DELETE", cookie: reviewer })).status).toBe(
        403,
      );
      const cleared = await t.request<{ cleared: number }>("/api/sources/strays", {
        method: "DELETE",
        cookie: admin,
      });
      expect(cleared.body).toEqual({ cleared: 20 });
      expect(await strays()).toEqual([]);
    });

    it("names the missing field of a malformed event with 400", async () => {
      const payload = JSON.parse(fixture("github-webhooks/pull_request/opened.payload.json")) as Record<
        string,
        unknown
      >;
      delete payload.number;
      const res = await ghPost(JSON.stringify(payload), { "x-github-event": "pull_request" });
      expect(res.status, res.text).toBe(400);
      expect(res.body.error.message).toMatch(/^number: /);
      const notJson = await ghPost("{not json", { "x-github-event": "push" });
      expect(notJson.status).toBe(400);
      expect(notJson.body.error.code).toBe("invalid_json");
      const noEvent = await ghPost("{}", { "x-github-event": "" });
      expect(noEvent.status).toBe(400);
      expect(noEvent.body.error.message).toContain("X-GitHub-Event");
    });

    it("refuses source settings the agents could not use, naming the field, and keeps the old ones", async () => {
      const patch = (settings: Record<string, unknown>) =>
        t.request<ErrorBody & { source: { settings: Record<string, unknown> } }>(
          `/api/sources/${feedback.id}`,
          {
            cookie: admin,
            method: "PATCH",
            json: { settings },
          },
        );
      const good = await patch({ clusterThreshold: 8, names: ["Acme Notes"], repository: "acme/notes" });
      expect(good.status, good.text).toBe(200);
      for (const [settings, field] of [
        [{ similarity: 2 }, "settings.similarity"],
        [{ clusterThreshold: "ten" }, "settings.clusterThreshold"],
        [{ repository: "notes" }, "settings.repository"],
        [{ names: "Acme" }, "settings.names"],
      ] as const) {
        const bad = await patch(settings);
        expect(bad.status, JSON.stringify(settings)).toBe(400);
        expect(bad.body.error.message).toMatch(new RegExp(`^${field.replace(".", "\\.")}: `));
      }
      expect((await patch({ repository: "notes" })).body.error.message).toBe(
        'settings.repository: must be a GitHub repository as "owner/name"',
      );
      const badMetrics = await t.request<ErrorBody>(`/api/sources/${metrics.id}`, {
        cookie: admin,
        method: "PATCH",
        json: { settings: { actions: { checkout_success: 3 } } },
      });
      expect(badMetrics.body.error.message).toMatch(/^settings\.actions\.checkout_success: /);
      const kept = await t.request<{ source: { settings: Record<string, unknown> } }>(
        `/api/sources/${feedback.id}`,
        {
          cookie: admin,
        },
      );
      expect(kept.body.source.settings).toEqual({
        clusterThreshold: 8,
        names: ["Acme Notes"],
        repository: "acme/notes",
      });
    });

    it("answers 404 for an unknown source, 403 for a disabled one, 413 for too large a body", async () => {
      const before = await countRows(t.database.db, "signal");
      const unknown = await t.request<ErrorBody>("/ingest/src_nope", { body: "{}", origin: null });
      expect(unknown.status).toBe(404);
      const big = await ghPost(JSON.stringify({ zen: "x".repeat(300 * 1024), hook_id: 1 }));
      expect(big.status, big.text).toBe(413);
      const off = await t.createSource(admin, "github");
      await t.request(`/api/sources/${off.id}`, { cookie: admin, method: "PATCH", json: { enabled: false } });
      const disabled = await ghPost(fixture("github-webhooks/ping/payload.json"), {}, off);
      expect(disabled.status, disabled.text).toBe(403);
      expect(await countRows(t.database.db, "signal")).toBe(before);
    });

    it("refuses a gzip bomb with 413", async () => {
      const bomb = gzipSync(Buffer.alloc(5 * 1024 * 1024, 0x20));
      const res = await t.fetch(
        new Request(`http://localhost/ingest/${gh.id}`, {
          method: "POST",
          body: bomb,
          headers: {
            "content-type": "application/json",
            "content-encoding": "gzip",
            "x-github-event": "ping",
            "x-github-delivery": randomUUID(),
            "x-hub-signature-256": "sha256=00",
          },
        }),
      );
      expect(res.status).toBe(413);
    });
  });

  describe("Sentry", () => {
    it("ingests every Sentry webhook fixture, signed with the client secret", async () => {
      for (const file of filesIn("sentry/webhooks")) {
        const body = fixture(file);
        const resource = file.split("/").pop()?.split(".")[0] ?? "";
        const res = await t.request<IngestResult>(`/ingest/${sentry.id}`, {
          body,
          origin: null,
          headers: {
            "content-type": "application/json",
            "sentry-hook-resource": resource,
            "sentry-hook-signature": hmacSha256Hex(sentry.secret, body),
            "request-id": randomUUID(),
          },
        });
        expect(res.status, `${file}: ${res.text}`).toBe(202);
      }
      const issue = await t.database.db.query.signals.findFirst({
        where: (s, { eq }) => eq(s.kind, "sentry.webhook.issue"),
      });
      expect(issue?.fingerprint).toBe("sentry:issue:1170820242");
    });

    it("takes SDK envelopes and the store endpoint, keyed by the DSN's public key", async () => {
      const dsn = new URL(sentry.sentryDsn ?? "");
      const project = dsn.pathname.slice(1);
      for (const file of filesIn("sentry/events")) {
        const event = JSON.parse(fixture(file)) as Record<string, unknown>;
        const id = randomUUID().replace(/-/g, "");
        const envelope = [
          JSON.stringify({ event_id: id, sent_at: new Date().toISOString() }),
          JSON.stringify({ type: "event" }),
          JSON.stringify({ ...event, event_id: id }),
          JSON.stringify({ type: "client_report" }),
          JSON.stringify({ discarded_events: [] }),
        ].join("\n");
        const res = await t.request<IngestResult>(`/api/${project}/envelope/?sentry_key=${dsn.username}`, {
          body: envelope,
          origin: null,
          headers: { "content-type": "application/x-sentry-envelope" },
        });
        expect(res.status, `${file}: ${res.text}`).toBe(202);
        expect(res.body).toMatchObject({ accepted: 1, ignored: 1 });
      }
      const store = await t.request<IngestResult>(`/api/${project}/store/`, {
        json: { event_id: randomUUID().replace(/-/g, ""), message: "store endpoint works", level: "error" },
        origin: null,
        headers: {
          "x-sentry-auth": `Sentry sentry_version=7, sentry_key=${dsn.username}, sentry_client=test/1.0`,
        },
      });
      expect(store.status, store.text).toBe(202);
      const wrong = await t.request<ErrorBody>(`/api/${project}/envelope/?sentry_key=deadbeef`, {
        body: `{}\n{"type":"event"}\n{}`,
        origin: null,
      });
      expect(wrong.status).toBe(401);
    });

    it("groups the same error from different lines and values together, and different errors apart", async () => {
      const dsn = new URL(sentry.sentryDsn ?? "");
      const send = async (value: string, lineno: number, fn = "handler") => {
        const id = randomUUID().replace(/-/g, "");
        const event = {
          event_id: id,
          exception: {
            values: [
              {
                type: "TypeError",
                value,
                stacktrace: {
                  frames: [
                    {
                      filename: "node_modules/express/router.js",
                      function: "next",
                      lineno: 10,
                      in_app: false,
                    },
                    { filename: "/srv/app/src/checkout.3f9a1c2b.js", function: fn, lineno, in_app: true },
                  ],
                },
              },
            ],
          },
        };
        const body = `${JSON.stringify({ event_id: id })}\n${JSON.stringify({ type: "event" })}\n${JSON.stringify(event)}`;
        const res = await t.request<IngestResult>(
          `/api/${dsn.pathname.slice(1)}/envelope/?sentry_key=${dsn.username}`,
          {
            body,
            origin: null,
          },
        );
        const row = await t.database.db.query.signals.findFirst({
          where: (s, { eq }) => eq(s.id, res.body.ids[0] ?? ""),
        });
        return row?.fingerprint;
      };
      const a = await send("Cannot read property 'id' of undefined (order 1234)", 40);
      const b = await send("Cannot read property 'total' of undefined (order 98)", 57);
      const c = await send("Cannot read property 'id' of undefined", 40, "renderCart");
      expect(a).toMatch(/^sentry:ex:/);
      expect(b).toBe(a);
      expect(c).not.toBe(a);
    });
  });

  describe("metrics, alerts, feedback and generic webhooks", () => {
    it("stores a batch of metric points as one signal each; resending is idempotent", async () => {
      const points = Array.from({ length: 50 }, (_, i) => ({
        name: "checkout_success",
        labels: { region: "eu", env: "prod" },
        ts: 1_700_000_000 + i * 60,
        value: 0.98 - i / 1000,
      }));
      const post = (body: unknown, secret = metrics.secret) =>
        t.request<IngestResult & ErrorBody>(`/ingest/${metrics.id}`, {
          json: body,
          origin: null,
          headers: { authorization: `Bearer ${secret}` },
        });
      const first = await post(points);
      expect(first.status, first.text).toBe(202);
      expect(first.body.accepted).toBe(50);
      const again = await post({ points });
      expect(again.status).toBe(200);
      expect(again.body.duplicates).toBe(50);

      // A series' past, sent to teach its detector, says so on each point (never a card; see
      // prometheus.test.ts for the agent's side).
      const past = await post([{ ...points[0], ts: 1_600_000_000, history: true }]);
      expect(past.status, past.text).toBe(202);
      const [pastPoint] = await t.database.db
        .select()
        .from(schema.signals)
        .where(inArray(schema.signals.id, past.body.ids));
      expect(pastPoint?.payload).toMatchObject({ ts: "2020-09-13T12:26:40.000Z", history: true });
      const bad = await post([points[0], { ...points[1], value: "high" }]);
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/^1\.value: /);
      const unauth = await post(points, "wrong");
      expect(unauth.status).toBe(401);
    });

    it("reads a Prometheus remote write request as metric points; refuses a broken one naming why", async () => {
      const post = (body: Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}) =>
        t.fetch(
          new Request(`http://localhost/ingest/${metrics.id}`, {
            method: "POST",
            body,
            headers: { ...remoteWriteHeaders(metrics.secret), ...headers },
          }),
        );
      const start = Date.parse("2026-11-20T10:00:00Z");
      const series: Series[] = [
        {
          labels: { __name__: "queue_depth", job: "worker", instance: "10.0.0.7:9100" },
          samples: [
            [start, 12],
            [start + 15_000, 14.5],
            // Prometheus's staleness marker (a NaN) when the target went away: not a value.
            [start + 30_000, Number.NaN],
          ],
        },
        { labels: { __name__: "payouts_ok" }, samples: [[start, 97.5]] },
      ];
      const res = await post(snappyLiterals(writeRequest(series)));
      const body = (await res.json()) as IngestResult;
      expect(res.status, JSON.stringify(body)).toBe(202);
      expect(body).toMatchObject({ accepted: 3, ignored: 1 });
      const stored = await t.database.db
        .select()
        .from(schema.signals)
        .where(inArray(schema.signals.id, body.ids));
      expect(
        stored
          .map((s) => ({ kind: s.kind, fingerprint: s.fingerprint, payload: s.payload }))
          .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      ).toEqual([
        {
          kind: "metric.point",
          fingerprint: "metric:payouts_ok{}",
          payload: { name: "payouts_ok", labels: {}, ts: "2026-11-20T10:00:00.000Z", value: 97.5 },
        },
        {
          kind: "metric.point",
          fingerprint: 'metric:queue_depth{instance="10.0.0.7:9100",job="worker"}',
          payload: {
            name: "queue_depth",
            labels: { job: "worker", instance: "10.0.0.7:9100" },
            ts: "2026-11-20T10:00:00.000Z",
            value: 12,
          },
        },
        {
          kind: "metric.point",
          fingerprint: 'metric:queue_depth{instance="10.0.0.7:9100",job="worker"}',
          payload: {
            name: "queue_depth",
            labels: { job: "worker", instance: "10.0.0.7:9100" },
            ts: "2026-11-20T10:00:15.000Z",
            value: 14.5,
          },
        },
      ]);
      // Prometheus retries what failed: the same request again stores nothing twice.
      const again = await post(snappyLiterals(writeRequest(series)));
      expect(((await again.json()) as IngestResult).duplicates).toBe(3);
      // Times are Prometheus's milliseconds, whatever their size (JSON reads a small number as seconds).
      const old = await post(
        snappyLiterals(
          writeRequest([{ labels: { __name__: "payouts_ok" }, samples: [[999_999_999_000, 1]] }]),
        ),
      );
      const [oldId] = ((await old.json()) as IngestResult).ids;
      const [oldPoint] = await t.database.db
        .select()
        .from(schema.signals)
        .where(inArray(schema.signals.id, [oldId ?? ""]));
      expect(oldPoint?.payload).toMatchObject({ ts: "2001-09-09T01:46:39.000Z" });

      const before = await countRows(t.database.db, "signal");
      const refused = async (body: Uint8Array<ArrayBuffer>, status: number, message: RegExp) => {
        const r = await post(body);
        const text = await r.text();
        expect(r.status, text).toBe(status);
        expect((JSON.parse(text) as ErrorBody).error.message).toMatch(message);
      };
      // Not snappy at all (the raw protobuf, uncompressed).
      await refused(writeRequest(series), 400, /^body is not valid snappy: /);
      // Snappy that says it holds more than a body may.
      await refused(new Uint8Array([0x80, 0x80, 0x80, 0x40, 0x00]), 413, /larger than/);
      // Snappy holding something that is not a WriteRequest.
      await refused(
        snappyLiterals(new Uint8Array([0x0a, 0x7f, 0x01])),
        400,
        /^body is not a Prometheus remote write request: /,
      );
      // A series without a name, and a label value longer than a point may carry: named by series.
      await refused(
        snappyLiterals(writeRequest([{ labels: { job: "x" }, samples: [[start, 1]] }])),
        400,
        /no __name__ label/,
      );
      expect(await countRows(t.database.db, "signal")).toBe(before);
      // A series with a label longer than a point may carry is refused by name, once for all its
      // samples; the batch's other series are kept (Prometheus drops a batch answered 4xx: one odd
      // series would lose every other series' samples for as long as it is scraped).
      await refused(
        snappyLiterals(
          writeRequest([
            {
              labels: { __name__: "up", pod: "p".repeat(600) },
              samples: [
                [start, 1],
                [start + 15_000, 1],
              ],
            },
            { labels: { __name__: "payouts_ok" }, samples: [[start + 60_000, 97.4]] },
          ]),
        ),
        400,
        /^up\{pod="p{40}…"\}\.labels\.pod: .+ \(1 problem; the other 1 point was stored\)$/,
      );
      const kept = await t.database.db
        .select()
        .from(schema.signals)
        .where(eq(schema.signals.fingerprint, "metric:payouts_ok{}"));
      expect(kept.map((s) => (s.payload as { value: number }).value)).toContain(97.4);
      expect(await countRows(t.database.db, "signal")).toBe(before + 1);
      // Settings tells the admin, as Prometheus's log tells its operator.
      t.clock.advance(31_000);
      await refused(
        snappyLiterals(
          writeRequest([{ labels: { __name__: "up", path: "/".repeat(501) }, samples: [[start, 1]] }]),
        ),
        400,
        /^up\{path=.+ \(1 problem; nothing else was in it\)$/,
      );
      expect((await listed(metrics.id)).lastRefusal).toMatchObject({
        status: 400,
        message: expect.stringMatching(/^up\{path=/),
      });
    });

    it("refuses a point from the future (a sender's clock a year off) or no real time, naming it; a clock minutes fast is fine", async () => {
      const now = t.clock.now().getTime();
      const post = (body: unknown) =>
        t.request<IngestResult & ErrorBody>(`/ingest/${metrics.id}`, {
          json: body,
          origin: null,
          headers: { authorization: `Bearer ${metrics.secret}` },
        });
      const point = (ts: number | string, value = 1) => ({
        name: "orders_ok",
        labels: { shop: "eu" },
        ts,
        value,
      });
      const before = await countRows(t.database.db, "signal");
      // Dated next year: its series' detector would pass over every real point as late until then.
      const nextYear = await post([point(now / 1000), point((now + 365 * 86_400_000) / 1000)]);
      expect(nextYear.status, nextYear.text).toBe(400);
      expect(nextYear.body.error.message).toBe(
        `1.ts: ${new Date(now + 365 * 86_400_000).toISOString()} is more than 10 minutes ahead of this server's clock (${new Date(now).toISOString()})`,
      );
      // Microseconds read as milliseconds (year 55,000), and year 0001 for "unknown": no time at all.
      for (const ts of [now * 1000, 8.64e15, "0001-01-01T00:00:00Z", -1]) {
        const res = await post({ points: [point(ts)] });
        expect(res.status, res.text).toBe(400);
        expect(res.body.error.message).toBe("points.0.ts: must be a Unix time or ISO date (1970 to 9999)");
      }
      expect(await countRows(t.database.db, "signal")).toBe(before);
      const fast = await post([point((now + 5 * 60_000) / 1000, 2)]);
      expect(fast.status, fast.text).toBe(202);
      // By remote write, the series from the future is refused and the others kept.
      const res = await t.fetch(
        new Request(`http://localhost/ingest/${metrics.id}`, {
          method: "POST",
          body: snappyLiterals(
            writeRequest([
              { labels: { __name__: "skewed", host: "b" }, samples: [[now + 2 * 86_400_000, 1]] },
              { labels: { __name__: "orders_ok", shop: "us" }, samples: [[now, 3]] },
            ]),
          ),
          headers: remoteWriteHeaders(metrics.secret),
        }),
      );
      const body = (await res.json()) as ErrorBody;
      expect(res.status).toBe(400);
      expect(body.error.message).toBe(
        `skewed{host="b"}.ts: ${new Date(now + 2 * 86_400_000).toISOString()} is more than 10 minutes ahead of this server's clock (${new Date(now).toISOString()}) (1 problem; the other 1 point was stored)`,
      );
      expect(await countRows(t.database.db, "signal")).toBe(before + 2);
    });

    it("turns each Alertmanager alert into a signal", async () => {
      for (const file of filesIn("alertmanager")) {
        const body = JSON.parse(fixture(file)) as { alerts: unknown[] };
        const res = await t.request<IngestResult>(`/ingest/${alerts.id}`, {
          json: body,
          origin: null,
          headers: { authorization: `Bearer ${alerts.secret}` },
        });
        expect(res.status, `${file}: ${res.text}`).toBe(202);
        expect(res.body.accepted).toBe(body.alerts.length);
      }
    });

    it("reads feedback as JSON items and as a real CSV export", async () => {
      const json = await t.request<IngestResult>(`/ingest/${feedback.id}`, {
        json: [{ id: "r1", text: "The app crashes when I sync", author: "ana", channel: "play" }],
        origin: null,
        headers: { authorization: `Bearer ${feedback.secret}` },
      });
      expect(json.status, json.text).toBe(202);
      const csv = fixture("feedback/mini-bar/for_clustering/Garmin_Connect__problem_report.csv");
      const res = await t.request<IngestResult>(`/ingest/${feedback.id}`, {
        body: csv,
        origin: null,
        headers: { authorization: `Bearer ${feedback.secret}`, "content-type": "text/csv" },
      });
      expect(res.status, res.text).toBe(202);
      expect(res.body.accepted).toBe(200);
      const broken = await t.request<ErrorBody>(`/ingest/${feedback.id}`, {
        body: 'id,text\n1,"never closed',
        origin: null,
        headers: { authorization: `Bearer ${feedback.secret}`, "content-type": "text/csv" },
      });
      expect(broken.status).toBe(400);
      expect(broken.body.error.message).toContain("CSV is malformed");

      // A help desk's export names its writer "Email" (and the text "Message"): the author.
      const desk = await t.request<IngestResult>(`/ingest/${feedback.id}`, {
        body: "Email,User,Message\nbo@example.com,bo,Export to CSV please\n,,Dark mode?\n",
        origin: null,
        headers: { authorization: `Bearer ${feedback.secret}`, "content-type": "text/csv" },
      });
      expect(desk.status, desk.text).toBe(202);
      const stored = await t.database.db
        .select({ payload: schema.signals.payload })
        .from(schema.signals)
        .where(inArray(schema.signals.id, desk.body.ids));
      expect(stored.map((s) => (s.payload as { author?: string }).author).sort()).toEqual([
        "bo@example.com",
        undefined,
      ]);
      // The same in JSON items (an author, where given, stays the author).
      const items = await t.request<IngestResult>(`/ingest/${feedback.id}`, {
        json: {
          items: [
            { text: "Sync fails", userId: "u-42" },
            { text: "Sync fails", author: "cy", email: "x@y" },
          ],
        },
        origin: null,
        headers: { authorization: `Bearer ${feedback.secret}` },
      });
      expect(items.status, items.text).toBe(202);
      const authors = await t.database.db
        .select({ payload: schema.signals.payload })
        .from(schema.signals)
        .where(inArray(schema.signals.id, items.body.ids));
      expect(authors.map((s) => (s.payload as { author?: string }).author).sort()).toEqual(["cy", "u-42"]);
    });

    it("reads feedback exports as they come: Google Play's reviews in UTF-16, Excel's semicolons, an NPS survey's", async () => {
      const send = (body: Uint8Array<ArrayBuffer>) =>
        t.fetch(
          new Request(`http://localhost/ingest/${feedback.id}`, {
            method: "POST",
            body,
            headers: { authorization: `Bearer ${feedback.secret}`, "content-type": "text/csv" },
          }),
        );
      const payloads = async (ids: string[]) =>
        (await t.database.db.select().from(schema.signals).where(inArray(schema.signals.id, ids)))
          .map((s) => s.payload as Record<string, string | number>)
          .sort((a, b) => String(a.text).localeCompare(String(b.text)));
      // Google Play Console's review export: UTF-16 (little-endian, with its byte order mark), its
      // own column names, a reply and the review's link among them.
      const play = [
        "Package Name,App Version Code,App Version Name,Reviewer Language,Device,Review Submit Date and Time,Review Submit Millis Since Epoch,Review Last Update Date and Time,Review Last Update Millis Since Epoch,Star Rating,Review Title,Review Text,Developer Reply Date and Time,Developer Reply Millis Since Epoch,Developer Reply Text,Review Link",
        'com.acme.shop,412,4.12.0,fr,a52,2026-11-20T09:14:03Z,1795598043000,2026-11-20T09:14:03Z,1795598043000,1,,"Plante à l\'ouverture, impossible de payer",,,,https://play.google.com/console/developers/8473629104857362910/app/4972849183746529104/user-feedback/review-details?reviewId=gp:AOqpTOH3kQz8vXw2nL7mR5tY9bF1cD6eG4hJ0iK8lM3nO7pQ2rS5tU9vW1xY4zA6bC8dE0fG2hI&corpus=PUBLIC_REVIEWS&n=1',
        "com.acme.shop,412,4.12.0,en,a52,2026-11-21T18:40:00Z,1795718400000,2026-11-21T18:40:00Z,1795718400000,5,,Love the new checkout,2026-11-22T08:00:00Z,1795766400000,Thanks!,https://play.google.com/console/developers/8473629104857362910/app/4972849183746529104/user-feedback/review-details?reviewId=gp:AOqpTOH3kQz8vXw2nL7mR5tY9bF1cD6eG4hJ0iK8lM3nO7pQ2rS5tU9vW1xY4zA6bC8dE0fG2hI&corpus=PUBLIC_REVIEWS&n=2",
      ].join("\r\n");
      const utf16 = new Uint8Array(2 + play.length * 2);
      utf16.set([0xff, 0xfe]);
      for (let i = 0; i < play.length; i++) {
        utf16[2 + 2 * i] = play.charCodeAt(i) & 0xff;
        utf16[3 + 2 * i] = play.charCodeAt(i) >> 8;
      }
      const fromPlay = await send(utf16);
      const playBody = (await fromPlay.json()) as IngestResult;
      expect(fromPlay.status, JSON.stringify(playBody)).toBe(202);
      expect(await payloads(playBody.ids)).toMatchObject([
        {
          text: "Love the new checkout",
          rating: 5,
          ts: "2026-11-21T18:40:00.000Z",
          // No id column: its content makes one (the review's link is longer than an id may be).
          id: expect.stringMatching(/^[0-9a-f]{64}$/),
        },
        { text: "Plante à l'ouverture, impossible de payer", rating: 1, ts: "2026-11-20T09:14:03.000Z" },
      ]);
      // Excel in a locale whose decimal mark is a comma writes semicolons (with a BOM and CRLF).
      const excel = new TextEncoder().encode(
        '\uFEFFid;text;author;date\r\nx1;"L\'export CSV ne marche pas; aidez-moi";Zoé;2026-11-23\r\nx2;Mode sombre svp;Luc;2026-11-24\r\n',
      );
      const fromExcel = await send(excel);
      const excelBody = (await fromExcel.json()) as IngestResult;
      expect(fromExcel.status, JSON.stringify(excelBody)).toBe(202);
      expect(await payloads(excelBody.ids)).toMatchObject([
        {
          id: "x1",
          text: "L'export CSV ne marche pas; aidez-moi",
          author: "Zoé",
          ts: "2026-11-23T00:00:00.000Z",
        },
        { id: "x2", text: "Mode sombre svp", author: "Luc" },
      ]);
      // An NPS survey's export: its "Score" is out of 10, not stars — left out, the comments kept.
      const nps = await send(
        new TextEncoder().encode(
          "Score,Comment,Email\n9,Support answered within minutes,ana@example.com\n3,Checkout is too slow,bo@example.com\n",
        ),
      );
      const npsBody = (await nps.json()) as IngestResult;
      expect(nps.status, JSON.stringify(npsBody)).toBe(202);
      const fromNps = await payloads(npsBody.ids);
      expect(fromNps.map((p) => [p.text, p.author, p.rating])).toEqual([
        ["Checkout is too slow", "bo@example.com", undefined],
        ["Support answered within minutes", "ana@example.com", undefined],
      ]);
      // Not UTF-16 after all: said so.
      const odd = await send(new Uint8Array([0xff, 0xfe, 0x41]));
      expect(odd.status).toBe(400);
      expect(((await odd.json()) as ErrorBody).error.message).toBe("request body is not valid UTF-16LE");
    });

    it("maps generic webhooks with the source's paths and requires the id it names", async () => {
      const ok = await t.request<IngestResult>(`/ingest/${hook.id}`, {
        json: [
          { id: "a-1", alert: { title: "Disk almost full" } },
          { id: "a-2", alert: { title: "Disk almost full" } },
        ],
        origin: null,
        headers: { authorization: `Bearer ${hook.secret}` },
      });
      expect(ok.status, ok.text).toBe(202);
      expect(ok.body.accepted).toBe(2);
      const missing = await t.request<ErrorBody>(`/ingest/${hook.id}`, {
        json: { alert: { title: "no id" } },
        origin: null,
        headers: { authorization: `Bearer ${hook.secret}` },
      });
      expect(missing.status).toBe(400);
      expect(missing.body.error.message).toBe("id: is missing (the source's idPath)");
    });

    it("tells admins when each source's latest signal arrived, test signals aside", async () => {
      const fresh = await t.createSource(admin, "webhook", { idPath: "$.id" }, "Fresh hook");
      const quiet = await t.createSource(admin, "webhook", { idPath: "$.id" }, "Quiet hook");
      const lastOf = async () => {
        const res = await t.request<{ sources: Source[] }>("/api/sources", { cookie: admin });
        expect(res.status, res.text).toBe(200);
        return Object.fromEntries(res.body.sources.map((s) => [s.id, s.lastSignalAt]));
      };
      expect((await lastOf())[fresh.id]).toBeNull();
      const signals = await countRows(t.database.db, "signal");
      const test = await t.request(`/api/sources/${fresh.id}/test`, { cookie: admin, method: "POST" });
      expect(test.status, test.text).toBe(202);
      await expect.poll(async () => countRows(t.database.db, "signal")).toBe(signals + 1);
      expect((await lastOf())[fresh.id]).toBeNull();
      t.clock.advance(90_000);
      await ingestInto(t, fresh, { id: "f-1", alert: { title: "Disk almost full" } });
      const last = await lastOf();
      expect(last[fresh.id]).toBe(t.clock.now().toISOString());
      expect(last[quiet.id]).toBeNull();
      // The other sources' own latest signals, from the tests before.
      expect(typeof last[hook.id]).toBe("string");
    });
  });

  it("stores every request of a concurrent burst exactly once (group commit)", async () => {
    const before = await countRows(t.database.db, "signal");
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        t.request<IngestResult>(`/ingest/${hook.id}`, {
          // Every third request repeats an earlier id: the duplicates must be reported as such.
          json: { id: `burst-${i % 3 === 2 ? i - 1 : i}`, alert: { title: `t${i}` } },
          origin: null,
          headers: { authorization: `Bearer ${hook.secret}` },
        }),
      ),
    );
    const accepted = results.reduce((n, r) => n + r.body.accepted, 0);
    const duplicates = results.reduce((n, r) => n + r.body.duplicates, 0);
    expect(accepted).toBe(40);
    expect(duplicates).toBe(20);
    expect(await countRows(t.database.db, "signal")).toBe(before + 40);
  });
});
