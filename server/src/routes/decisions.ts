import { auditQuerySchema, decisionInputSchema, undoInputSchema } from "@flick/shared";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { validate } from "../lib/validate.ts";
import { currentAuth, requireAdmin, requireUser } from "../middleware/auth.ts";
import { getCard } from "../services/cards/read.ts";
import { activeMutes, auditLog, cardHistory, unmute } from "../services/decisions/audit.ts";
import { decide } from "../services/decisions/decide.ts";
import { dryRunCard } from "../services/decisions/dry-run.ts";
import { undoDecision } from "../services/decisions/undo.ts";
import { retryExecution } from "../services/executions/retry.ts";

const id = validate("param", z.object({ id: z.string().max(64) }));

export const decisionRoutes = new Hono<AppEnv>()
  .post("/cards/:id/decisions", requireUser, id, validate("json", decisionInputSchema), async (c) => {
    const { database, clock, config } = c.var.deps;
    const { result, replayed } = await decide(database.db, {
      cardId: c.req.valid("param").id,
      userId: currentAuth(c).user.id,
      userName: currentAuth(c).user.name,
      input: c.req.valid("json"),
      now: clock.now(),
      undoWindowMs: config.UNDO_WINDOW_SECONDS * 1000,
      muteHours: config.MUTE_HOURS,
    });
    return c.json(result, replayed ? 200 : 201);
  })
  .post("/cards/:id/dry-run", requireUser, id, async (c) => {
    const { database, config, clock } = c.var.deps;
    return c.json(await dryRunCard(database.db, config, c.req.valid("param").id, clock.now()));
  })
  .get("/cards/:id/history", requireUser, id, async (c) => {
    const { database, config } = c.var.deps;
    await getCard(database.db, c.req.valid("param").id);
    return c.json(await cardHistory(database.db, c.req.valid("param").id, config.UNDO_WINDOW_SECONDS * 1000));
  })
  .post("/decisions/:id/undo", requireUser, id, validate("json", undoInputSchema), async (c) => {
    const { database, clock, config } = c.var.deps;
    const result = await undoDecision(database.db, {
      decisionId: c.req.valid("param").id,
      user: currentAuth(c).user,
      idempotencyKey: c.req.valid("json").idempotencyKey,
      now: clock.now(),
      undoWindowMs: config.UNDO_WINDOW_SECONDS * 1000,
    });
    return c.json(result);
  })
  .post("/executions/:id/retry", requireUser, id, async (c) => {
    const { database, clock } = c.var.deps;
    return c.json({
      execution: await retryExecution(database.db, { id: c.req.valid("param").id, now: clock.now() }),
    });
  })
  .get("/audit", requireAdmin, validate("query", auditQuerySchema), async (c) => {
    const { database, config } = c.var.deps;
    return c.json(await auditLog(database.db, c.req.valid("query"), config.UNDO_WINDOW_SECONDS * 1000));
  })
  .get("/mutes", requireUser, async (c) => {
    const { database, clock } = c.var.deps;
    return c.json({ mutes: await activeMutes(database.db, clock.now()) });
  })
  .delete("/mutes/:id", requireUser, id, async (c) => {
    await unmute(c.var.deps.database.db, c.req.valid("param").id);
    return c.json({ ok: true });
  });
