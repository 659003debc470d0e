import { userUpdateSchema } from "@flick/shared";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { validate } from "../lib/validate.ts";
import { requireAdmin } from "../middleware/auth.ts";
import { listUsers, updateUser } from "../services/users/manage.ts";

export const userRoutes = new Hono<AppEnv>()
  .use(requireAdmin)
  .get("/", async (c) => c.json({ users: await listUsers(c.var.deps.database.db) }))
  .patch(
    "/:id",
    validate("param", z.object({ id: z.string().max(64) })),
    validate("json", userUpdateSchema),
    async (c) => {
      const { database, clock } = c.var.deps;
      const user = await updateUser(database.db, {
        id: c.req.valid("param").id,
        change: c.req.valid("json"),
        now: clock.now(),
      });
      return c.json({ user });
    },
  );
