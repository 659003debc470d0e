import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import * as schema from "@flick/server/schema";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/harness.ts";
import { until } from "../helpers/until.ts";

/** Debian's prometheus package; scripts/test-all.sh installs it. */
function prometheusBinary(): string {
  try {
    return execFileSync("sh", ["-c", "command -v prometheus"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("prometheus is not installed: `apt-get install prometheus` (scripts/test-all.sh does)");
  }
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/**
 * A real Prometheus server (Debian's 2.42) scrapes a small exporter every second and remote-writes
 * to a metrics source's ingest URL, with the source's secret as its bearer credentials: the
 * snappy-compressed protobuf Flick reads is Prometheus's own.
 */
describe("a real Prometheus server remote-writing to a metrics source", () => {
  let t: TestApp;
  let exporter: Server;
  let prometheus: ChildProcess | undefined;
  let dir: string;
  let log = "";
  /** What the exporter serves, changed by the test. */
  let exposition = "";

  beforeAll(async () => {
    const binary = prometheusBinary();
    t = await startTestApp("pglite");
    exporter = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      res.end(exposition);
    });
    await new Promise<void>((resolve) => exporter.listen(0, "127.0.0.1", resolve));
    dir = mkdtempSync(path.join(tmpdir(), "flick-prometheus-"));
    const admin = await t.setupAdmin();
    const source = await t.createSource(admin, "metrics", {}, "Shop Prometheus");
    const flick = new URL(await t.listen());
    const ingest = new URL(source.ingestUrl);
    ingest.host = flick.host;
    ingest.protocol = flick.protocol;
    const target = `127.0.0.1:${(exporter.address() as AddressInfo).port}`;
    // The config an admin writes from the source's page: remote_write with the secret, and only the
    // metrics worth watching kept (Prometheus's own series, like `up`, are not sent).
    writeFileSync(
      path.join(dir, "prometheus.yml"),
      `global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: shop
    static_configs:
      - targets: ["${target}"]
remote_write:
  - url: ${ingest.toString()}
    authorization:
      credentials: ${source.secret}
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 100ms
      max_backoff: 1s
    write_relabel_configs:
      - source_labels: [__name__]
        regex: "checkout_.*"
        action: keep
`,
    );
    exposition = 'checkout_success{zone="a"} 98.5\ncheckout_latency_seconds 0.25\nother_thing 1\n';
    prometheus = spawn(
      binary,
      [
        `--config.file=${path.join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${path.join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${await freePort()}`,
        "--log.level=warn",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    prometheus.stdout?.on("data", (d) => {
      log += d;
    });
    prometheus.stderr?.on("data", (d) => {
      log += d;
    });
  });

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus?.once("exit", resolve));
      prometheus.kill("SIGTERM");
      await exited;
    }
    await new Promise((resolve) => exporter?.close(resolve));
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const points = async (name: string) =>
    (await t.database.db.select().from(schema.signals).where(eq(schema.signals.kind, "metric.point")))
      .map((s) => s.payload as { name: string; labels: Record<string, string>; ts: string; value: number })
      .filter((p) => p.name === name);

  /** Waits for `check`, failing with what Prometheus logged (a refused request says why there). */
  const waitFor = (what: string, check: () => Promise<boolean>) =>
    until(what, check, 30_000).catch((err: Error) => {
      throw new Error(`${err.message}; prometheus said: ${log.slice(-2000) || "nothing"}`);
    });

  it("stores each scraped sample of the kept metrics as a point, with its labels and time", async () => {
    await waitFor("a checkout_success point", async () => (await points("checkout_success")).length > 0);
    const [first] = await points("checkout_success");
    if (!first) throw new Error("no point");
    const target = `127.0.0.1:${(exporter.address() as AddressInfo).port}`;
    expect(first.labels).toEqual({ zone: "a", job: "shop", instance: target });
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
    expect(log).not.toMatch(/non-recoverable error|status 4\d\d/);
  });
});
