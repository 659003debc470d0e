import { pushPreferencesSchema, pushSubscriptionInputSchema } from "@flick/shared";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { AppError } from "../lib/errors.ts";
import { validate } from "../lib/validate.ts";
import { currentAuth, requireUser } from "../middleware/auth.ts";
import {
  deviceCount,
  preferencesOf,
  savePreferences,
  subscribe,
  unsubscribe,
  vapidKeys,
} from "../services/push/manage.ts";

/** Web push for the person signed in: the server's public key, their devices and their budget. */
export const pushRoutes = new Hono<AppEnv>()
  .use(requireUser)
  .get("/", async (c) => {
    const db = c.var.deps.database.db;
    const { id } = currentAuth(c).user;
    return c.json({
      publicKey: (await vapidKeys(db)).publicKey,
      preferences: await preferencesOf(db, id),
      devices: await deviceCount(db, id),
    });
  })
  .put("/preferences", validate("json", pushPreferencesSchema), async (c) => {
    const { database, clock } = c.var.deps;
    const saved = await savePreferences(
      database.db,
      currentAuth(c).user.id,
      c.req.valid("json"),
      clock.now(),
    );
    return c.json({ preferences: saved });
  })
  .post("/subscriptions", validate("json", pushSubscriptionInputSchema), async (c) => {
    const { database, clock, config } = c.var.deps;
    const input = c.req.valid("json");
    // The server POSTs to this URL: only a push service's https endpoint, never a plain-http address
    // on the server's network (unless a local push service is allowed on purpose).
    if (!input.endpoint.startsWith("https:") && !config.PUSH_ALLOW_HTTP)
      throw new AppError("validation_failed", "endpoint: push endpoints must be https URLs");
    await subscribe(database.db, currentAuth(c).user.id, input, clock.now());
    return c.json({ devices: await deviceCount(database.db, currentAuth(c).user.id) }, 201);
  })
  .delete("/subscriptions", validate("json", z.object({ endpoint: z.string().max(2000) })), async (c) => {
    const db = c.var.deps.database.db;
    const { id } = currentAuth(c).user;
    if (!(await unsubscribe(db, id, c.req.valid("json").endpoint)))
      throw new AppError("not_found", "this device is not subscribed");
    return c.json({ devices: await deviceCount(db, id) });
  });
