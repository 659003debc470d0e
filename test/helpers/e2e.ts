import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, BrowserContextOptions } from "playwright-core";
import { buildWeb, launchChromium } from "./browser.ts";
import { fixturesDir, hmacSha256Hex } from "./fixtures.ts";
import { type ServerProcess, setUpFirstAdmin, startServerProcess } from "./server-process.ts";

export const phone = { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true } as const;
export const desktop = { viewport: { width: 1280, height: 800 } } as const;

export interface E2E {
  server: ServerProcess;
  browser: Browser;
  /** The admin's session cookie ("name=value"), made through the real setup link. */
  admin: string;
  /** Calls the API as the admin, throwing with the body on a non-2xx answer. */
  api<T = unknown>(path: string, init?: RequestInit): Promise<T>;
  /** A browser context, signed in as the admin unless `signedIn` is false. */
  context(options?: BrowserContextOptions, signedIn?: boolean): Promise<BrowserContext>;
  close(): Promise<void>;
}

/**
 * The production web build served by a real server process on a fresh embedded database, an
 * admin created through the printed setup link, and Debian's Chromium.
 */
export async function startE2E(
  options: { env?: Record<string, string>; chromiumArgs?: string[]; demo?: boolean } = {},
): Promise<E2E> {
  const webDist = buildWeb();
  const dir = mkdtempSync(path.join(tmpdir(), "flick-e2e-"));
  const server = await startServerProcess({
    DATA_DIR: path.join(dir, "data"),
    WEB_DIST: webDist,
    ...options.env,
  });
  const admin = await setUpFirstAdmin(server);
  const browser = await launchChromium(options.chromiumArgs);

  const e2e: E2E = {
    server,
    browser,
    admin,
    async api<T>(p: string, init: RequestInit = {}) {
      const res = await fetch(`${server.url}${p}`, {
        ...init,
        headers: {
          "content-type": "application/json",
          origin: server.url,
          cookie: admin,
          ...(init.headers ?? {}),
        },
      });
      if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    async context(contextOptions = {}, signedIn = true) {
      const context = await browser.newContext(contextOptions);
      if (signedIn) {
        const [name, value] = admin.split("=");
        await context.addCookies([{ name: name ?? "", value: value ?? "", url: server.url }]);
      }
      return context;
    },
    async close() {
      await browser.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  if (options.demo) await e2e.api("/api/admin/demo", { method: "POST" });
  return e2e;
}

type Json = Record<string, unknown>;

/** One of GitHub's webhook fixtures (../shared/fixtures/github-webhooks). */
export function githubFixture(rel: string): Json {
  return JSON.parse(readFileSync(path.join(fixturesDir, "github-webhooks", rel), "utf8")) as Json;
}

/**
 * A GitHub source made through the API, and a sender of webhooks to it signed with its secret, as
 * GitHub sends them.
 */
export async function githubSource(e2e: E2E): Promise<(event: string, payload: unknown) => Promise<void>> {
  const { source } = await e2e.api<{ source: { id: string; secret: string } }>("/api/sources", {
    method: "POST",
    body: JSON.stringify({ kind: "github", name: "GitHub" }),
  });
  return async (event, payload) => {
    const body = JSON.stringify(payload);
    const res = await fetch(`${e2e.server.url}/ingest/${source.id}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": event,
        "x-github-delivery": crypto.randomUUID(),
        "x-hub-signature-256": `sha256=${hmacSha256Hex(source.secret, body)}`,
      },
      body,
    });
    if (res.status !== 202) throw new Error(`ingest ${event}: ${res.status} ${await res.text()}`);
  };
}

/**
 * Dependabot's pull request in `repository` (GitHub's pull request fixture, made a bot's) and a
 * green check run on its head: ready to merge without a review.
 */
export async function greenDependabotPr(
  send: (event: string, payload: unknown) => Promise<void>,
  repository: unknown,
  pr: { number: number; title: string; sha: string },
): Promise<void> {
  const opened = githubFixture("pull_request/opened.payload.json");
  const completed = githubFixture("check_run/completed.payload.json");
  await send("pull_request", {
    ...opened,
    repository,
    pull_request: {
      ...(opened.pull_request as object),
      number: pr.number,
      title: pr.title,
      user: { login: "dependabot[bot]", type: "Bot" },
      head: { ...(opened.pull_request as { head: object }).head, sha: pr.sha },
    },
  });
  const run = completed.check_run as { pull_requests: object[] };
  await send("check_run", {
    ...completed,
    repository,
    check_run: {
      ...run,
      conclusion: "success",
      head_sha: pr.sha,
      pull_requests: [{ ...run.pull_requests[0], number: pr.number }],
    },
  });
}
