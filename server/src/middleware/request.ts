import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv, Deps } from "../env.ts";
import { randomToken } from "../lib/crypto.ts";

const requestIdPattern = /^[\w.-]{1,64}$/;

/** Gives each request an id (a caller's well-formed X-Request-Id is kept), a child logger and an access log line. */
export function requestContext(deps: Deps) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && requestIdPattern.test(incoming) ? incoming : randomToken(9);
    const log = deps.logger.child({ requestId });
    c.set("deps", deps);
    c.set("requestId", requestId);
    c.set("log", log);
    c.set("auth", null);
    c.header("X-Request-Id", requestId);
    const started = performance.now();
    await next();
    // Path only: query strings can carry tokens.
    log.info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
        user: c.var.auth?.user.id,
      },
      "request",
    );
  });
}

export function clientIp(c: Context<AppEnv>): string {
  if (c.var.deps.config.TRUST_PROXY) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    // In-process requests (app.request in tests) have no socket.
    return "unknown";
  }
}

/** The origin the browser sees: PUBLIC_URL when set, otherwise what the request itself says. */
export function publicOrigin(c: Context<AppEnv>): string {
  const configured = c.var.deps.config.PUBLIC_URL;
  if (configured) return new URL(configured).origin;
  const url = new URL(c.req.url);
  if (c.var.deps.config.TRUST_PROXY) {
    const proto = c.req.header("x-forwarded-proto")?.split(",")[0]?.trim();
    const host = c.req.header("x-forwarded-host")?.split(",")[0]?.trim();
    if (proto) url.protocol = `${proto}:`;
    if (host) url.host = host;
  }
  return url.origin;
}
