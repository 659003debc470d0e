import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import path from "node:path";
import type { Card, Source } from "@flick/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { remoteWriteConfig } from "../../web/src/lib/prometheus.ts";
import { desktop, type E2E, phone, startE2E } from "../helpers/e2e.ts";
import { type Running, startAlertmanager, startExporter, startPrometheus } from "../helpers/prometheus.ts";
import { repoRoot } from "../helpers/server-process.ts";

const shots = path.join(repoRoot, "test/.artifacts");

/**
 * A team's Prometheus stack, real: Prometheus (Debian's 2.42) holds two days of checkout_success,
 * which the admin loads from Settings; then it remote-writes what it scrapes every second, and its
 * alert rule on the same metric fires through Alertmanager (Debian's 0.25) to Flick's Alertmanager
 * source. The metric breaking is one card on the phone, telling the alert too; the alert's own card
 * waits behind it.
 */
describe("Prometheus and Alertmanager into Flick, end to end, in Chromium", () => {
  let e2e: E2E;
  let exporter: { address: string; server: Server };
  let prometheus: Running | undefined;
  let alertmanager: Running | undefined;
  /**
   * checkout_success at a minute (ms): noisy between 97.55 and 98.45, one value a minute — the past
   * loaded into Prometheus, and the live scrapes before the break (there nearer 98: a live minute
   * at the edge of the past's range is what a detector may fairly call a break, and its rest would
   * then hide the real one; a value held exactly at 98 is a new shape, a stuck gauge).
   */
  const usual = (ms: number, amplitude = 0.45) =>
    98 + ((Math.sin(Math.floor(ms / 60_000) * 12.9898) * 43758.5453) % 1) * amplitude;
  let level: number | null = null;

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    e2e = await startE2E();
    exporter = await startExporter(
      () => `checkout_success{zone="a"} ${(level ?? usual(Date.now(), 0.15)).toFixed(3)}\n`,
    );
  });
  afterAll(async () => {
    await prometheus?.stop();
    await alertmanager?.stop();
    await new Promise((resolve) => exporter?.server.close(resolve));
    await e2e?.close();
  });

  const source = async (kind: string, name: string, settings = {}) =>
    (
      await e2e.api<{ source: Source }>("/api/sources", {
        method: "POST",
        body: JSON.stringify({ kind, name, settings }),
      })
    ).source;
  const said = () => `prometheus: ${prometheus?.log() || "-"}; alertmanager: ${alertmanager?.log() || "-"}`;

  it("history loaded from Prometheus in Settings, then a metric it sends breaks and its alert fires: one card on the phone telling both", async () => {
    await e2e.api("/api/actions", {
      method: "POST",
      body: JSON.stringify({ name: "rollback", url: "https://deploy.example/rollback" }),
    });
    const metrics = await source("metrics", "Shop Prometheus", { actions: { checkout_success: "rollback" } });
    const alerts = await source("alertmanager", "Shop Alertmanager");
    // The team's Prometheus has two days of checkout_success (written into its database with
    // promtool, a sample a minute, noisy between 97.55 and 98.45 — a perfectly repeating past would
    // make any live value a break — ending 2 minutes ago), scrapes the service every second and
    // evaluates its alert rule; it does not send to Flick yet. (With the past ending 20 minutes
    // before the first live minute, the detector called that ordinary minute a break in 13 of 200
    // simulated starts, 0 of 200 at 2 or 3 minutes — and its rest then hid the real break.)
    const minute = 60_000;
    // Half past each minute: the minute means the history is loaded as (avg_over_time(…[1m]) on the
    // minute) hold one sample each, as noisy as the live minutes — on the minute, Prometheus 2's
    // closed window took two and smoothed the past, and a live minute then looked like a break.
    const end = Math.floor(Date.now() / minute) * minute - 2 * minute + 30_000;
    const history = Array.from({ length: 50 * 60 }, (_, i) => end - (50 * 60 - 1 - i) * minute).map(
      (ms) =>
        `checkout_success{instance="${exporter.address}",job="shop",zone="a"} ${usual(ms).toFixed(3)} ${ms / 1000}`,
    );
    alertmanager = await startAlertmanager(`route:
  receiver: flick
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: flick
    webhook_configs:
      - url: ${alerts.ingestUrl}
        send_resolved: true
        http_config:
          authorization:
            credentials: ${alerts.secret}
`);
    const config = `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ["rules.yml"]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["${alertmanager.address}"]
scrape_configs:
  - job_name: shop
    static_configs:
      - targets: ["${exporter.address}"]
`;
    prometheus = await startPrometheus(
      config,
      {
        "rules.yml": `groups:
  - name: shop
    rules:
      - alert: CheckoutSuccessLow
        expr: checkout_success < 50
        labels:
          severity: page
        annotations:
          summary: Checkout success is low
`,
      },
      `# TYPE checkout_success gauge\n${history.join("\n")}\n# EOF\n`,
    );

    // Its scrapes have begun (a second apart, as remote_write will send them: the history is then
    // loaded as minute means).
    const scraped = async () => {
      const res = await fetch(
        `http://${prometheus?.address}/api/v1/query?query=count_over_time(checkout_success[1m])`,
      ).catch(() => null);
      const body = (await res?.json().catch(() => null)) as {
        data?: { result?: { value: [number, string] }[] };
      } | null;
      return Number(body?.data?.result?.[0]?.value[1] ?? 0);
    };
    await expect.poll(scraped, { timeout: 30_000, message: said() }).toBeGreaterThanOrEqual(5);
    // In Settings, the admin loads that history before pasting remote_write.
    const desk = await e2e.context(desktop);
    const page = await desk.newPage();
    await page.goto(`${e2e.server.url}/settings`);
    const form = page
      .getByRole("article", { name: "Source Shop Prometheus" })
      .getByRole("form", { name: "History from Prometheus" });
    await form.getByLabel(/^Prometheus address/).fill(`http://${prometheus.address}`);
    // This one asks for none; the fields are there for one that does.
    await form.getByText("It asks for credentials").click();
    await form.getByLabel("Bearer token").waitFor();
    await form.getByLabel("or user").waitFor();
    const loaded = form
      .locator("..")
      .getByRole("status")
      .filter({ hasText: /^Loaded / });
    await expect
      .poll(
        async () => {
          await form.getByRole("button", { name: "Load history" }).click();
          await form.getByRole("button", { name: "Load history" }).waitFor();
          return loaded.count();
        },
        { timeout: 30_000, message: said() },
      )
      .toBe(1);
    // Scraped a second apart, it is judged a minute at a time: its past comes as minute means,
    // 3,000 of them (the two days, less the gap before the first scrapes).
    expect(await loaded.textContent()).toMatch(
      /^Loaded \d{4} points\. checkout_success: 1 series, a minute apart from .+ to .+\.$/,
    );
    await page.screenshot({ path: path.join(shots, "settings-prometheus-history-desktop.png") });
    await desk.close();

    // Then the remote_write block Settings shows goes into prometheus.yml, and Prometheus reloads.
    prometheus.reload({
      "prometheus.yml": `${config}${remoteWriteConfig(metrics, { actions: { checkout_success: "rollback" } })}\n`,
    });
    // A few seconds at the usual level, then checkout breaks.
    const feed = () => e2e.api<{ cards: Card[] }>("/api/feed?limit=50");
    await new Promise((r) => setTimeout(r, 3000));
    level = 30;

    let card: Card | undefined;
    await expect
      .poll(
        async () => {
          card = (await feed()).cards.find((c) => c.fingerprint.startsWith("metric:checkout_success"));
          return card?.summary ?? "";
        },
        // Judged a minute at a time: the break shows once its minutes end.
        { timeout: 180_000, message: `the metric card telling the alert (${said()})` },
      )
      .toContain("Alertmanager is firing CheckoutSuccessLow on it too");
    expect(
      card?.title,
      `the card and the end of its chart: ${JSON.stringify({ ev: card?.evidence, pts: (card?.preview as { points: unknown[] } | undefined)?.points.slice(-30) })}`,
    ).toMatch(/^checkout_success .*dropped \d+%/);
    // The alert's own card is set aside behind it: one card in the feed, not two.
    const cards = (await feed()).cards;
    expect(cards.filter((c) => c.title.includes("CheckoutSuccessLow")).map((c) => c.title)).toEqual([]);
    expect(cards).toHaveLength(1);

    const context = await e2e.context(phone);
    const m = await context.newPage();
    await m.goto(e2e.server.url);
    const shown = m.locator(`[data-card-id="${card?.id}"]`);
    await shown.getByRole("heading", { name: card?.title ?? "" }).waitFor();
    await shown.getByText(/Alertmanager is firing CheckoutSuccessLow on it too/).waitFor();
    await m.screenshot({ path: path.join(shots, "prometheus-metric-alert-phone.png") });
    await context.close();
    // Two real servers, two days of history through the agents, a browser: more than the default
    // minute when CI runs the integration tests beside it.
  }, 300_000);
});
