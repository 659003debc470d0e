import type { ErrorBody, User } from "@flick/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countRows } from "../helpers/db.ts";
import { drivers, PASSWORD, sessionCookieFrom, startTestApp, type TestApp } from "../helpers/harness.ts";

describe.each(drivers)("auth on %s", (driver) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(driver);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("reports that setup is needed, then creates the admin through the one-time link", async () => {
    const before = await t.request<{ needsSetup: boolean; user: User | null }>("/api/auth/state");
    expect(before.status, before.text).toBe(200);
    expect(before.body).toEqual({ needsSetup: true, user: null });

    const cookie = await t.setupAdmin("Admin@Example.com");
    const me = await t.request<{ user: User }>("/api/auth/me", { cookie });
    expect(me.status, me.text).toBe(200);
    expect(me.body.user).toMatchObject({ email: "admin@example.com", role: "admin", disabled: false });

    const after = await t.request<{ needsSetup: boolean }>("/api/auth/state", { cookie });
    expect(after.body.needsSetup).toBe(false);
  });

  it("will not run setup twice, even with a fresh link", async () => {
    const res = await t.request<ErrorBody>("/api/auth/setup", {
      json: { token: "made-up-token", email: "mallory@example.com", name: "M", password: PASSWORD },
    });
    expect(res.status, res.text).toBe(404);
    expect(res.body.error.code).toBe("not_found");
    expect(await countRows(t.database.db, "user")).toBe(1);
  });

  it("signs in with the right password and sets an httpOnly SameSite cookie", async () => {
    const res = await t.request<{ user: User }>("/api/auth/login", {
      json: { email: "admin@example.com", password: PASSWORD },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.user.email).toBe("admin@example.com");
    const cookie = res.setCookie.find((c) => c.startsWith("flick_session="));
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Secure/);
  });

  it("refuses a wrong password with 401 and a clear message, and opens no session", async () => {
    const sessionsBefore = await countRows(t.database.db, "session");
    const res = await t.request<ErrorBody>("/api/auth/login", {
      json: { email: "admin@example.com", password: "not the password" },
    });
    expect(res.status, res.text).toBe(401);
    expect(res.body.error).toMatchObject({
      code: "invalid_credentials",
      message: "email or password is wrong",
    });
    expect(res.body.error.requestId).toBe(res.headers.get("x-request-id"));
    expect(res.setCookie).toEqual([]);
    expect(await countRows(t.database.db, "session")).toBe(sessionsBefore);
  });

  it("answers an unknown email exactly like a wrong password", async () => {
    const res = await t.request<ErrorBody>("/api/auth/login", {
      json: { email: "nobody@example.com", password: "whatever-it-is" },
    });
    expect(res.status).toBe(401);
    expect(res.body.error.message).toBe("email or password is wrong");
  });

  it("names the bad field when the body is invalid", async () => {
    const res = await t.request<ErrorBody>("/api/auth/login", {
      json: { email: "not-an-email", password: "x" },
    });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.message).toMatch(/^email: /);
  });

  it("rejects malformed JSON with 400 invalid_json", async () => {
    const res = await t.request<ErrorBody>("/api/auth/login", {
      body: '{"email": "admin@example.com", "password": ',
      headers: { "content-type": "application/json" },
    });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.code).toBe("invalid_json");
  });

  it("rejects a body that is not JSON with 415", async () => {
    const res = await t.request<ErrorBody>("/api/auth/login", {
      body: "email=admin@example.com&password=x",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(res.status, res.text).toBe(415);
    expect(res.body.error.code).toBe("unsupported_media_type");
  });

  it("rejects an oversized body with 413 before reading it", async () => {
    const res = await t.request<ErrorBody>("/api/auth/login", {
      json: { email: "admin@example.com", password: "x".repeat(2 * 1024 * 1024) },
    });
    expect(res.status, res.text).toBe(413);
    expect(res.body.error.code).toBe("payload_too_large");
  });

  it("treats a missing or stale session as signed out", async () => {
    const none = await t.request<ErrorBody>("/api/auth/me", { cookie: null });
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe("unauthorized");
    const stale = await t.request<ErrorBody>("/api/auth/me", { cookie: "flick_session=forged-value" });
    expect(stale.status).toBe(401);
  });

  it("blocks cookie-authenticated mutations from another origin or with no Origin", async () => {
    const cookie = sessionCookieFrom(
      (await t.request("/api/auth/login", { json: { email: "admin@example.com", password: PASSWORD } }))
        .setCookie,
    );
    const invitesBefore = await countRows(t.database.db, "invite");
    const forged = await t.request<ErrorBody>("/api/invites", {
      cookie,
      json: { role: "admin" },
      origin: "https://evil.example",
    });
    expect(forged.status, forged.text).toBe(403);
    expect(forged.body.error.code).toBe("csrf_rejected");
    expect(forged.body.error.message).toContain("https://evil.example");
    const missing = await t.request<ErrorBody>("/api/invites", {
      cookie,
      json: { role: "admin" },
      origin: null,
    });
    expect(missing.status).toBe(403);
    expect(await countRows(t.database.db, "invite")).toBe(invitesBefore);
    // The same request from our own origin goes through.
    const ok = await t.request("/api/invites", { cookie, json: { role: "reviewer" } });
    expect(ok.status, ok.text).toBe(201);
  });

  it("ends the session on logout", async () => {
    const cookie = sessionCookieFrom(
      (await t.request("/api/auth/login", { json: { email: "admin@example.com", password: PASSWORD } }))
        .setCookie,
    );
    const out = await t.request("/api/auth/logout", { cookie, method: "POST" });
    expect(out.status, out.text).toBe(200);
    expect((await t.request("/api/auth/me", { cookie })).status).toBe(401);
  });

  it("expires sessions after their lifetime", async () => {
    const cookie = sessionCookieFrom(
      (await t.request("/api/auth/login", { json: { email: "admin@example.com", password: PASSWORD } }))
        .setCookie,
    );
    expect((await t.request("/api/auth/me", { cookie })).status).toBe(200);
    t.clock.advance((t.config.SESSION_TTL_HOURS + 1) * 3600_000);
    expect((await t.request("/api/auth/me", { cookie })).status).toBe(401);
  });

  it("rate-limits repeated failed logins with 429 and Retry-After, across emails from one IP", async () => {
    for (let i = 0; i < t.config.LOGIN_MAX_FAILURES; i++) {
      await t.request("/api/auth/login", {
        json: { email: `guess${i}@example.com`, password: "wrong-password" },
      });
    }
    const limited = await t.request<ErrorBody>("/api/auth/login", {
      json: { email: "admin@example.com", password: PASSWORD },
    });
    expect(limited.status, limited.text).toBe(429);
    expect(limited.body.error.code).toBe("rate_limited");
    expect(limited.headers.get("retry-after")).toBe("900");
    t.clock.advance(16 * 60 * 1000);
    const later = await t.request("/api/auth/login", {
      json: { email: "admin@example.com", password: PASSWORD },
    });
    expect(later.status, later.text).toBe(200);
  });

  it("never writes passwords or session tokens to the log", async () => {
    const res = await t.request("/api/auth/login", {
      json: { email: "admin@example.com", password: PASSWORD },
    });
    const token = sessionCookieFrom(res.setCookie).split("=")[1] ?? "";
    expect(token.length).toBeGreaterThan(20);
    expect(t.logs.text).toContain('"path":"/api/auth/login"');
    expect(t.logs.text).not.toContain(PASSWORD);
    expect(t.logs.text).not.toContain(token);
  });
});

describe("secure cookies behind https", () => {
  it("uses a __Host- Secure cookie when PUBLIC_URL is https", async () => {
    const t = await startTestApp("pglite", { PUBLIC_URL: "https://flick.example.com" });
    try {
      const token = await import("@flick/server/setup").then((m) =>
        m.ensureSetupLink(t.database.db, t.clock.now()),
      );
      const res = await t.request("/api/auth/setup", {
        json: { token, email: "a@example.com", name: "A", password: PASSWORD },
        origin: "https://flick.example.com",
      });
      expect(res.status, res.text).toBe(201);
      const cookie = res.setCookie.find((c) => c.startsWith("__Host-flick_session="));
      expect(cookie).toMatch(/Secure/);
      expect(cookie).toMatch(/HttpOnly/i);
    } finally {
      await t.close();
    }
  });
});
