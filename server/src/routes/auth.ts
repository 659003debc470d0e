import { inviteAcceptSchema, inviteLookupSchema, loginInputSchema, setupInputSchema } from "@flick/shared";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { validate } from "../lib/validate.ts";
import { clearSessionCookie, currentAuth, requireUser, setSessionCookie } from "../middleware/auth.ts";
import { clientIp } from "../middleware/request.ts";
import { login } from "../services/auth/login.ts";
import { deleteSession } from "../services/auth/sessions.ts";
import { lookupLink, redeemLink, userCount } from "../services/invites/redeem.ts";
import { getUser } from "../services/users/manage.ts";

export const authRoutes = new Hono<AppEnv>()
  .get("/state", async (c) => {
    const { database } = c.var.deps;
    const auth = c.var.auth;
    const needsSetup = (await userCount(database.db)) === 0;
    const user = auth ? await getUser(database.db, auth.user.id) : null;
    return c.json({ needsSetup, user });
  })
  .get("/me", requireUser, async (c) => {
    const user = await getUser(c.var.deps.database.db, currentAuth(c).user.id);
    return c.json({ user });
  })
  .post("/login", validate("json", loginInputSchema), async (c) => {
    const { database, clock, config } = c.var.deps;
    const input = c.req.valid("json");
    const { user, session } = await login(database.db, {
      ...input,
      ip: clientIp(c),
      userAgent: c.req.header("user-agent"),
      now: clock.now(),
      maxFailures: config.LOGIN_MAX_FAILURES,
      ttlHours: config.SESSION_TTL_HOURS,
    });
    setSessionCookie(c, session.token, session.expiresAt);
    return c.json({ user: await getUser(database.db, user.id) });
  })
  .post("/logout", async (c) => {
    const auth = c.var.auth;
    if (auth?.via === "session") await deleteSession(c.var.deps.database.db, auth.sessionId);
    clearSessionCookie(c);
    return c.json({ ok: true });
  })
  .post("/setup", validate("json", setupInputSchema), async (c) => {
    const { database, clock, config } = c.var.deps;
    const input = c.req.valid("json");
    const { user, session } = await redeemLink(database.db, {
      ...input,
      purpose: "setup",
      now: clock.now(),
      ttlHours: config.SESSION_TTL_HOURS,
      userAgent: c.req.header("user-agent"),
      ip: clientIp(c),
    });
    c.var.log.info({ userId: user.id }, "admin account created through the setup link");
    setSessionCookie(c, session.token, session.expiresAt);
    return c.json({ user: await getUser(database.db, user.id) }, 201);
  })
  .post("/link", validate("json", inviteLookupSchema), async (c) => {
    const { database, clock } = c.var.deps;
    const info = await lookupLink(database.db, c.req.valid("json").token, clock.now());
    return c.json({ ...info, expiresAt: info.expiresAt.toISOString() });
  })
  .post("/accept-invite", validate("json", inviteAcceptSchema), async (c) => {
    const { database, clock, config } = c.var.deps;
    const input = c.req.valid("json");
    const { user, session } = await redeemLink(database.db, {
      ...input,
      purpose: "invite",
      now: clock.now(),
      ttlHours: config.SESSION_TTL_HOURS,
      userAgent: c.req.header("user-agent"),
      ip: clientIp(c),
    });
    c.var.log.info({ userId: user.id }, "account created through an invitation");
    setSessionCookie(c, session.token, session.expiresAt);
    return c.json({ user: await getUser(database.db, user.id) }, 201);
  });
