import type { ApiToken, ErrorBody, Invite, User } from "@flick/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countRows } from "../helpers/db.ts";
import { drivers, PASSWORD, sessionCookieFrom, startTestApp, type TestApp } from "../helpers/harness.ts";

describe.each(drivers)("invites, users and API tokens on %s", (driver) => {
  let t: TestApp;
  let admin: string;
  let reviewer: string;
  beforeAll(async () => {
    t = await startTestApp(driver);
    admin = await t.setupAdmin();
    reviewer = await t.addUser(admin, "reviewer", "rita@example.com");
  });
  afterAll(async () => {
    await t?.close();
  });

  describe("invites", () => {
    it("lets an admin invite by link; the link says what it grants and works once", async () => {
      const made = await t.request<{ invite: Invite; token: string; url: string }>("/api/invites", {
        cookie: admin,
        json: { role: "admin", email: "ian@example.com" },
      });
      expect(made.status, made.text).toBe(201);
      expect(made.body.url).toBe(`http://localhost/invite#${made.body.token}`);

      const info = await t.request("/api/auth/link", { json: { token: made.body.token } });
      expect(info.status, info.text).toBe(200);
      expect(info.body).toMatchObject({ purpose: "invite", role: "admin", email: "ian@example.com" });

      const wrongEmail = await t.request<ErrorBody>("/api/auth/accept-invite", {
        json: { token: made.body.token, email: "eve@example.com", name: "Eve", password: PASSWORD },
      });
      expect(wrongEmail.status, wrongEmail.text).toBe(403);
      expect(wrongEmail.body.error.message).toContain("ian@example.com");

      const accepted = await t.request<{ user: User }>("/api/auth/accept-invite", {
        json: { token: made.body.token, email: "ian@example.com", name: "Ian", password: PASSWORD },
      });
      expect(accepted.status, accepted.text).toBe(201);
      expect(accepted.body.user.role).toBe("admin");

      const again = await t.request<ErrorBody>("/api/auth/accept-invite", {
        json: { token: made.body.token, email: "ian@example.com", name: "Ian", password: PASSWORD },
      });
      expect(again.status).toBe(404);
      expect(again.body.error.message).toMatch(/unknown, used or expired/);
    });

    it("expires links", async () => {
      const made = await t.request<{ token: string }>("/api/invites", {
        cookie: admin,
        json: { role: "reviewer", expiresInHours: 1 },
      });
      t.clock.advance(2 * 3600_000);
      const res = await t.request("/api/auth/accept-invite", {
        json: { token: made.body.token, email: "late@example.com", name: "Late", password: PASSWORD },
      });
      expect(res.status, res.text).toBe(404);
    });

    it("lets only one of two people racing for a link in", async () => {
      const made = await t.request<{ token: string }>("/api/invites", { cookie: admin, json: {} });
      const usersBefore = await countRows(t.database.db, "user");
      const results = await Promise.all(
        ["race1@example.com", "race2@example.com"].map((email) =>
          t.request("/api/auth/accept-invite", {
            json: { token: made.body.token, email, name: email, password: PASSWORD },
          }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 404]);
      expect(await countRows(t.database.db, "user")).toBe(usersBefore + 1);
    });

    it("lists and revokes invites; a revoked link no longer works", async () => {
      const made = await t.request<{ invite: Invite; token: string }>("/api/invites", {
        cookie: admin,
        json: {},
      });
      const list = await t.request<{ invites: Invite[] }>("/api/invites", { cookie: admin });
      expect(list.body.invites.map((i) => i.id)).toContain(made.body.invite.id);
      const del = await t.request(`/api/invites/${made.body.invite.id}`, { cookie: admin, method: "DELETE" });
      expect(del.status, del.text).toBe(200);
      const info = await t.request("/api/auth/link", { json: { token: made.body.token } });
      expect(info.status).toBe(404);
    });

    it("refuses invites to reviewers (403) and to anonymous callers (401), storing nothing", async () => {
      const before = await countRows(t.database.db, "invite");
      const asReviewer = await t.request<ErrorBody>("/api/invites", {
        cookie: reviewer,
        json: { role: "admin" },
      });
      expect(asReviewer.status, asReviewer.text).toBe(403);
      expect(asReviewer.body.error.code).toBe("forbidden");
      const anonymous = await t.request<ErrorBody>("/api/invites", { json: { role: "admin" } });
      expect(anonymous.status).toBe(401);
      expect(await countRows(t.database.db, "invite")).toBe(before);
    });

    it("rejects a bad role naming the field", async () => {
      const res = await t.request<ErrorBody>("/api/invites", { cookie: admin, json: { role: "owner" } });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/^role: /);
    });
  });

  describe("users", () => {
    it("lists the team for admins only", async () => {
      const list = await t.request<{ users: User[] }>("/api/users", { cookie: admin });
      expect(list.status, list.text).toBe(200);
      expect(list.body.users.map((u) => u.email)).toEqual(
        expect.arrayContaining(["admin@example.com", "rita@example.com"]),
      );
      expect(JSON.stringify(list.body)).not.toMatch(/password|scrypt/);
      expect((await t.request("/api/users", { cookie: reviewer })).status).toBe(403);
      expect((await t.request("/api/users")).status).toBe(401);
    });

    it("disabling a user ends their sessions at once", async () => {
      const cookie = await t.addUser(admin, "reviewer", "dan@example.com");
      const me = await t.request<{ user: User }>("/api/auth/me", { cookie });
      const off = await t.request<{ user: User }>(`/api/users/${me.body.user.id}`, {
        cookie: admin,
        method: "PATCH",
        json: { disabled: true },
      });
      expect(off.status, off.text).toBe(200);
      expect(off.body.user.disabled).toBe(true);
      expect((await t.request("/api/auth/me", { cookie })).status).toBe(401);
      const login = await t.request("/api/auth/login", {
        json: { email: "dan@example.com", password: PASSWORD },
      });
      expect(login.status).toBe(401);
    });

    it("keeps at least one active admin", async () => {
      const list = await t.request<{ users: User[] }>("/api/users", { cookie: admin });
      const admins = list.body.users.filter((u) => u.role === "admin" && !u.disabled);
      // Demote every admin but the last; the last demotion must be refused.
      for (const u of admins.slice(1)) {
        const res = await t.request(`/api/users/${u.id}`, {
          cookie: admin,
          method: "PATCH",
          json: { role: "reviewer" },
        });
        expect(res.status, res.text).toBe(200);
      }
      const last = admins[0];
      if (!last) throw new Error("no admin");
      const res = await t.request<ErrorBody>(`/api/users/${last.id}`, {
        cookie: admin,
        method: "PATCH",
        json: { role: "reviewer" },
      });
      expect(res.status, res.text).toBe(409);
      expect(res.body.error.message).toBe("the team needs at least one active admin");
    });

    it("answers 404 for an unknown user and 400 for an empty change", async () => {
      const missing = await t.request("/api/users/usr_nope", {
        cookie: admin,
        method: "PATCH",
        json: { role: "admin" },
      });
      expect(missing.status).toBe(404);
      const empty = await t.request<ErrorBody>("/api/users/usr_nope", {
        cookie: admin,
        method: "PATCH",
        json: {},
      });
      expect(empty.status).toBe(400);
      expect(empty.body.error.message).toContain("give role or disabled");
    });
  });

  describe("API tokens", () => {
    it("shows a token once, then authenticates machines with it until revoked", async () => {
      const made = await t.request<{ token: string; apiToken: ApiToken }>("/api/tokens", {
        cookie: admin,
        json: { name: "deploy bot" },
      });
      expect(made.status, made.text).toBe(201);
      expect(made.body.token).toMatch(/^flk_/);
      expect(made.body.apiToken.prefix).toBe(made.body.token.slice(0, 10));

      const list = await t.request<{ tokens: ApiToken[] }>("/api/tokens", { cookie: admin });
      expect(list.text).not.toContain(made.body.token);

      const me = await t.request<{ user: User }>("/api/auth/me", { bearer: made.body.token });
      expect(me.status, me.text).toBe(200);
      expect(me.body.user.email).toBe("admin@example.com");
      // Bearer callers are not browsers: no Origin needed.
      const viaToken = await t.request("/api/invites", { bearer: made.body.token, json: {}, origin: null });
      expect(viaToken.status, viaToken.text).toBe(201);

      const revoke = await t.request(`/api/tokens/${made.body.apiToken.id}`, {
        cookie: admin,
        method: "DELETE",
      });
      expect(revoke.status, revoke.text).toBe(200);
      const after = await t.request<ErrorBody>("/api/auth/me", { bearer: made.body.token });
      expect(after.status).toBe(401);
      expect(after.body.error.message).toContain("revoked");
    });

    it("stores only a hash of the token", async () => {
      const made = await t.request<{ token: string }>("/api/tokens", {
        cookie: reviewer,
        json: { name: "cli" },
      });
      const rows = await t.database.db.query.apiTokens.findMany();
      expect(JSON.stringify(rows)).not.toContain(made.body.token);
    });

    it("never lets a reviewer mint an admin token, nor see or revoke others' tokens", async () => {
      const escalate = await t.request<ErrorBody>("/api/tokens", {
        cookie: reviewer,
        json: { name: "sneaky", role: "admin" },
      });
      expect(escalate.status, escalate.text).toBe(403);

      const adminToken = await t.request<{ apiToken: ApiToken }>("/api/tokens", {
        cookie: admin,
        json: { name: "ops" },
      });
      const mine = await t.request<{ tokens: ApiToken[] }>("/api/tokens", { cookie: reviewer });
      expect(mine.body.tokens.map((x) => x.id)).not.toContain(adminToken.body.apiToken.id);
      const revoke = await t.request(`/api/tokens/${adminToken.body.apiToken.id}`, {
        cookie: reviewer,
        method: "DELETE",
      });
      expect(revoke.status).toBe(404);
    });

    it("rejects a malformed Authorization header and unknown tokens with 401", async () => {
      const bad = await t.request<ErrorBody>("/api/auth/me", { headers: { authorization: "Basic abc" } });
      expect(bad.status).toBe(401);
      expect(bad.body.error.message).toContain("Bearer");
      expect((await t.request("/api/auth/me", { bearer: "flk_made_up" })).status).toBe(401);
    });

    it("expires tokens", async () => {
      const made = await t.request<{ token: string }>("/api/tokens", {
        cookie: admin,
        json: { name: "short", expiresInDays: 1 },
      });
      expect((await t.request("/api/auth/me", { bearer: made.body.token })).status).toBe(200);
      t.clock.advance(2 * 86400_000);
      expect((await t.request("/api/auth/me", { bearer: made.body.token })).status).toBe(401);
    });
  });

  it("keeps a session working for its owner only after re-login elsewhere", async () => {
    const other = sessionCookieFrom(
      (await t.request("/api/auth/login", { json: { email: "rita@example.com", password: PASSWORD } }))
        .setCookie,
    );
    expect(other).not.toBe(reviewer);
    expect((await t.request("/api/auth/me", { cookie: reviewer })).status).toBe(200);
  });
});
