import { apiTokenCreateSchema } from "@flick/shared";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { validate } from "../lib/validate.ts";
import { currentAuth, requireUser } from "../middleware/auth.ts";
import { createApiToken, listApiTokens, revokeApiToken } from "../services/tokens/manage.ts";

export const tokenRoutes = new Hono<AppEnv>()
  .use(requireUser)
  .get("/", async (c) => c.json({ tokens: await listApiTokens(c.var.deps.database.db, currentAuth(c).user) }))
  .post("/", validate("json", apiTokenCreateSchema), async (c) => {
    const { database, clock } = c.var.deps;
    const input = c.req.valid("json");
    const { token, apiToken } = await createApiToken(database.db, {
      owner: currentAuth(c).user,
      name: input.name,
      role: input.role,
      expiresInDays: input.expiresInDays,
      now: clock.now(),
    });
    return c.json({ token, apiToken }, 201);
  })
  .delete("/:id", validate("param", z.object({ id: z.string().max(64) })), async (c) => {
    const { database, clock } = c.var.deps;
    const apiToken = await revokeApiToken(database.db, {
      id: c.req.valid("param").id,
      viewer: currentAuth(c).user,
      now: clock.now(),
    });
    return c.json({ apiToken });
  });
