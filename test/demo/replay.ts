// Replays the team's real fixtures (../shared/fixtures) into a running Flick through its public
// ingest endpoints, so the built-in agents make cards the way they would for a real team.
// Where a story needs it (a deploy, then trouble), fixture fields are changed: the default branch,
// a conclusion, timestamps shifted to end now. Each change is named below.
import { createHmac, randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Source } from "@flick/shared";
import { loadCorpus } from "../bench/nab/corpus.ts";

type Json = Record<string, unknown>;
const minute = 60_000;

export interface ReplayOptions {
  baseUrl: string;
  /** An admin API token (Settings → tokens, or POST /api/tokens). */
  token: string;
  fixturesDir: string;
  log?: (line: string) => void;
  now?: () => number;
  /** Called after each request (a test drains the agents here, as a live worker would). */
  afterEach?: () => Promise<unknown>;
}

export interface ReplayReport {
  signals: number;
  requests: number;
  sources: string[];
}

/**
 * A POST that is sent again when the connection dropped before any answer: a kept-alive socket
 * the server closed just as this reused it (the server's event loop busy with the agents on the
 * embedded database, say). Safe: every delivery carries its own id, so one stored before the drop
 * answers "duplicate" the second time.
 */
async function send(url: string, init: RequestInit): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, init);
    } catch (err) {
      if (attempt >= 3) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

export async function replayFixtures(o: ReplayOptions): Promise<ReplayReport> {
  const log = o.log ?? (() => {});
  const now = o.now ?? Date.now;
  const base = o.baseUrl.replace(/\/$/, "");
  const report: ReplayReport = { signals: 0, requests: 0, sources: [] };
  const read = (rel: string) => readFileSync(path.join(o.fixturesDir, rel), "utf8");
  const json = (rel: string) => JSON.parse(read(rel)) as Json;

  const api = async <T>(p: string, init: RequestInit = {}): Promise<T> => {
    const res = await fetch(`${base}${p}`, {
      ...init,
      headers: { authorization: `Bearer ${o.token}`, "content-type": "application/json", ...init.headers },
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? "GET"} ${p}: ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  };
  const { sources: existing } = await api<{ sources: Source[] }>("/api/sources");
  const source = async (kind: Source["kind"], name: string, settings: Json = {}) => {
    const found = existing.find((s) => s.name === name);
    if (found) return found;
    const { source: made } = await api<{ source: Source }>("/api/sources", {
      method: "POST",
      body: JSON.stringify({ kind, name, settings }),
    });
    report.sources.push(name);
    return made;
  };
  const ingest = async (s: Source, body: string, headers: Record<string, string>, p = `/ingest/${s.id}`) => {
    const res = await send(`${base}${p}`, { method: "POST", body, headers });
    report.requests++;
    if (res.status !== 202 && res.status !== 200) {
      throw new Error(`ingest into ${s.name}: ${res.status} ${(await res.text()).slice(0, 300)}`);
    }
    const r = (await res.json()) as { accepted: number };
    await o.afterEach?.();
    report.signals += r.accepted;
  };

  const gh = await source("github", "Demo GitHub");
  const sentry = await source("sentry", "Demo Sentry", { repository: "acme/shop" });
  // Issues about a metric go to the operations repository (a rollback action for checkout).
  const metrics = await source("metrics", "Demo metrics", {
    actions: { checkout_success: "rollback" },
    repository: "acme/ops",
  });
  const alerts = await source("alertmanager", "Demo Alertmanager");
  const feedback = await source("feedback", "Demo feedback", {
    clusterThreshold: 5,
    repository: "acme/app",
    names: ["Garmin Connect", "Garmin", "Huawei Health", "Huawei", "Samsung Health", "Samsung"],
  });

  const github = (event: string, payload: Json) => {
    const body = JSON.stringify(payload);
    return ingest(gh, body, {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": `sha256=${createHmac("sha256", gh.secret).update(body).digest("hex")}`,
    });
  };
  const bearer = (s: Source, body: unknown) =>
    ingest(s, JSON.stringify(body), {
      "content-type": "application/json",
      authorization: `Bearer ${s.secret}`,
    });
  const dsn = new URL(sentry.sentryDsn ?? "http://x@x/0");
  const sentryEvent = (event: Json) =>
    ingest(
      sentry,
      JSON.stringify({ ...event, event_id: randomUUID().replace(/-/g, "") }),
      {
        "content-type": "application/json",
        "x-sentry-auth": `Sentry sentry_version=7, sentry_key=${dsn.username}`,
      },
      `/api/${dsn.pathname.slice(1)}/store/`,
    );

  // 1. Every GitHub fixture as delivered (most make no card: that is the point of ranking).
  const ghDir = path.join(o.fixturesDir, "github-webhooks");
  let ghCount = 0;
  for (const event of readdirSync(ghDir, { withFileTypes: true })) {
    if (!event.isDirectory()) continue;
    for (const file of readdirSync(path.join(ghDir, event.name))) {
      if (!file.endsWith(".json")) continue;
      await github(event.name, json(`github-webhooks/${event.name}/${file}`));
      ghCount++;
    }
  }
  log(`GitHub: ${ghCount} fixture deliveries`);

  // 2. Metric series from NAB, shifted so each ends now.
  const corpus = loadCorpus(
    path.join(o.fixturesDir, "nab/data"),
    path.join(o.fixturesDir, "nab/labels/combined_windows.json"),
  );
  const series: [string, string][] = [
    ["ec2_cpu_utilization", "realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv"],
    ["machine_temperature", "realKnownCause/machine_temperature_system_failure.csv"],
    ["nyc_taxi_rides", "realKnownCause/nyc_taxi.csv"],
  ];
  for (const [name, file] of series) {
    const s = corpus.find((c) => c.name === file);
    if (!s) continue;
    const shift = now() - 60 * minute - (s.timestamps[s.timestamps.length - 1] as number);
    const pts = s.values.map((value, i) => ({
      name,
      labels: { source: "nab" },
      ts: new Date((s.timestamps[i] as number) + shift).toISOString(),
      value,
    }));
    for (let i = 0; i < pts.length; i += 5000) await bearer(metrics, pts.slice(i, i + 5000));
    log(`metrics: ${name} (${pts.length} points from NAB ${file})`);
  }

  // 3. Sentry: every sample event (each is its own error group).
  for (const file of readdirSync(path.join(o.fixturesDir, "sentry/events"))) {
    await sentryEvent({
      ...json(`sentry/events/${file}`),
      timestamp: new Date(now() - 90 * minute).toISOString(),
    });
  }
  log("Sentry: sample events");
  // …and every integration webhook Sentry documents (a new issue, its event, an alert rule's event,
  // a metric alert), signed as Sentry signs them.
  for (const file of readdirSync(path.join(o.fixturesDir, "sentry/webhooks")).filter((f) =>
    f.endsWith(".json"),
  )) {
    const body = read(`sentry/webhooks/${file}`);
    await ingest(sentry, body, {
      "content-type": "application/json",
      "sentry-hook-resource": file.split(".")[0] as string,
      "sentry-hook-signature": createHmac("sha256", sentry.secret).update(body).digest("hex"),
      "request-id": randomUUID(),
    });
  }
  log("Sentry: integration webhooks");

  // 4. Alertmanager: both fixture notifications.
  for (const file of readdirSync(path.join(o.fixturesDir, "alertmanager")).filter((f) =>
    f.endsWith(".json"),
  )) {
    await bearer(alerts, json(`alertmanager/${file}`));
  }

  // 5. Feedback: the labelled clustering sets (real reviews), arriving this week.
  const fbDir = path.join(o.fixturesDir, "feedback/mini-bar/for_clustering");
  for (const file of readdirSync(fbDir).filter((f) => f.endsWith(".csv"))) {
    await ingest(feedback, readFileSync(path.join(fbDir, file), "utf8"), {
      "content-type": "text/csv",
      authorization: `Bearer ${feedback.secret}`,
    });
  }
  log("feedback: 1,200 reviews");

  // 6. A CI job failing on the default branch twice (fixture: head_branch set to the default branch).
  const jobFixture = json("github-webhooks/workflow_job/completed.failure.with-organization.payload.json");
  for (const attempt of [1, 2]) {
    await github("workflow_job", {
      ...jobFixture,
      workflow_job: { ...(jobFixture.workflow_job as Json), head_branch: "master", run_attempt: attempt },
    });
  }

  // 7. A pull request with green checks and an approval (review state changed to approved).
  await github("pull_request", json("github-webhooks/pull_request/opened.payload.json"));
  await github("check_run", json("github-webhooks/check_run/completed.payload.json"));
  const review = json("github-webhooks/pull_request_review/submitted.payload.json");
  await github("pull_request_review", {
    ...review,
    review: { ...(review.review as Json), state: "approved", user: { login: "octocat" } },
  });

  // 8. The story Flick exists for: a deploy, then a new error and a metric drop minutes later.
  const deployAt = now() - 20 * minute;
  const steady = Array.from({ length: 576 }, (_, i) => ({
    name: "checkout_success",
    labels: { service: "checkout" },
    ts: new Date(deployAt - (576 - i) * 5 * minute).toISOString(),
    value: 97.5 + Math.sin((2 * Math.PI * i) / 288) + ((i * 7919) % 13) / 26,
  }));
  await bearer(metrics, steady);
  const push = json("github-webhooks/push/payload.json");
  const repo = push.repository as Json;
  await github("push", {
    ...push,
    ref: `refs/heads/${repo.default_branch}`, // the fixture pushed a tag
    repository: { ...repo, pushed_at: Math.floor(deployAt / 1000) },
    before: "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432",
    after: "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
    deleted: false,
    head_commit: { message: "Cart: compute totals on the server" },
  });
  // The fixture's event, as the deploy's own crash (the plain fixture is replayed above as itself).
  const sample = json("sentry/events/python-modern.json");
  const crash = {
    ...sample,
    exception: {
      values: [
        {
          type: "TypeError",
          value: "unsupported operand type(s) for *: 'NoneType' and 'int'",
          stacktrace: {
            frames: [
              {
                function: "checkout",
                module: "shop.views",
                filename: "shop/views.py",
                lineno: 88,
                in_app: true,
              },
              {
                function: "line_total",
                module: "shop.cart",
                filename: "shop/cart.py",
                lineno: 41,
                in_app: true,
                context_line: "    return item.price * item.quantity",
              },
            ],
          },
        },
      ],
    },
  };
  for (let i = 0; i < 6; i++) {
    await sentryEvent({
      ...crash,
      fingerprint: ["checkout-total-none"],
      timestamp: new Date(deployAt + (3 + i) * minute).toISOString(),
      user: { id: `customer-${i}` },
    });
  }
  await bearer(metrics, [
    {
      name: "checkout_success",
      labels: { service: "checkout" },
      ts: new Date(deployAt + 5 * minute).toISOString(),
      value: 61,
    },
  ]);
  // Prometheus' own alert on the drop, minutes later (the Alertmanager fixture's notification moved
  // onto checkout_success, with the generatorURL Prometheus links back with): the same trouble.
  const page = json("alertmanager/prometheus-msteams__prom_post_request.json");
  await bearer(alerts, {
    ...page,
    groupKey: '{}:{alertname="CheckoutSuccessLow"}',
    alerts: [
      {
        ...(page.alerts as Json[])[0],
        labels: { alertname: "CheckoutSuccessLow", service: "checkout", severity: "page" },
        annotations: { summary: "Fewer checkouts succeed than usual" },
        startsAt: new Date(deployAt + 8 * minute).toISOString(),
        generatorURL: `http://prometheus:9090/graph?g0.expr=${encodeURIComponent('checkout_success{service="checkout"} < 90')}&g0.tab=1`,
      },
    ],
  });
  log(
    `deploy story: push to ${repo.default_branch}, 6 errors, a checkout_success drop and its Alertmanager alert right after`,
  );

  // 9. No deploy this time: the payment provider slows down and every API instance waits on it,
  // within two minutes of each other, and api-2's payments start timing out. One card for the
  // three latency series and the timeouts, not four.
  const slowAt = now() - 90 * minute;
  const instances = ["api-1", "api-2", "api-3"];
  await bearer(
    metrics,
    instances.flatMap((instance, k) => [
      ...Array.from({ length: 576 }, (_, i) => ({
        name: "payment_latency_ms",
        labels: { instance },
        ts: new Date(slowAt - (576 - i) * 5 * minute).toISOString(),
        value: 180 + 15 * Math.sin((2 * Math.PI * i) / 288) + ((i * 7919 + k * 31) % 17),
      })),
      {
        name: "payment_latency_ms",
        labels: { instance },
        ts: new Date(slowAt + k * minute).toISOString(),
        value: 240 + 6 * k,
      },
      // Its next point, still slow: an instance's break is told once it sends again (one drained
      // away sends its last values off, then nothing).
      {
        name: "payment_latency_ms",
        labels: { instance },
        ts: new Date(slowAt + (k + 5) * minute).toISOString(),
        value: 244 + 6 * k,
      },
    ]),
  );
  await bearer(metrics, [
    ...Array.from({ length: 576 }, (_, i) => ({
      name: "payment_timeouts",
      labels: { instance: "api-2" },
      ts: new Date(slowAt - (576 - i) * 5 * minute).toISOString(),
      value: 2 + ((i * 7919) % 3),
    })),
    {
      name: "payment_timeouts",
      labels: { instance: "api-2" },
      ts: new Date(slowAt + 3 * minute).toISOString(),
      value: 41,
    },
    {
      name: "payment_timeouts",
      labels: { instance: "api-2" },
      ts: new Date(slowAt + 8 * minute).toISOString(),
      value: 44,
    },
  ]);
  log("incident story: payment_latency_ms on three instances at once, and payment_timeouts on one");
  return report;
}
