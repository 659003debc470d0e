import { randomUUID } from "node:crypto";
import type { Source } from "@flick/shared";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countRows, insertCard } from "../helpers/db.ts";
import { fixture, hmacSha256Hex } from "../helpers/fixtures.ts";
import { ORIGIN, startTestApp, type TestApp } from "../helpers/harness.ts";

type Json = unknown;

/** Mutations of a real payload: drop, retype or replace a field somewhere inside it. */
function mutated(base: Json): fc.Arbitrary<Json> {
  const paths: (string | number)[][] = [];
  const walk = (v: Json, p: (string | number)[]) => {
    if (p.length > 6) return;
    paths.push(p);
    if (Array.isArray(v)) {
      for (const [i, x] of v.slice(0, 3).entries()) walk(x, [...p, i]);
    } else if (v && typeof v === "object")
      for (const [k, x] of Object.entries(v).slice(0, 12)) walk(x, [...p, k]);
  };
  walk(base, []);
  return fc
    .record({ path: fc.constantFrom(...paths), value: fc.oneof(fc.jsonValue(), fc.constant(undefined)) })
    .map(({ path, value }) => {
      if (path.length === 0) return value;
      const copy = structuredClone(base) as Record<string | number, Json>;
      let at = copy;
      for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, Json>;
      const last = path[path.length - 1] as string | number;
      if (value === undefined) delete at[last];
      else at[last] = value;
      return copy;
    });
}

/**
 * Property tests over every ingest parser and the main API bodies: random and mutated payloads
 * are answered with a 2xx or a 4xx naming the problem — never a 500 — and a refused request stores
 * nothing at all.
 */
describe("fuzzing ingest and API bodies (fast-check) on pglite", () => {
  let t: TestApp;
  let admin: string;
  const sources: Partial<Record<Source["kind"], Source>> = {};

  beforeAll(async () => {
    t = await startTestApp("pglite");
    admin = await t.setupAdmin();
    for (const kind of ["github", "sentry", "metrics", "alertmanager", "feedback", "webhook"] as const) {
      sources[kind] = await t.createSource(
        admin,
        kind,
        kind === "webhook" ? { titlePath: "$.title", idPath: "$.id" } : {},
      );
    }
  });
  afterAll(async () => t?.close());

  const post = (kind: Source["kind"], body: string, extra: Record<string, string> = {}) => {
    const s = sources[kind] as Source;
    const headers: Record<string, string> = { "content-type": "application/json", ...extra };
    if (kind === "github") {
      headers["x-github-delivery"] ??= randomUUID();
      headers["x-hub-signature-256"] = `sha256=${hmacSha256Hex(s.secret, body)}`;
    } else if (kind === "sentry") {
      headers["sentry-hook-signature"] = hmacSha256Hex(s.secret, body);
      headers["request-id"] = randomUUID();
    } else headers.authorization = `Bearer ${s.secret}`;
    return t.request(`/ingest/${s.id}`, { body, origin: null, headers });
  };

  const seeds: Record<string, { kind: Source["kind"]; body: Json; headers?: Record<string, string> }> = {
    "github push": {
      kind: "github",
      body: JSON.parse(fixture("github-webhooks/push/payload.json")),
      headers: { "x-github-event": "push" },
    },
    "github pull_request": {
      kind: "github",
      body: JSON.parse(fixture("github-webhooks/pull_request/opened.payload.json")),
      headers: { "x-github-event": "pull_request" },
    },
    "github workflow_job": {
      kind: "github",
      body: JSON.parse(
        fixture("github-webhooks/workflow_job/completed.failure.with-organization.payload.json"),
      ),
      headers: { "x-github-event": "workflow_job" },
    },
    "sentry webhook": {
      kind: "sentry",
      body: JSON.parse(fixture("sentry/webhooks/issue.created.json")),
      headers: { "sentry-hook-resource": "issue" },
    },
    metrics: {
      kind: "metrics",
      body: [{ name: "cpu", labels: { host: "a" }, ts: 1_700_000_000, value: 0.5 }],
    },
    alertmanager: {
      kind: "alertmanager",
      body: JSON.parse(fixture("alertmanager/prometheus-msteams__prom_post_request.json")),
    },
    feedback: { kind: "feedback", body: [{ id: "1", text: "The app crashes on sync", rating: 2 }] },
    webhook: { kind: "webhook", body: { id: "x1", title: "Disk full on db-1" } },
  };

  for (const [name, seed] of Object.entries(seeds)) {
    it(`${name}: mutated payloads never 500 and a refusal stores nothing`, async () => {
      // The unmutated seed is accepted: the property below is not vacuous.
      const ok = await post(seed.kind, JSON.stringify(seed.body), seed.headers);
      expect(ok.status, ok.text).toBeLessThan(300);
      await fc.assert(
        fc.asyncProperty(fc.oneof(mutated(seed.body), fc.jsonValue()), async (body) => {
          const before = await countRows(t.database.db, "signal");
          const res = await post(seed.kind, JSON.stringify(body) ?? "null", seed.headers);
          expect(res.status, res.text).toBeLessThan(500);
          if (res.status >= 400) {
            expect((res.body as { error?: { message?: string } }).error?.message).toBeTruthy();
            expect(await countRows(t.database.db, "signal")).toBe(before);
          }
        }),
        { numRuns: 60, seed: 20261124 },
      );
    });
  }

  /** The paths of every string in `v` (object keys left alone). */
  const stringPaths = (v: Json, p: (string | number)[] = []): (string | number)[][] =>
    typeof v === "string"
      ? [p]
      : Array.isArray(v)
        ? v.slice(0, 3).flatMap((x, i) => stringPaths(x, [...p, i]))
        : v && typeof v === "object"
          ? Object.entries(v).flatMap(([k, x]) => stringPaths(x, [...p, k]))
          : [];

  it("a NUL or half a surrogate pair in any string of a real payload (which PostgreSQL cannot store) is taken, kept as U+FFFD, and read by the agents", async () => {
    const nul = fc
      .tuple(
        fc.string({ maxLength: 8 }),
        fc.constantFrom("\u0000", "\uD800", "\uDC00"),
        fc.string({ maxLength: 8 }),
      )
      .map(([a, odd, b]) => `${a}${odd}${b}`);
    for (const [name, seed] of Object.entries(seeds)) {
      const paths = stringPaths(seed.body);
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...paths), nul, async (at, text) => {
          const body = structuredClone(seed.body) as Record<string | number, Json>;
          let o = body;
          for (const k of at.slice(0, -1)) o = o[k] as Record<string | number, Json>;
          o[at[at.length - 1] as string | number] = text;
          const headers = { ...seed.headers, "x-github-delivery": randomUUID() };
          const res = await post(seed.kind, JSON.stringify(body), headers);
          expect(res.status, `${name} ${at.join(".")}: ${res.text}`).toBeLessThan(500);
          if (res.status >= 400)
            expect((res.body as { error?: { message?: string } }).error?.message).toBeTruthy();
        }),
        { numRuns: 12, seed: 2026 },
      );
    }
    await t.drain();
    const stored = await t.database.db.query.signals.findMany({ columns: { payload: true } });
    expect(stored.map((s) => JSON.stringify(s.payload)).filter((s) => /\\u(0000|d[89a-f])/i.test(s))).toEqual(
      [],
    );
    expect(stored.some((s) => JSON.stringify(s.payload).includes("\uFFFD"))).toBe(true);
    // Every signal was read: none left failing (each agent's state and cards were written).
    const failing = await t.database.db.query.signals.findMany({
      columns: { kind: true, lastError: true },
      where: (s, { isNotNull }) => isNotNull(s.lastError),
    });
    expect(failing).toEqual([]);
  });

  it("an address or a person's text holding a NUL (or half a surrogate pair) is a 400 naming it, and nothing is stored", async () => {
    const refused = (res: { status: number; body: unknown; text: string }, words: string) => {
      expect(res.status, res.text).toBe(400);
      expect((res.body as { error: { message: string } }).error.message).toContain(words);
    };
    refused(await t.request("/api/sources/src%00x", { cookie: admin }), "the address holds a NUL character");
    refused(await t.request("/api/feed?agent=ci%00", { cookie: admin }), "the address holds a NUL character");
    refused(
      await t.request(`/ingest/${sources.webhook?.id}%00`, { body: "{}", origin: null }),
      "the address holds a NUL character",
    );
    const tokens = await countRows(t.database.db, "api_token");
    refused(
      await t.request("/api/tokens", { cookie: admin, json: { name: "deploy\u0000bot" } }),
      "name: holds a NUL character",
    );
    expect(await countRows(t.database.db, "api_token")).toBe(tokens);
    // Half a surrogate pair (JSON's "\ud800" alone) is no text either: jsonb refuses it.
    const bad = await t.request("/api/actions", {
      cookie: admin,
      json: { name: "page-oncall", url: "https://example.com/page", headers: { "X-Key": "k\uD800" } },
    });
    refused(bad, "headers.X-Key: holds half of a surrogate pair");
    const actions = await t.request<{ actions: { name: string }[] }>("/api/actions", { cookie: admin });
    expect(actions.body.actions.map((a) => a.name)).not.toContain("page-oncall");
    const [card] = await t.database.db.query.cards.findMany({ limit: 1 });
    const card_ = card ?? (await insertCard(t.database.db));
    const followUps = await countRows(t.database.db, "follow_up");
    const form = new FormData();
    form.set("text", "snooze\u0000 until Monday");
    const res = await t.fetch(
      new Request(`${ORIGIN}/api/cards/${card_.id}/follow-ups`, {
        method: "POST",
        body: form,
        headers: { cookie: admin, origin: ORIGIN },
      }),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      "text: holds a NUL character (\\u0000)",
    );
    expect(await countRows(t.database.db, "follow_up")).toBe(followUps);
  });

  it("JSON nested thousands of levels deep (which no write of it survives) is a 400 naming it, nothing stored", async () => {
    const deep = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
    const before = await countRows(t.database.db, "signal");
    for (const kind of ["webhook", "feedback", "metrics", "alertmanager"] as const) {
      const res = await post(kind, `{"id":"deep-${kind}","title":"deep","x":${deep(20_000)}}`);
      expect(res.status, `${kind}: ${res.text}`).toBe(400);
      expect((res.body as { error: { message: string } }).error.message).toBe(
        "request body nests deeper than 100 levels",
      );
    }
    expect(await countRows(t.database.db, "signal")).toBe(before);
    // As deep as real events go is fine.
    const ok = await post("webhook", `{"id":"deep-ok","title":"deep","x":${deep(90)}}`);
    expect(ok.status, ok.text).toBe(202);
    const sources = await countRows(t.database.db, "source");
    const api = await t.request("/api/sources", {
      cookie: admin,
      body: `{"kind":"webhook","name":"deep","settings":{"titlePath":"$.t","x":${deep(20_000)}}}`,
      headers: { "content-type": "application/json" },
    });
    expect(api.status, api.text).toBe(400);
    expect((api.body as { error: { message: string } }).error.message).toBe(
      "the body nests deeper than 100 levels",
    );
    expect(await countRows(t.database.db, "source")).toBe(sources);
  });

  it("arbitrary bytes into every ingest endpoint never 500", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...(Object.keys(sources) as Source["kind"][])),
        fc.string({ maxLength: 300 }),
        async (kind, text) => {
          const before = await countRows(t.database.db, "signal");
          const res = await post(kind, text, { "x-github-event": "push", "sentry-hook-resource": "issue" });
          expect(res.status, res.text).toBeLessThan(500);
          if (res.status >= 400) expect(await countRows(t.database.db, "signal")).toBe(before);
        },
      ),
      { numRuns: 150, seed: 7 },
    );
  });

  it("Sentry SDK envelopes: mutated events and arbitrary lines never 500, a refusal stores nothing", async () => {
    const dsn = new URL((sources.sentry as Source).sentryDsn ?? "");
    const event = JSON.parse(fixture("sentry/events/python-modern.json")) as Json;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(mutated(event), fc.jsonValue()),
        fc.string({ maxLength: 80 }),
        async (body, junk) => {
          const before = await countRows(t.database.db, "signal");
          const envelope = [
            JSON.stringify({ event_id: randomUUID().replace(/-/g, "") }),
            JSON.stringify({ type: "event" }),
            JSON.stringify(body) ?? "null",
            junk,
          ].join("\n");
          const res = await t.request(`/api/${dsn.pathname.slice(1)}/envelope/?sentry_key=${dsn.username}`, {
            body: envelope,
            origin: null,
            headers: { "content-type": "application/x-sentry-envelope" },
          });
          expect(res.status, res.text).toBeLessThan(500);
          if (res.status >= 400) expect(await countRows(t.database.db, "signal")).toBe(before);
        },
      ),
      { numRuns: 80, seed: 99 },
    );
  });

  it("every API route that takes a body, given random JSON, answers 4xx or 2xx, never 500", async () => {
    const [card] = await t.database.db.query.cards.findMany({ limit: 1 });
    const cardId = card?.id ?? "crd_missing";
    const action = await t.request<{ action: { id: string } }>("/api/actions", {
      cookie: admin,
      json: { name: "fuzz-target", url: "http://127.0.0.1:9/" },
    });
    const me = await t.request<{ user: { id: string } }>("/api/auth/state", { cookie: admin });
    const sourceId = sources.webhook?.id ?? "src_missing";
    const routes: [method: string, path: string][] = [
      ["POST", "/api/sources"],
      ["PATCH", `/api/sources/${sourceId}`],
      ["POST", `/api/sources/${sourceId}/test`],
      ["POST", "/api/actions"],
      ["PATCH", `/api/actions/${action.body.action?.id ?? "act_missing"}`],
      ["POST", "/api/tokens"],
      ["POST", "/api/invites"],
      ["PATCH", `/api/users/${me.body.user?.id ?? "usr_missing"}`],
      ["POST", `/api/cards/${cardId}/decisions`],
      ["POST", `/api/cards/${cardId}/follow-ups`],
      ["POST", "/api/decisions/dec_missing/undo"],
      ["POST", "/api/auth/login"],
      ["POST", "/api/auth/setup"],
      ["POST", "/api/auth/link"],
      ["POST", "/api/auth/accept-invite"],
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.jsonValue(), async ([method, route], body) => {
        const res = await t.request(route, {
          method,
          cookie: admin,
          json: body,
          headers: { origin: ORIGIN },
        });
        expect(res.status, `${method} ${route} ${res.text}`).toBeLessThan(500);
      }),
      { numRuns: 300, seed: 42 },
    );
    // The admin is still an admin and can still sign in: random bodies changed nothing that matters.
    const state = await t.request<{ user: { role: string } }>("/api/auth/state", { cookie: admin });
    expect(state.body.user?.role).toBe("admin");
  });
});
