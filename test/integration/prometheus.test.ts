import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as schema from "@flick/server/schema";
import type { ErrorBody, PrometheusHistory, Source } from "@flick/shared";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { remoteWriteConfig } from "../../web/src/lib/prometheus.ts";
import { countRows } from "../helpers/db.ts";
import { drivers, startTestApp, type TestApp } from "../helpers/harness.ts";
import { freePort, type Running, startExporter, startPrometheus } from "../helpers/prometheus.ts";
import { until } from "../helpers/until.ts";

/**
 * A real Prometheus server (Debian's 2.42) scrapes a small exporter every second and remote-writes
 * to a metrics source's ingest URL, with the source's secret as its bearer credentials: the
 * snappy-compressed protobuf Flick reads is Prometheus's own.
 */
describe("a real Prometheus server remote-writing to a metrics source", () => {
  let t: TestApp;
  let exporter: { address: string; server: Server };
  let prometheus: Running | undefined;
  let admin: string;
  /** What the exporter serves, changed by the test. */
  let exposition = 'checkout_success{zone="a"} 98.5\ncheckout_latency_seconds 0.25\nother_thing 1\n';

  beforeAll(async () => {
    t = await startTestApp("pglite");
    // The app's clock at the real time: Prometheus sends its samples at it (and points dated well
    // ahead of the server's clock are refused).
    t.clock.advance(Date.now() - t.clock.now().getTime());
    exporter = await startExporter(() => exposition);
    admin = await t.setupAdmin();
    const source = await t.createSource(admin, "metrics", {}, "Shop Prometheus");
    const flick = new URL(await t.listen());
    const ingest = new URL(source.ingestUrl);
    ingest.host = flick.host;
    ingest.protocol = flick.protocol;
    // The remote_write block the source's page shows, pasted as it is: the secret, and only the
    // metrics mapped to actions kept (Prometheus's own series, like `up`, are not sent).
    prometheus = await startPrometheus(`global:
  scrape_interval: 1s
scrape_configs:
  - job_name: shop
    static_configs:
      - targets: ["${exporter.address}"]
${remoteWriteConfig({ ...source, ingestUrl: ingest.toString() }, { actions: { checkout_success: "rollback", 'checkout_latency_seconds{job="shop"}': "page" } })}
`);
  });

  afterAll(async () => {
    await prometheus?.stop();
    await new Promise((resolve) => exporter?.server.close(resolve));
    await t?.close();
  });

  const points = async (name: string) =>
    (await t.database.db.select().from(schema.signals).where(eq(schema.signals.kind, "metric.point")))
      .map((s) => s.payload as { name: string; labels: Record<string, string>; ts: string; value: number })
      .filter((p) => p.name === name);

  /** Waits for `check`, failing with what Prometheus logged (a refused request says why there). */
  const waitFor = (what: string, check: () => Promise<boolean>) =>
    until(what, check, 30_000).catch((err: Error) => {
      throw new Error(`${err.message}; prometheus said: ${prometheus?.log() || "nothing"}`);
    });

  it("stores each scraped sample of the kept metrics as a point, with its labels and time", async () => {
    await waitFor("a checkout_success point", async () => (await points("checkout_success")).length > 0);
    const [first] = await points("checkout_success");
    if (!first) throw new Error("no point");
    expect(first.labels).toEqual({ zone: "a", job: "shop", instance: exporter.address });
    expect(first.value).toBe(98.5);
    // Scraped just now, at Prometheus's own time.
    expect(Math.abs(Date.parse(first.ts) - Date.now())).toBeLessThan(60_000);
    expect((await points("checkout_latency_seconds"))[0]?.value).toBe(0.25);
    // Dropped by write_relabel_configs on Prometheus's side; `up` is Prometheus's own series.
    expect(await points("other_thing")).toEqual([]);
    expect(await points("up")).toEqual([]);

    // The value changes at the target: the next scrapes bring it, one point each, a second apart.
    exposition = 'checkout_success{zone="a"} 41\ncheckout_latency_seconds 0.25\n';
    await waitFor(
      "checkout_success at 41 twice",
      async () => (await points("checkout_success")).filter((p) => p.value === 41).length >= 2,
    );
    const series = await points("checkout_success");
    const times = series.map((p) => Date.parse(p.ts)).sort((a, b) => a - b);
    expect(new Set(times).size).toBe(times.length);
    expect(Math.min(...times.slice(1).map((x, i) => x - (times[i] as number)))).toBeGreaterThanOrEqual(500);
    // Prometheus was never refused.
    expect(prometheus?.log()).not.toMatch(/non-recoverable error|status 4\d\d/);
  });

  it("keeps the other series when one has a label longer than a point may carry, and says so", async () => {
    // A second checkout_success series whose label Flick refuses (over 500 characters), scraped
    // beside zone a: they ride in the same batches.
    exposition = `checkout_success{zone="a"} 57\ncheckout_success{zone="b",path="/${"p".repeat(600)}"} 97\ncheckout_latency_seconds 0.25\n`;
    await waitFor("Prometheus told that the long-labelled series was refused", async () =>
      /labels\.path/.test(prometheus?.log() ?? ""),
    );
    await waitFor(
      "checkout_success at 57 three times",
      async () => (await points("checkout_success")).filter((p) => p.value === 57).length >= 3,
    );
    expect((await points("checkout_success")).filter((p) => p.labels.zone === "b")).toEqual([]);
    const listed = await t.request<{ sources: Source[] }>("/api/sources", { cookie: admin });
    expect(listed.body.sources[0]?.lastRefusal).toMatchObject({
      status: 400,
      message: expect.stringMatching(
        /^checkout_success\{.*path="\/p{39}…".*\.labels\.path: .*were stored\)$/,
      ),
    });
  });

  it("loads a series scraped every second as minute means, the series whose label is too long left out and named", async () => {
    // The app's clock at the real time: Prometheus answers for now.
    t.clock.advance(Date.now() - t.clock.now().getTime());
    const other = await t.createSource(admin, "metrics", { actions: { checkout_success: "rollback" } });
    const load = () =>
      t.request<PrometheusHistory & ErrorBody>(`/api/sources/${other.id}/prometheus-history`, {
        cookie: admin,
        json: { url: `http://${prometheus?.address}`, hours: 1 },
      });
    // Minutes are loaded up to the last whole one: the long-labelled series began less than a
    // minute ago, maybe.
    let res = await load();
    await expect
      .poll(
        async () => {
          if (res.body.loads?.[0]?.series !== 2) {
            t.clock.advance(Date.now() - t.clock.now().getTime());
            res = await load();
          }
          return res.body.loads?.[0]?.series ?? res.text;
        },
        { timeout: 70_000, interval: 2_000, message: "both series' minutes loaded" },
      )
      .toBe(2);
    expect(res.status, res.text).toBeLessThan(300);
    // Judged a minute at a time, it is loaded a minute apart, each point its minute's mean
    // (avg_over_time, whose answer has no metric name: the selector's is used).
    expect(res.body.loads).toEqual([
      expect.objectContaining({ query: "checkout_success", series: 2, stepSeconds: 60 }),
    ]);
    expect(res.body.refused).toEqual([
      expect.objectContaining({ path: expect.stringMatching(/^checkout_success\{.*path=.*\.labels\.path$/) }),
    ]);
    const loaded = (
      await t.database.db.select().from(schema.signals).where(eq(schema.signals.sourceId, other.id))
    ).map((s) => s.payload as { name: string; labels: Record<string, string>; ts: string; value: number });
    expect(loaded.length).toBe(res.body.points);
    expect(loaded.length).toBeGreaterThan(0);
    for (const p of loaded) {
      expect(p).toMatchObject({
        name: "checkout_success",
        labels: { zone: "a", job: "shop" },
        history: true,
      });
      expect(Date.parse(p.ts) % 60_000).toBe(0);
      expect(p.value).toBeGreaterThanOrEqual(41);
      expect(p.value).toBeLessThanOrEqual(98.5);
    }
  });
});

/**
 * A metrics source's history loaded from a real Prometheus (its HTTP API), two days of it written
 * into Prometheus's database with promtool first, as a team that backfilled would have it: the
 * series are judged against their past from their first live point, not after 300 of them.
 */
describe.each(drivers)("a metrics source's history, loaded from a real Prometheus, on %s", (driver) => {
  let t: TestApp;
  let admin: string;
  let prometheus: Running | undefined;
  const minute = 60_000;
  /** The usual level of zone a at a time: a daily swing around 98. */
  const usual = (ms: number) => 98 + Math.sin((2 * Math.PI * ms) / 86_400_000);

  beforeAll(async () => {
    t = await startTestApp(driver);
    // The app's clock at the real time: Prometheus answers for now.
    t.clock.advance(Date.now() - t.clock.now().getTime());
    admin = await t.setupAdmin();
    const made = await t.request("/api/actions", {
      cookie: admin,
      json: { name: "rollback", url: "https://deploy.example.com/rollback" },
    });
    expect(made.status, made.text).toBe(201);
    // Fifty hours of checkout_success in two zones, a sample a minute, ending ten minutes ago; and
    // a metric the source does not map.
    const end = Math.floor(Date.now() / minute) * minute - 10 * minute;
    const times = Array.from({ length: 3000 }, (_, i) => end - (3000 - 1 - i) * minute);
    const lines = [
      "# TYPE checkout_success gauge",
      ...times.map((ms) => `checkout_success{job="shop",zone="a"} ${usual(ms).toFixed(3)} ${ms / 1000}`),
      // Zone b broke for half an hour yesterday: the past, not a card now.
      ...times.map(
        (ms, i) => `checkout_success{job="shop",zone="b"} ${i >= 1500 && i < 1530 ? 10 : 97} ${ms / 1000}`,
      ),
      // A second metric, for the load that comes after live points began.
      "# TYPE signup_success gauge",
      ...times.map((ms) => `signup_success{job="shop"} ${usual(ms).toFixed(3)} ${ms / 1000}`),
      "# TYPE other_thing gauge",
      ...times.map((ms) => `other_thing 1 ${ms / 1000}`),
      "# EOF",
    ];
    prometheus = await startPrometheus("global:\n  scrape_interval: 15s\n", {}, `${lines.join("\n")}\n`);
  });

  afterAll(async () => {
    await prometheus?.stop();
    await t?.close();
  });

  const load = (source: { id: string }, url = `http://${prometheus?.address}`, hours = 48) =>
    t.request<PrometheusHistory & ErrorBody>(`/api/sources/${source.id}/prometheus-history`, {
      cookie: admin,
      json: { url, hours },
    });

  it("stores the mapped metrics' last hours a point a minute, once; the first live point is judged on them", async () => {
    const source = await t.createSource(admin, "metrics", { actions: { checkout_success: "rollback" } });
    // Prometheus loads the blocks promtool wrote once it is up.
    let first = await load(source);
    for (let i = 0; i < 50 && first.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 200));
      first = await load(source);
    }
    expect(first.status, `${first.text} (prometheus said: ${prometheus?.log()})`).toBe(202);
    // Its samples come a minute apart (none is scraped here): the history is loaded at that step.
    expect(first.body.loads).toEqual([
      {
        query: "checkout_success",
        series: 2,
        stepSeconds: 60,
        from: expect.any(String),
        to: expect.any(String),
      },
    ]);
    // The last 48 hours a minute apart, in two zones, to five minutes after the last sample (as
    // long as Prometheus lets one stand).
    expect(first.body.points).toBeGreaterThanOrEqual(2 * (2 * 1440 - 10));
    expect(first.body.points).toBeLessThanOrEqual(2 * (2 * 1440 + 1));
    expect(first.body.accepted).toBe(first.body.points);
    const stored = (
      await t.database.db.select().from(schema.signals).where(eq(schema.signals.sourceId, source.id))
    ).map((s) => s.payload as { name: string; labels: Record<string, string>; ts: string; value: number });
    expect(new Set(stored.map((p) => p.name))).toEqual(new Set(["checkout_success"]));
    const zoneA = stored.filter((p) => p.labels.zone === "a");
    expect(zoneA[0]?.labels).toEqual({ job: "shop", zone: "a" });
    // Each at the value Prometheus held for that minute.
    for (const p of zoneA.slice(0, 50)) expect(p.value).toBeCloseTo(usual(Date.parse(p.ts)), 2);

    // Loaded again: nothing twice.
    const again = await load(source);
    expect(again.status, again.text).toBe(200);
    expect(again.body).toMatchObject({ accepted: 0, duplicates: first.body.points });

    expect(zoneA[0]).toMatchObject({ history: true });
    // The agents learn from the history and make no card of it (zone b's break of yesterday); then
    // zone a's first live point, far below its past, is a card at once (without the history, one
    // point is judged against nothing).
    await t.drain();
    expect(await countRows(t.database.db, "card")).toBe(0);
    const res = await t.request(`/ingest/${source.id}`, {
      json: [
        {
          name: "checkout_success",
          labels: { job: "shop", zone: "a" },
          ts: new Date().toISOString(),
          value: 30,
        },
      ],
      origin: null,
      headers: { authorization: `Bearer ${source.secret}` },
    });
    expect(res.status, res.text).toBe(202);
    await t.drain();
    const [card] = await t.database.db
      .select()
      .from(schema.cards)
      .where(eq(schema.cards.fingerprint, 'metric:checkout_success{job="shop",zone="a"}'));
    expect(card?.title).toMatch(/^checkout_success .*dropped \d+%/);
  });

  it("loaded after remote_write began, the history still comes first: the next live point is judged against it", async () => {
    const source = await t.createSource(admin, "metrics", { actions: { signup_success: "rollback" } });
    const send = async (points: { ts: number; value: number }[]) => {
      const res = await t.request(`/ingest/${source.id}`, {
        json: points.map((p) => ({
          name: "signup_success",
          labels: { job: "shop" },
          ts: new Date(p.ts).toISOString(),
          value: p.value,
        })),
        origin: null,
        headers: { authorization: `Bearer ${source.secret}` },
      });
      expect(res.status, res.text).toBe(202);
      await t.drain();
    };
    // Eight live points a minute apart, as usual, before anyone loaded the past (Prometheus's
    // samples end ten minutes ago: these carry on from there).
    const now = Math.floor(Date.now() / minute) * minute;
    await send(
      Array.from({ length: 8 }, (_, i) => ({
        ts: now - (8 - i) * minute,
        value: usual(now - (8 - i) * minute),
      })),
    );
    let loaded = await load(source);
    for (let i = 0; i < 50 && loaded.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 200));
      loaded = await load(source);
    }
    expect(loaded.status, loaded.text).toBe(202);
    await t.drain();
    // Its live points were learned again after the past: an ordinary next point is no card…
    await send([{ ts: now, value: usual(now) }]);
    const fingerprint = 'metric:signup_success{job="shop"}';
    const cards = () =>
      t.database.db.select().from(schema.cards).where(eq(schema.cards.fingerprint, fingerprint));
    const before = (await cards()).length;
    expect(before).toBe(0);
    // …and a drop at the next is a card at once (before, the past came too late to be learned: the
    // series had nine points, short of the 300 it needs to break).
    await send([{ ts: now + minute, value: 30 }]);
    const after = await cards();
    expect(after.length, JSON.stringify(after.map((c) => c.title))).toBe(before + 1);
    expect(after.at(-1)?.title).toMatch(/^signup_success .*dropped \d+%/);
  });

  it("refuses, naming why: no metric mapped, no Prometheus there, not Prometheus, a selector it cannot parse", async () => {
    const before = await countRows(t.database.db, "signal");
    const none = await t.createSource(admin, "metrics");
    const unmapped = await load(none);
    expect(unmapped.status).toBe(400);
    expect(unmapped.body.error.message).toMatch(/maps no metric to an action yet/);
    const source = await t.createSource(admin, "metrics", { actions: { checkout_success: "rollback" } });
    const closed = await load(source, `http://127.0.0.1:${await freePort()}`);
    expect(closed.status, closed.text).toBe(503);
    expect(closed.body.error.message).toMatch(/^Prometheus at http:\/\/127\.0\.0\.1:\d+ did not answer: /);
    const flick = await t.listen();
    const other = await load(source, flick);
    expect(other.status).toBe(503);
    expect(other.body.error.message).toMatch(/with something other than Prometheus's JSON$/);
    const ftp = await load(source, "ftp://prometheus:9090");
    expect(ftp.status).toBe(400);
    expect(ftp.body.error.message).toMatch(/url must be the Prometheus server's http\(s\) address/);
    const week = await load(source, `http://${prometheus?.address}`, 500);
    expect(week.status).toBe(400);
    const broken = await t.createSource(admin, "metrics", {
      actions: { "checkout_success{zone=a}": "rollback" },
    });
    const unparsed = await load(broken);
    expect(unparsed.status, unparsed.text).toBe(400);
    expect(unparsed.body.error.message).toMatch(
      /^Prometheus refused checkout_success\{zone=a\}\[15m\]: .*parse error/,
    );
    expect(await countRows(t.database.db, "signal")).toBe(before);
  });
});

/**
 * A Prometheus that asks for credentials: its own basic auth (web.yml's basic_auth_users, as
 * Prometheus serves it) and, in front of it, a reverse proxy taking a bearer token (as an
 * oauth2-proxy or a gateway would; Prometheus itself takes no bearer tokens). The credentials are
 * sent with the load's requests only.
 */
describe("history from a Prometheus that asks for credentials", () => {
  let t: TestApp;
  let admin: string;
  let prometheus: Running | undefined;
  let proxy: Server | undefined;
  let proxyUrl = "";
  let endless: Server | undefined;
  const token = "gateway-token-7f3a";
  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

  beforeAll(async () => {
    t = await startTestApp("pglite");
    t.clock.advance(Date.now() - t.clock.now().getTime());
    admin = await t.setupAdmin();
    const minute = 60_000;
    const end = Math.floor(Date.now() / minute) * minute - 10 * minute;
    const times = Array.from({ length: 120 }, (_, i) => end - (119 - i) * minute);
    const history = [
      "# TYPE queue_depth gauge",
      ...times.map((ms, i) => `queue_depth{job="worker"} ${10 + (i % 7)} ${ms / 1000}`),
      "# EOF",
    ];
    // The password "flick-history", bcrypt-hashed as Prometheus's web config wants it (made with
    // Python's crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH)); htpasswd -B makes the same).
    const webConfig = `basic_auth_users:
  flick: $2b$12$hFOPLjM1PowjpzLjvNBEF.24e0AkOXklOoGY/Dcebnz9uZgQgKciG
`;
    prometheus = await startPrometheus(
      "global:\n  scrape_interval: 15s\n",
      { "web.yml": webConfig },
      `${history.join("\n")}\n`,
    );
    // The gateway: a bearer token in, Prometheus's own credentials out.
    proxy = createServer((req, res) => {
      if (req.headers.authorization !== `Bearer ${token}`) {
        res.writeHead(401, { "content-type": "text/plain" }).end("Unauthorized");
        return;
      }
      const upstream = httpRequest(
        `http://${prometheus?.address}${req.url}`,
        { headers: { authorization: basic("flick", "flick-history") } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on("error", () => res.writeHead(502).end());
      upstream.end();
    });
    await new Promise<void>((resolve) => proxy?.listen(0, "127.0.0.1", resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    // Something that answers Prometheus's API with no end and no stated size.
    endless = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"status":"success","data":{"resultType":"matrix","result":[');
      const chunk = " ".repeat(1 << 20);
      let sent = 0;
      const more = () => {
        while (sent < 80 && res.write(chunk)) sent++;
        if (sent < 80) res.once("drain", more);
        else res.end("]}}");
      };
      more();
      res.on("error", () => {});
    });
    await new Promise<void>((resolve) => endless?.listen(0, "127.0.0.1", resolve));
  });

  afterAll(async () => {
    await prometheus?.stop();
    await new Promise((resolve) => proxy?.close(resolve));
    await new Promise((resolve) => endless?.close(resolve));
    await t?.close();
  });

  const load = (source: { id: string }, body: Record<string, unknown>) =>
    t.request<PrometheusHistory & ErrorBody>(`/api/sources/${source.id}/prometheus-history`, {
      cookie: admin,
      json: { url: `http://${prometheus?.address}`, ...body },
    });

  it("loads with a user and password or a bearer token, and says which is missing or wrong", async () => {
    const source = await t.createSource(admin, "metrics", { actions: { queue_depth: "page" } });
    // None given: Prometheus asks for them.
    let none = await load(source, {});
    for (let i = 0; i < 50 && none.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 200));
      none = await load(source, {});
    }
    expect(none.status, none.text).toBe(400);
    expect(none.body.error.message).toMatch(
      /^Prometheus at http:\/\/127\.0\.0\.1:\d+ asks for credentials \(401\): give a bearer token, or a user and password$/,
    );
    const wrong = await load(source, { basicAuth: { username: "flick", password: "guess" } });
    expect(wrong.status, wrong.text).toBe(400);
    expect(wrong.body.error.message).toMatch(/refused the credentials given \(401\)$/);
    const both = await load(source, { bearerToken: token, basicAuth: { username: "flick", password: "x" } });
    expect(both.status).toBe(400);
    expect(both.body.error.message).toBe("bearerToken: give a bearer token or a user and password, not both");
    expect(await countRows(t.database.db, "signal")).toBe(0);

    const right = await load(source, { basicAuth: { username: "flick", password: "flick-history" } });
    expect(right.status, right.text).toBe(202);
    expect(right.body.accepted).toBeGreaterThanOrEqual(115);
    // Through the gateway with its token: the same points, already here.
    const gateway = await load(source, { url: proxyUrl, bearerToken: token });
    expect(gateway.status, gateway.text).toBe(200);
    expect(gateway.body).toMatchObject({ accepted: 0, duplicates: right.body.points });
    const badToken = await load(source, { url: proxyUrl, bearerToken: "stolen" });
    expect(badToken.status).toBe(400);
    expect(badToken.body.error.message).toMatch(/refused the credentials given \(401\)$/);
  });

  it("stops reading an answer past its size limit though it stated no size", async () => {
    const source = await t.createSource(admin, "metrics", { actions: { queue_depth: "page" } });
    const address = endless?.address() as AddressInfo;
    const res = await load(source, { url: `http://127.0.0.1:${address.port}` });
    expect(res.status, res.text.slice(0, 300)).toBe(413);
    expect(res.body.error.message).toMatch(/^Prometheus's answer for queue_depth\[15m\] is over \d+ bytes$/);
  });
});
