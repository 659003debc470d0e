import { randomBytes } from "node:crypto";
import {
  type Agent,
  AgentRuntime,
  builtinAgents,
  githubReads,
  type RuntimeOptions,
} from "@flick/server/agents";
import { createApp, createServices } from "@flick/server/app";
import { type Config, loadConfig } from "@flick/server/config";
import { type DatabaseHandle, type DatabaseOptions, migrateDatabase, openDatabase } from "@flick/server/db";
import { ExecutionRuntime } from "@flick/server/executions";
import { FixerRuntime } from "@flick/server/fixer-runtime";
import { FollowUpRuntime } from "@flick/server/follow-up-runtime";
import { createLogger } from "@flick/server/logger";
import { PushNotifier } from "@flick/server/push-notifier";
import { ensureSetupLink } from "@flick/server/setup";
import { SummarizerRuntime } from "@flick/server/summarizer-runtime";
import type { IngestResult, Source, SourceKind } from "@flick/shared";
import { type ServerType, serve } from "@hono/node-server";
import postgres from "postgres";

export type Driver = "pglite" | "postgres";

/** PGlite always; PostgreSQL too when TEST_DATABASE_URL names a server (CI sets it). */
export const drivers: Driver[] = process.env.TEST_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];

export class FakeClock {
  constructor(private current = new Date("2026-11-24T12:00:00Z")) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/** Collects every log line so tests can read them (and check that secrets never appear). */
export class LogCapture {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
  get text(): string {
    return this.lines.join("");
  }
}

/** A fresh, migrated database: in-memory PGlite, or a new database on the test PostgreSQL server. */
export async function freshDatabase(
  driver: Driver,
): Promise<{ handle: DatabaseHandle; options: DatabaseOptions; drop: () => Promise<void> }> {
  if (driver === "pglite") {
    const options: DatabaseOptions = { driver: "pglite" };
    const handle = await openDatabase(options);
    await migrateDatabase(options, handle);
    return { handle, options, drop: () => handle.close() };
  }
  const db = await emptyPostgresDatabase("flick_test");
  const options: DatabaseOptions = { driver: "postgres", url: db.url, maxConnections: 5 };
  const handle = await openDatabase(options);
  await migrateDatabase(options, handle);
  return {
    handle,
    options,
    drop: async () => {
      await handle.close();
      await db.drop();
    },
  };
}

/** A new, empty database on the test PostgreSQL server (TEST_DATABASE_URL), and how to drop it. */
export async function emptyPostgresDatabase(
  prefix: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = process.env.TEST_DATABASE_URL;
  if (!base) throw new Error("TEST_DATABASE_URL is not set");
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

export interface RequestOptions {
  method?: string;
  json?: unknown;
  body?: string;
  headers?: Record<string, string>;
  /** Cookie header value; `null` sends none. Defaults to the harness's jar. */
  cookie?: string | null;
  /** Origin header for mutations; `null` sends none. */
  origin?: string | null;
  bearer?: string;
}

export interface TestResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
  setCookie: string[];
}

export interface TestApp {
  driver: Driver;
  database: DatabaseHandle;
  clock: FakeClock;
  logs: LogCapture;
  config: Config;
  request<T = Record<string, unknown>>(path: string, options?: RequestOptions): Promise<TestResponse<T>>;
  /** Creates the first admin through the real setup link; returns their session cookie. */
  setupAdmin(email?: string, password?: string): Promise<string>;
  /** Invites and signs up a user with a role; returns their session cookie. */
  addUser(adminCookie: string, role: "admin" | "reviewer", email: string, password?: string): Promise<string>;
  createSource(
    adminCookie: string,
    kind: SourceKind,
    settings?: Record<string, unknown>,
    name?: string,
  ): Promise<Source>;
  /** An agent runtime on the test database (not started; call processBatch or start). */
  runtime(agents?: Agent[], options?: Partial<RuntimeOptions>): AgentRuntime;
  /** The runner that carries out accepted changes (not started; call runNext). */
  executions(): ExecutionRuntime;
  /** The transcription/revision worker for follow-ups (not started; call runNext). */
  followUps(): FollowUpRuntime;
  /** The Fixer (not started; call runNext). */
  fixer(): FixerRuntime;
  /** The Summarizer (not started; call runNext). */
  summarizer(): SummarizerRuntime;
  /** The web push notifier, with the real sender (web-push) unless another is given. */
  pushNotifier(): PushNotifier;
  /** Processes batches until no signal is due. */
  drain(runtime?: AgentRuntime): Promise<number>;
  /** Tells the agents that time passed (AgentRuntime.tick), as the started runtime does every minute. */
  tick(runtime?: AgentRuntime): Promise<number>;
  /** Serves the app on a real loopback port (for real client libraries); returns its base URL. */
  listen(): Promise<string>;
  /** The raw fetch handler, for tests that stream (SSE) or need a real Request. */
  fetch(request: Request): Promise<Response>;
  close(): Promise<void>;
}

export const ORIGIN = "http://localhost";

/** Posts a body to a bearer-secret source's ingest URL as its sender would; fails the test unless stored (202). */
export async function ingestInto(t: TestApp, source: Source, body: unknown): Promise<string[]> {
  const res = await t.request<IngestResult>(`/ingest/${source.id}`, {
    json: body,
    origin: null,
    headers: { authorization: `Bearer ${source.secret}` },
  });
  if (res.status !== 202) throw new Error(`/ingest/${source.id} answered ${res.status}: ${res.text}`);
  return res.body.ids;
}
export const PASSWORD = "correct horse battery staple";

export function sessionCookieFrom(setCookie: string[]): string {
  const cookie = setCookie.find(
    (c) => c.startsWith("flick_session=") || c.startsWith("__Host-flick_session="),
  );
  if (!cookie) throw new Error(`no session cookie in ${JSON.stringify(setCookie)}`);
  return cookie.split(";")[0] ?? "";
}

export async function startTestApp(driver: Driver, env: Record<string, string> = {}): Promise<TestApp> {
  const { handle, drop } = await freshDatabase(driver);
  const config = loadConfig({ LOG_LEVEL: "info", ...env });
  const clock = new FakeClock();
  const logs = new LogCapture();
  const logger = createLogger({ level: config.LOG_LEVEL, destination: logs });
  const deps = { config, database: handle, logger, clock };
  const services = createServices(deps);
  const app = createApp(deps, { services });
  const runtimes: AgentRuntime[] = [];
  const servers: ServerType[] = [];
  let defaultRuntime: AgentRuntime | undefined;
  const makeRuntime = (agents?: Agent[], options: Partial<RuntimeOptions> = {}) => {
    const r = new AgentRuntime(handle, clock, logger, agents ?? builtinAgents(handle.db), {
      batchSize: 200,
      leaseSeconds: 60,
      maxAttempts: 3,
      pollMs: 50,
      github: config.GITHUB_TOKEN
        ? githubReads(config.GITHUB_API_URL ?? "https://api.github.com", config.GITHUB_TOKEN)
        : null,
      ...options,
    });
    runtimes.push(r);
    return r;
  };

  async function request<T>(path: string, options: RequestOptions = {}): Promise<TestResponse<T>> {
    const method =
      options.method ?? (options.json !== undefined || options.body !== undefined ? "POST" : "GET");
    const headers = new Headers(options.headers);
    if (options.json !== undefined) headers.set("content-type", "application/json");
    if (options.cookie) headers.set("cookie", options.cookie);
    if (options.bearer) headers.set("authorization", `Bearer ${options.bearer}`);
    if (method !== "GET" && method !== "HEAD" && options.origin !== null) {
      headers.set("origin", options.origin ?? ORIGIN);
    }
    const res = await app.request(`${ORIGIN}${path}`, {
      method,
      headers,
      body: options.json !== undefined ? JSON.stringify(options.json) : options.body,
    });
    const text = await res.text();
    let body: unknown = text;
    if (res.headers.get("content-type")?.includes("json")) body = JSON.parse(text);
    return {
      status: res.status,
      headers: res.headers,
      body: body as T,
      text,
      setCookie: res.headers.getSetCookie(),
    };
  }

  async function signUp(path: string, json: Record<string, unknown>): Promise<string> {
    const res = await request(path, { json });
    if (res.status !== 201) throw new Error(`${path} answered ${res.status}: ${res.text}`);
    return sessionCookieFrom(res.setCookie);
  }

  return {
    driver,
    database: handle,
    clock,
    logs,
    config,
    request,
    async setupAdmin(email = "admin@example.com", password = PASSWORD) {
      const token = await ensureSetupLink(handle.db, clock.now());
      if (!token) throw new Error("setup already done");
      return signUp("/api/auth/setup", { token, email, name: "Ada Admin", password });
    },
    async addUser(adminCookie, role, email, password = PASSWORD) {
      const invite = await request<{ token: string }>("/api/invites", {
        cookie: adminCookie,
        json: { role },
      });
      if (invite.status !== 201) throw new Error(`invite answered ${invite.status}: ${invite.text}`);
      return signUp("/api/auth/accept-invite", { token: invite.body.token, email, name: email, password });
    },
    async createSource(
      adminCookie,
      kind,
      settings = {},
      name = `${kind} ${Math.random().toString(36).slice(2, 8)}`,
    ) {
      const res = await request<{ source: Source }>("/api/sources", {
        cookie: adminCookie,
        json: { kind, name, settings },
      });
      if (res.status !== 201) throw new Error(`create source answered ${res.status}: ${res.text}`);
      return res.body.source;
    },
    runtime: makeRuntime,
    executions: () => new ExecutionRuntime(handle, clock, logger, config, 1_000_000),
    followUps: () => new FollowUpRuntime(handle, clock, logger, config),
    fixer: () => new FixerRuntime(handle, clock, logger, config),
    summarizer: () => new SummarizerRuntime(handle, clock, logger, config),
    pushNotifier: () => new PushNotifier(handle, clock, logger, config),
    async drain(runtime) {
      defaultRuntime ??= makeRuntime();
      const r = runtime ?? defaultRuntime;
      let processed = 0;
      for (;;) {
        const report = await r.processBatch();
        if (report.claimed === 0) return processed;
        processed += report.claimed;
      }
    },
    tick(runtime) {
      defaultRuntime ??= makeRuntime();
      return (runtime ?? defaultRuntime).tick();
    },
    fetch: (req) => Promise.resolve(app.fetch(req)),
    async listen() {
      const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
      servers.push(server);
      await new Promise<void>((resolve) => server.once("listening", () => resolve()));
      const address = server.address();
      if (!address || typeof address === "string") throw new Error("no port");
      return `http://127.0.0.1:${address.port}`;
    },
    async close() {
      for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
      for (const r of runtimes) await r.stop();
      await services.cardHub.stop();
      await drop();
    },
  };
}
