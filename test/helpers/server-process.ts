import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PASSWORD } from "./harness.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "../..");
const serverMain = path.join(repoRoot, "server/src/main.ts");
export const serverBundle = path.join(repoRoot, "server/dist/main.js");

export interface ServerProcess {
  url: string;
  pid: number;
  /** Milliseconds from spawning the process to its "running at" line. */
  startMs: number;
  setupUrl: string | null;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs the real server entry point (through tsx) as a child process and waits until it listens. */
export async function startServerProcess(
  env: Record<string, string>,
  timeoutMs = 60_000,
  entry: "source" | "bundle" = "source",
): Promise<ServerProcess> {
  const spawnedAt = performance.now();
  const { child, output, exited } = spawnServer({ LOG_LEVEL: "warn", ...env }, entry);
  let startMs = 0;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start in ${timeoutMs} ms:\n${output()}`)),
      timeoutMs,
    );
    const check = () => {
      const m = /Flick is running at (\S+)/.exec(output());
      if (m?.[1] && /\n\n/.test(output().slice(output().indexOf(m[0])))) {
        clearTimeout(timer);
        startMs = performance.now() - spawnedAt;
        resolve(m[1]);
      }
    };
    child.stdout?.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output()}`));
    });
  });
  const setup = /Create the first admin account: (\S+)/.exec(output());
  return {
    // The server listens on 127.0.0.1 only; "localhost" may resolve to ::1 first and every new
    // connection would then wait for the IPv4 fallback.
    url: url.replace("//localhost:", "//127.0.0.1:"),
    pid: child.pid ?? 0,
    startMs,
    setupUrl: setup?.[1]?.replace("//localhost:", "//127.0.0.1:") ?? null,
    output,
    stop: (signal = "SIGTERM") => stopChild(child, exited, signal),
  };
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>, signal: NodeJS.Signals) {
  if (child.exitCode !== null) return child.exitCode;
  child.kill(signal);
  return exited;
}

/** Runs the server expecting it to refuse to start; returns its exit code and output. */
export async function runServerExpectingFailure(
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const { child, output, exited } = spawnServer(env);
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const code = await exited;
  clearTimeout(timer);
  return { code, output: output() };
}

/**
 * The real server entry point as a child process, its stdout and stderr collected: the TypeScript
 * source through tsx, or the bundle `pnpm start` runs (server/dist/main.js, built by the caller).
 */
function spawnServer(env: Record<string, string>, entry: "source" | "bundle" = "source") {
  // SERVER_NODE_ARGS: extra Node flags for the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const extra = process.env.SERVER_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const args = [...extra, ...(entry === "bundle" ? [serverBundle] : ["--import", "tsx", serverMain])];
  const child = spawn(process.execPath, args, {
    cwd: path.join(repoRoot, "test"),
    env: { PATH: process.env.PATH ?? "", PORT: "0", HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

const cookieOf = (res: Response) => (res.headers.getSetCookie()[0] ?? "").split(";")[0] ?? "";

/**
 * Creates the first admin through the setup link the server printed; returns their session
 * cookie ("name=value"). Throws with the server's answer unless it is 201.
 */
export async function setUpFirstAdmin(
  server: ServerProcess,
  who: { email: string; name: string } = { email: "ada@example.com", name: "Ada" },
): Promise<string> {
  const res = await fetch(`${server.url}/api/auth/setup`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: server.url },
    body: JSON.stringify({ token: server.setupUrl?.split("#")[1], ...who, password: PASSWORD }),
  });
  if (res.status !== 201) throw new Error(`setup failed: ${res.status} ${await res.text()}`);
  return cookieOf(res);
}

/** Signs in with the test password; returns the session cookie. */
export async function signInTo(server: ServerProcess, email = "ada@example.com"): Promise<string> {
  const res = await fetch(`${server.url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: server.url },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  if (!res.ok) throw new Error(`login: ${res.status} ${await res.text()}`);
  return cookieOf(res);
}
