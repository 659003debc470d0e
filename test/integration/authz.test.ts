import { createApp, createServices } from "@flick/server/app";
import { createLogger } from "@flick/server/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertCard } from "../helpers/db.ts";
import { ORIGIN, startTestApp, type TestApp } from "../helpers/harness.ts";

/** Who may call what. Every route the app has must be listed here, or the test fails. */
const ACCESS: Record<string, "public" | "signed" | "user" | "admin"> = {
  "GET /healthz": "public",
  "GET /readyz": "public",
  "GET /api/auth/state": "public",
  "POST /api/auth/login": "public",
  "POST /api/auth/setup": "public",
  "POST /api/auth/accept-invite": "public",
  "POST /api/auth/logout": "public",
  // Ingest proves itself with the source's secret or signature, not a session.
  "POST /ingest/:sourceId": "signed",
  "POST /api/:project{[0-9]+}/:endpoint{envelope|store}/": "signed",
  "POST /api/:project{[0-9]+}/:endpoint{envelope|store}": "signed",
  "GET /api/auth/me": "user",
  // Looks up what an invite link is for (the token in the body is the credential).
  "POST /api/auth/link": "public",
  "GET /api/tokens": "user",
  "POST /api/tokens": "user",
  "DELETE /api/tokens/:id": "user",
  "GET /api/feed": "user",
  "GET /api/cards/:id": "user",
  "GET /api/stream": "user",
  "POST /api/cards/:id/decisions": "user",
  "POST /api/cards/:id/dry-run": "user",
  "GET /api/cards/:id/history": "user",
  "GET /api/cards/:id/diff": "user",
  "POST /api/decisions/:id/undo": "user",
  "POST /api/cards/:id/follow-ups": "user",
  "GET /api/cards/:id/follow-ups": "user",
  "GET /api/follow-ups/:id/audio": "user",
  "GET /api/mutes": "user",
  "GET /api/feed/facets": "user",
  "GET /api/push": "user",
  "PUT /api/push/preferences": "user",
  "POST /api/push/subscriptions": "user",
  "DELETE /api/push/subscriptions": "user",
  "GET /api/invites": "admin",
  "POST /api/invites": "admin",
  "DELETE /api/invites/:id": "admin",
  "GET /api/users": "admin",
  "PATCH /api/users/:id": "admin",
  "GET /api/sources": "admin",
  "GET /api/sources/deploying": "admin",
  "DELETE /api/sources/strays": "admin",
  "POST /api/sources": "admin",
  "GET /api/sources/:id": "admin",
  "GET /api/sources/:id/metrics": "admin",
  "POST /api/sources/:id/webhook-preview": "admin",
  "PATCH /api/sources/:id": "admin",
  "POST /api/sources/:id/rotate-secret": "admin",
  "POST /api/sources/:id/prometheus-history": "admin",
  "POST /api/sources/:id/test": "admin",
  "DELETE /api/sources/:id": "admin",
  "POST /api/admin/demo": "admin",
  "POST /api/admin/demo/signals": "admin",
  "DELETE /api/admin/demo": "admin",
  "GET /api/admin/dead-letters": "admin",
  "GET /api/admin/usage": "admin",
  "POST /api/admin/dead-letters/:id/retry": "admin",
  "POST /api/admin/dead-letters/retry": "admin",
  "DELETE /api/admin/dead-letters/:id": "admin",
  "GET /api/actions": "admin",
  "POST /api/actions": "admin",
  "PATCH /api/actions/:id": "admin",
  "DELETE /api/actions/:id": "admin",
  // Any team member may retry a failed execution or lift a team mute (both are audited).
  "POST /api/executions/:id/retry": "user",
  "GET /api/audit": "admin",
  "DELETE /api/mutes/:id": "user",
};

/**
 * The authorization matrix: every route × {anonymous, reviewer, admin, reviewer token, admin
 * token, a wrong source secret}. A route gets 401 without credentials, 403 for a reviewer when it is
 * an admin's, and never 401/403 (nor 5xx) for someone it is meant for.
 */
describe("authorization matrix on pglite", () => {
  let t: TestApp;
  let routes: { method: string; path: string }[];
  const who: Record<string, Record<string, string>> = {};
  let cardId: string;
  let githubSource: { id: string };
  let metricsSource: { id: string };

  beforeAll(async () => {
    t = await startTestApp("pglite");
    const deps = {
      config: t.config,
      database: t.database,
      logger: createLogger({ level: "silent" }),
      clock: t.clock,
    };
    const app = createApp(deps, { services: createServices(deps) });
    const seen = new Set<string>();
    routes = app.routes
      .filter((r) => r.method !== "ALL")
      .filter((r) => !seen.has(`${r.method} ${r.path}`) && seen.add(`${r.method} ${r.path}`))
      .map((r) => ({ method: r.method, path: r.path }))
      // Signing out ends the session the other calls use: do it last.
      .sort((a, b) => Number(a.path === "/api/auth/logout") - Number(b.path === "/api/auth/logout"));
    const admin = await t.setupAdmin();
    const reviewer = await t.addUser(admin, "reviewer", "rita@example.com");
    const token = async (cookie: string, role: string) =>
      (await t.request<{ token: string }>("/api/tokens", { cookie, json: { name: `t-${role}`, role } })).body
        .token;
    who.anonymous = { origin: ORIGIN };
    who.reviewer = { cookie: reviewer, origin: ORIGIN };
    who.admin = { cookie: admin, origin: ORIGIN };
    who["reviewer token"] = { authorization: `Bearer ${await token(reviewer, "reviewer")}` };
    who["admin token"] = { authorization: `Bearer ${await token(admin, "admin")}` };
    cardId = (await insertCard(t.database.db)).id;
    githubSource = await t.createSource(admin, "github");
    metricsSource = await t.createSource(admin, "metrics");
  });
  afterAll(async () => t?.close());

  const call = async (method: string, path: string, headers: Record<string, string>) => {
    const url = path
      .replace(":project{[0-9]+}", "1")
      .replace(":endpoint{envelope|store}", "store")
      .replace(/:sourceId|:id/g, (m) =>
        m === ":id" && path.startsWith("/api/cards/") ? cardId : "zz_missing",
      );
    const res = await t.fetch(
      new Request(`http://localhost${url}`, {
        method,
        headers: { ...headers, ...(method === "GET" ? {} : { "content-type": "application/json" }) },
        body: method === "GET" ? undefined : "{}",
        signal: AbortSignal.timeout(5000),
      }),
    );
    await res.body?.cancel();
    return res.status;
  };

  it("lists every route the app serves", () => {
    const missing = routes.map((r) => `${r.method} ${r.path}`).filter((k) => !(k in ACCESS));
    expect(missing).toEqual([]);
    expect(routes.length).toBeGreaterThan(40);
  });

  it("answers each identity as the table says, for every route", async () => {
    const wrong: string[] = [];
    for (const r of routes) {
      const access = ACCESS[`${r.method} ${r.path}`];
      for (const [name, headers] of Object.entries(who)) {
        const status = await call(r.method, r.path, headers);
        const key = `${name} ${r.method} ${r.path} → ${status}`;
        if (status >= 500) wrong.push(`${key} (server error)`);
        if (access === "public" || access === "signed") {
          if (access === "public" && status === 403) wrong.push(`${key} (public route refused)`);
          continue;
        }
        const signedIn = name !== "anonymous";
        const isAdmin = name.startsWith("admin");
        if (!signedIn && status !== 401) wrong.push(`${key} (expected 401)`);
        if (signedIn && access === "admin" && !isAdmin && status !== 403) wrong.push(`${key} (expected 403)`);
        if (signedIn && (access === "user" || isAdmin) && (status === 401 || status === 403))
          wrong.push(`${key} (should be allowed)`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("refuses ingest with a wrong source secret or signature, storing nothing", async () => {
    const before = await t.database.db.query.signals.findMany();
    const bad = await t.request(`/ingest/${metricsSource.id}`, {
      json: [{ name: "x", ts: 1, value: 1 }],
      origin: null,
      headers: { authorization: "Bearer not-the-secret" },
    });
    expect(bad.status).toBe(401);
    const unsigned = await t.request(`/ingest/${githubSource.id}`, {
      body: "{}",
      origin: null,
      headers: { "x-github-event": "ping", "x-github-delivery": "d1", "x-hub-signature-256": "sha256=00" },
    });
    expect(unsigned.status).toBe(401);
    expect(await t.database.db.query.signals.findMany()).toHaveLength(before.length);
  });

  it("blocks cookie-authenticated writes from another origin (CSRF) and sets security headers", async () => {
    const res = await t.fetch(
      new Request("http://localhost/api/sources", {
        method: "POST",
        headers: {
          cookie: who.admin?.cookie ?? "",
          origin: "https://evil.example",
          "content-type": "application/json",
        },
        body: JSON.stringify({ kind: "metrics", name: "evil" }),
      }),
    );
    expect(res.status).toBe(403);
    const health = await t.fetch(new Request("http://localhost/healthz"));
    expect(health.headers.get("x-content-type-options")).toBe("nosniff");
    expect(health.headers.get("x-frame-options")).toBeTruthy();
  });
});
