import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import type { AppEnv, Auth } from "../env.ts";
import { AppError } from "../lib/errors.ts";
import { resolveSession } from "../services/auth/sessions.ts";
import { resolveApiToken } from "../services/tokens/manage.ts";
import { publicOrigin } from "./request.ts";

const COOKIE = "flick_session";
// Over https the cookie gets the __Host- prefix: the browser then insists on Secure, Path=/ and no Domain.
const SECURE_COOKIE = "__Host-flick_session";

function isSecure(c: Context<AppEnv>): boolean {
  return publicOrigin(c).startsWith("https:");
}

export function setSessionCookie(c: Context<AppEnv>, token: string, expiresAt: Date): void {
  const secure = isSecure(c);
  setCookie(c, secure ? SECURE_COOKIE : COOKIE, token, {
    httpOnly: true,
    sameSite: "Lax",
    secure,
    path: "/",
    expires: expiresAt,
  });
}

export function clearSessionCookie(c: Context<AppEnv>): void {
  deleteCookie(c, COOKIE, { path: "/" });
  deleteCookie(c, SECURE_COOKIE, { path: "/", secure: true });
}

function sessionToken(c: Context<AppEnv>): string | undefined {
  return getCookie(c, SECURE_COOKIE) ?? getCookie(c, COOKIE);
}

const unsafeMethods = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Works out who is calling: a bearer API token, else the session cookie. A request that presents
 * a credential that does not work gets 401 at once rather than being treated as anonymous.
 * Cookie-carrying mutations (and the sign-in forms themselves) must come from our own origin.
 */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const { database, clock, config } = c.var.deps;
  const now = clock.now();
  const header = c.req.header("authorization");
  let auth: Auth | null = null;

  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) throw new AppError("unauthorized", "Authorization header must be 'Bearer <token>'");
    const resolved = await resolveApiToken(database.db, { token: match[1], now });
    if (!resolved) throw new AppError("unauthorized", "API token is unknown, revoked or expired");
    auth = { via: "token", ...resolved };
  } else {
    const token = sessionToken(c);
    if (unsafeMethods.has(c.req.method) && (token !== undefined || c.req.path.startsWith("/api/auth/"))) {
      checkOrigin(c);
    }
    if (token !== undefined) {
      const resolved = await resolveSession(database.db, { token, now, ttlHours: config.SESSION_TTL_HOURS });
      if (resolved) auth = { via: "session", ...resolved };
      else clearSessionCookie(c);
    }
  }
  c.set("auth", auth);
  await next();
});

function checkOrigin(c: Context<AppEnv>): void {
  const origin = c.req.header("origin");
  if (origin === undefined) {
    throw new AppError("csrf_rejected", "Origin header is required for this request");
  }
  const expected = publicOrigin(c);
  if (origin !== expected) {
    throw new AppError("csrf_rejected", `requests from ${origin} are not accepted; expected ${expected}`);
  }
}

export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.var.auth) throw new AppError("unauthorized", "sign in first");
  await next();
});

export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.var.auth) throw new AppError("unauthorized", "sign in first");
  if (c.var.auth.user.role !== "admin") throw new AppError("forbidden", "only admins can do this");
  await next();
});

/** The signed-in user; only for handlers behind requireUser or requireAdmin. */
export function currentAuth(c: Context<AppEnv>): Auth {
  const auth = c.var.auth;
  if (!auth) throw new AppError("unauthorized", "sign in first");
  return auth;
}
