import type { Server } from "node:http";
import * as schema from "@flick/server/schema";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { remoteWriteConfig } from "../../web/src/lib/prometheus.ts";
import { startTestApp, type TestApp } from "../helpers/harness.ts";
import { type Running, startExporter, startPrometheus } from "../helpers/prometheus.ts";
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
  /** What the exporter serves, changed by the test. */
  let exposition = 'checkout_success{zone="a"} 98.5\ncheckout_latency_seconds 0.25\nother_thing 1\n';

  beforeAll(async () => {
    t = await startTestApp("pglite");
    exporter = await startExporter(() => exposition);
    const admin = await t.setupAdmin();
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
});
