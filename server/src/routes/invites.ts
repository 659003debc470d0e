import { inviteCreateSchema } from "@flick/shared";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { validate } from "../lib/validate.ts";
import { currentAuth, requireAdmin } from "../middleware/auth.ts";
import { publicOrigin } from "../middleware/request.ts";
import { createInvite, listInvites, revokeInvite } from "../services/invites/manage.ts";

export const inviteRoutes = new Hono<AppEnv>()
  .use(requireAdmin)
  .get("/", async (c) => c.json({ invites: await listInvites(c.var.deps.database.db) }))
  .post("/", validate("json", inviteCreateSchema), async (c) => {
    const { database, clock } = c.var.deps;
    const input = c.req.valid("json");
    const { invite, token } = await createInvite(database.db, {
      createdBy: currentAuth(c).user.id,
      role: input.role,
      email: input.email,
      expiresInHours: input.expiresInHours,
      now: clock.now(),
    });
    // The token lives in the URL fragment, so it never reaches server logs or Referer headers.
    const url = `${publicOrigin(c)}/invite#${token}`;
    return c.json({ invite, token, url }, 201);
  })
  .delete("/:id", validate("param", z.object({ id: z.string().max(64) })), async (c) => {
    await revokeInvite(c.var.deps.database.db, c.req.valid("param").id);
    return c.json({ ok: true });
  });
