import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import path from "node:path";
import type { Card, Source } from "@flick/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { remoteWriteConfig } from "../../web/src/lib/prometheus.ts";
import { type E2E, phone, startE2E } from "../helpers/e2e.ts";
import { type Running, startAlertmanager, startExporter, startPrometheus } from "../helpers/prometheus.ts";
import { repoRoot } from "../helpers/server-process.ts";

const shots = path.join(repoRoot, "test/.artifacts");

/**
 * A team's Prometheus stack, real: Prometheus (Debian's 2.42) scrapes a service every second and
 * remote-writes its checkout_success to Flick; its alert rule on the same metric fires through
 * Alertmanager (Debian's 0.25) to Flick's Alertmanager source. The metric breaking is one card on
 * the phone, telling the alert too; the alert's own card waits behind it.
 */
describe("Prometheus and Alertmanager into Flick, end to end, in Chromium", () => {
  let e2e: E2E;
  let exporter: { address: string; server: Server };
  let prometheus: Running | undefined;
  let alertmanager: Running | undefined;
  let level = 98;

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    e2e = await startE2E();
    exporter = await startExporter(() => `checkout_success{zone="a"} ${level}\n`);
  });
  afterAll(async () => {
    await prometheus?.stop();
    await alertmanager?.stop();
    await new Promise((resolve) => exporter?.server.close(resolve));
    await e2e?.close();
  });

  const source = async (kind: string, name: string) =>
    (
      await e2e.api<{ source: Source }>("/api/sources", {
        method: "POST",
        body: JSON.stringify({ kind, name, settings: {} }),
      })
    ).source;
  const said = () => `prometheus: ${prometheus?.log() || "-"}; alertmanager: ${alertmanager?.log() || "-"}`;

  it("a metric Prometheus sends breaks, its alert fires: one card on the phone telling both", async () => {
    const metrics = await source("metrics", "Shop Prometheus");
    const alerts = await source("alertmanager", "Shop Alertmanager");
    // The series' recent past, sent as JSON before Prometheus starts (a detector judges a series
    // against its own history, and this one would need minutes of scrapes to have one): the same
    // name and labels Prometheus will give it, a second apart, ending now.
    const labels = { zone: "a", job: "shop", instance: exporter.address };
    const now = Date.now();
    const history = Array.from({ length: 400 }, (_, i) => ({
      name: "checkout_success",
      labels,
      ts: new Date(now - (400 - i) * 1000).toISOString(),
      value: 98 + Math.sin(i / 5) / 2,
    }));
    const sent = await fetch(metrics.ingestUrl, {
      method: "POST",
      headers: { authorization: `Bearer ${metrics.secret}`, "content-type": "application/json" },
      body: JSON.stringify(history),
    });
    expect(sent.status, await sent.text()).toBe(202);

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
    prometheus = await startPrometheus(
      `global:
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
${remoteWriteConfig(metrics, { actions: { checkout_success: "rollback" } })}
`,
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
    );
    // A few scrapes at the usual level, then checkout breaks.
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
        { timeout: 60_000, message: `the metric card telling the alert (${said()})` },
      )
      .toContain("Alertmanager is firing CheckoutSuccessLow on it too");
    expect(card?.title).toMatch(/^checkout_success .*dropped \d+%/);
    // The alert's own card is set aside behind it: one card in the feed, not two.
    const cards = (await feed()).cards;
    expect(cards.filter((c) => c.title.includes("CheckoutSuccessLow")).map((c) => c.title)).toEqual([]);
    expect(cards).toHaveLength(1);

    const context = await e2e.context(phone);
    const page = await context.newPage();
    await page.goto(e2e.server.url);
    const shown = page.locator(`[data-card-id="${card?.id}"]`);
    await shown.getByRole("heading", { name: card?.title ?? "" }).waitFor();
    await shown.getByText(/Alertmanager is firing CheckoutSuccessLow on it too/).waitFor();
    await page.screenshot({ path: path.join(shots, "prometheus-metric-alert-phone.png") });
    await context.close();
  });
});
