import { actionInputSchema } from "@flick/shared";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { validate } from "../lib/validate.ts";
import { requireAdmin } from "../middleware/auth.ts";
import { createAction, deleteAction, listActions, updateAction } from "../services/actions/manage.ts";

const id = validate("param", z.object({ id: z.string().max(64) }));

export const actionRoutes = new Hono<AppEnv>()
  .use(requireAdmin)
  .get("/", async (c) => c.json({ actions: await listActions(c.var.deps.database.db) }))
  .post("/", validate("json", actionInputSchema), async (c) => {
    const { database, clock } = c.var.deps;
    return c.json({ action: await createAction(database.db, c.req.valid("json"), clock.now()) }, 201);
  })
  .patch("/:id", id, validate("json", actionInputSchema.partial()), async (c) => {
    const { database, clock } = c.var.deps;
    return c.json({
      action: await updateAction(database.db, c.req.valid("param").id, c.req.valid("json"), clock.now()),
    });
  })
  .delete("/:id", id, async (c) => {
    await deleteAction(c.var.deps.database.db, c.req.valid("param").id);
    return c.json({ ok: true });
  });
