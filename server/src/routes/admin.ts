import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { startOfUtcDay } from "../lib/clock.ts";
import { validate } from "../lib/validate.ts";
import { requireAdmin } from "../middleware/auth.ts";
import { loadDemoCards } from "../services/cards/demo.ts";
import { removeDemoData, replaySampleSignals } from "../services/demo/load.ts";
import { modelUsage } from "../services/follow-ups/usage.ts";
import { discardDeadLetter, listDeadLetters, retryDeadLetters } from "../services/signals/dead-letters.ts";

const idParam = validate("param", z.object({ id: z.string().max(64) }));

export const adminRoutes = new Hono<AppEnv>()
  .use(requireAdmin)
  .post("/demo", async (c) => {
    const { database, clock } = c.var.deps;
    return c.json(await loadDemoCards(database.db, clock.now()), 201);
  })
  .delete("/demo", async (c) => {
    const { database, clock } = c.var.deps;
    return c.json(await removeDemoData(database.db, clock.now()));
  })
  .post("/demo/signals", async (c) => {
    const { database, clock } = c.var.deps;
    const replay = await replaySampleSignals(database.db, c.var.services.signalWriter, clock.now());
    return c.json(replay, replay.loaded ? 201 : 200);
  })
  .get(
    "/usage",
    validate("query", z.object({ days: z.coerce.number().int().min(1).max(90).default(1) })),
    async (c) => {
      const { database, clock, config } = c.var.deps;
      const now = clock.now();
      const since = new Date(startOfUtcDay(now).getTime() - (c.req.valid("query").days - 1) * 86_400_000);
      const usage = await modelUsage(database.db, since, config.OPENAI_USD_PER_MILLION_TOKENS);
      const limit = (n: number) => (n > 0 ? n : null);
      return c.json({
        ...usage,
        // Which model answers (null: none configured, the built-in rules do), and the tokens each
        // user of it may spend per UTC day (null: no limit).
        model: config.OPENAI_API_KEY || config.OPENAI_BASE_URL ? config.OPENAI_MODEL : null,
        dailyLimits: {
          followUps: limit(config.OPENAI_DAILY_TOKENS),
          fixer: limit(config.FIXER_DAILY_TOKENS),
          summarizer: limit(config.SUMMARIZER_DAILY_TOKENS),
        },
      });
    },
  )
  .get("/dead-letters", async (c) => {
    const { database, config } = c.var.deps;
    // How long processed signals are kept (0: forever), said beside the ones set aside.
    return c.json({
      signals: await listDeadLetters(database.db),
      retentionDays: config.SIGNAL_RETENTION_DAYS,
    });
  })
  .post("/dead-letters/retry", async (c) => {
    const { database, clock } = c.var.deps;
    return c.json({ retried: await retryDeadLetters(database, null, clock.now()) });
  })
  .post("/dead-letters/:id/retry", idParam, async (c) => {
    const { database, clock } = c.var.deps;
    await retryDeadLetters(database, c.req.valid("param").id, clock.now());
    return c.json({ ok: true });
  })
  .delete("/dead-letters/:id", idParam, async (c) => {
    await discardDeadLetter(c.var.deps.database.db, c.req.valid("param").id);
    return c.json({ ok: true });
  });
