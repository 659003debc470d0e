// Debian's Prometheus and Alertmanager as child processes for the tests (scripts/test-all.sh
// installs the packages), with a tiny exporter for Prometheus to scrape.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

function binary(name: string, pkg: string): string {
  try {
    return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
  } catch {
    throw new Error(`${name} is not installed: \`apt-get install ${pkg}\` (scripts/test-all.sh does)`);
  }
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

export interface Running {
  /** host:port it listens on. */
  address: string;
  /** What it has logged so far (the tail is enough to say why a request was refused). */
  log(): string;
  /** Rewrites its files and has it read them again (SIGHUP), as an operator reloads a config. */
  reload(files: Record<string, string>): void;
  stop(): Promise<void>;
}

/** A process with its own temporary folder holding `files`; `args` get the folder's path. */
async function run(
  command: string,
  files: Record<string, string>,
  args: (dir: string, address: string) => string[],
): Promise<Running> {
  const dir = mkdtempSync(path.join(tmpdir(), "flick-prom-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  const address = `127.0.0.1:${await freePort()}`;
  let log = "";
  const child: ChildProcess = spawn(command, args(dir, address), { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (d) => {
    log += d;
  });
  child.stderr?.on("data", (d) => {
    log += d;
  });
  return {
    address,
    log: () => log.slice(-3000),
    reload(changed) {
      for (const [name, text] of Object.entries(changed)) writeFileSync(path.join(dir, name), text);
      child.kill("SIGHUP");
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Prometheus with this prometheus.yml (and rule files beside it, named as the config names them);
 * `history` (OpenMetrics text) is written into its database first with promtool, as a team backfills.
 * A `web.yml` among the files is its web config (basic_auth_users: it then asks for credentials).
 */
export function startPrometheus(
  config: string,
  files: Record<string, string> = {},
  history?: string,
): Promise<Running> {
  const written = { "prometheus.yml": config, ...files, ...(history ? { "history.om": history } : {}) };
  return run(binary("prometheus", "prometheus"), written, (dir, address) => {
    if (history)
      execFileSync(binary("promtool", "prometheus"), [
        "tsdb",
        "create-blocks-from",
        "openmetrics",
        path.join(dir, "history.om"),
        path.join(dir, "data"),
      ]);
    return [
      `--config.file=${path.join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=${address}`,
      ...(files["web.yml"] ? [`--web.config.file=${path.join(dir, "web.yml")}`] : []),
      "--log.level=warn",
    ];
  });
}

/** Alertmanager with this alertmanager.yml, alone (no cluster port). */
export function startAlertmanager(config: string): Promise<Running> {
  return run(
    binary("prometheus-alertmanager", "prometheus-alertmanager"),
    { "alertmanager.yml": config },
    (dir, address) => [
      `--config.file=${path.join(dir, "alertmanager.yml")}`,
      `--storage.path=${path.join(dir, "data")}`,
      `--web.listen-address=${address}`,
      "--cluster.listen-address=",
      "--log.level=warn",
    ],
  );
}

/** An HTTP server answering every request with the exposition text `body()` returns now. */
export async function startExporter(body: () => string): Promise<{ address: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    res.end(body());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
