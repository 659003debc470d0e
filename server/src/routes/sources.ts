import {
  prometheusHistoryRequestSchema,
  sourceCreateSchema,
  sourceUpdateSchema,
  webhookPreviewRequestSchema,
} from "@flick/shared";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { validate } from "../lib/validate.ts";
import { requireAdmin } from "../middleware/auth.ts";
import { publicOrigin } from "../middleware/request.ts";
import { clearStrays, listStrays } from "../services/signals/refusals.ts";
import {
  createSource,
  deleteSource,
  deployingRepositories,
  getSource,
  listSources,
  metricNamesOf,
  toSource,
  updateSource,
} from "../services/sources/manage.ts";
import { loadPrometheusHistory } from "../services/sources/prometheus-history.ts";
import { sendTestSignal } from "../services/sources/test-signal.ts";
import { previewWebhook } from "../services/sources/webhook-preview.ts";

const idParam = validate("param", z.object({ id: z.string().max(64) }));

export const sourceRoutes = new Hono<AppEnv>()
  .use(requireAdmin)
  .use(async (c, next) => {
    await next();
    // Any change to a source applies to this process's ingest at once (a preview changes nothing).
    if (c.req.method !== "GET" && !c.req.path.endsWith("/webhook-preview"))
      c.var.services.sources.invalidate();
  })
  .get("/", async (c) => {
    const { db } = c.var.deps.database;
    const [rows, strays] = await Promise.all([listSources(db), listStrays(db)]);
    return c.json({
      sources: rows.map((r) => toSource(r, publicOrigin(c))),
      strays: strays.map((s) => ({ ...s, at: s.at.toISOString() })),
    });
  })
  // Before "/:id": "strays" is no source's id.
  .delete("/strays", async (c) => c.json({ cleared: await clearStrays(c.var.deps.database.db) }))
  .post("/", validate("json", sourceCreateSchema), async (c) => {
    const { database, clock } = c.var.deps;
    const row = await createSource(database.db, { ...c.req.valid("json"), now: clock.now() });
    return c.json({ source: toSource(row, publicOrigin(c)) }, 201);
  })
  // Before "/:id": "deploying" is no source's id.
  .get("/deploying", async (c) => c.json(await deployingRepositories(c.var.deps.database.db)))
  .get("/:id", idParam, async (c) => {
    const row = await getSource(c.var.deps.database.db, c.req.valid("param").id);
    return c.json({ source: toSource(row, publicOrigin(c)) });
  })
  .get("/:id/metrics", idParam, async (c) => {
    return c.json(await metricNamesOf(c.var.deps.database.db, c.req.valid("param").id));
  })
  .post("/:id/webhook-preview", idParam, validate("json", webhookPreviewRequestSchema), async (c) => {
    const { database } = c.var.deps;
    return c.json(await previewWebhook(database.db, c.req.valid("param").id, c.req.valid("json")));
  })
  .patch("/:id", idParam, validate("json", sourceUpdateSchema), async (c) => {
    const { database, clock } = c.var.deps;
    const row = await updateSource(database.db, {
      id: c.req.valid("param").id,
      ...c.req.valid("json"),
      now: clock.now(),
    });
    return c.json({ source: toSource(row, publicOrigin(c)) });
  })
  .post("/:id/rotate-secret", idParam, async (c) => {
    const { database, clock } = c.var.deps;
    const row = await updateSource(database.db, {
      id: c.req.valid("param").id,
      rotateSecret: true,
      now: clock.now(),
    });
    return c.json({ source: toSource(row, publicOrigin(c)) });
  })
  .post("/:id/test", idParam, async (c) => {
    const { database, clock } = c.var.deps;
    const row = await getSource(database.db, c.req.valid("param").id);
    const signalId = await sendTestSignal(c.var.services.signalWriter, row, clock.now());
    return c.json({ signalId }, 202);
  })
  .post("/:id/prometheus-history", idParam, validate("json", prometheusHistoryRequestSchema), async (c) => {
    const { database, clock } = c.var.deps;
    const result = await loadPrometheusHistory(database.db, c.var.services.signalWriter, {
      id: c.req.valid("param").id,
      ...c.req.valid("json"),
      now: clock.now(),
    });
    return c.json(result, result.accepted > 0 ? 202 : 200);
  })
  .delete("/:id", idParam, async (c) => {
    await deleteSource(c.var.deps.database.db, c.req.valid("param").id);
    return c.json({ ok: true });
  });
