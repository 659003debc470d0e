import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { AppError } from "../lib/errors.ts";

export const healthRoutes = new Hono<AppEnv>()
  .get("/healthz", (c) => c.json({ ok: true }))
  .get("/readyz", async (c) => {
    const { database } = c.var.deps;
    try {
      await database.ping();
    } catch (err) {
      c.var.log.warn({ err: (err as Error).message }, "readiness check failed");
      throw new AppError("unavailable", "database is not reachable");
    }
    return c.json({ ok: true, database: database.driver });
  });
