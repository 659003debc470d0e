import type { Context } from "hono";
import { Hono } from "hono";
import { cors } from "hono/cors";
import type { AppEnv } from "../env.ts";
import { readBody } from "../ingest/body.ts";
import { ingestModules, sentryEnvelope, sentryStore } from "../ingest/index.ts";
import type { IngestModule, IngestRequest, SourceRow } from "../ingest/types.ts";
import { AppError } from "../lib/errors.ts";
import { ingestSignals } from "../services/signals/ingest.ts";
import { strayPath } from "../services/signals/refusals.ts";

/**
 * The request's source; a request to one that does not exist is kept (see ingestStrays) before its
 * 404, when its path looks like a source's: its sender is set up with a wrong or deleted URL.
 */
async function sourceOf(c: Context<AppEnv>, path: string | null, find: () => Promise<SourceRow>) {
  try {
    return await find();
  } catch (err) {
    if (path && err instanceof AppError && err.status === 404)
      await c.var.services.refusals.recordStray(
        path,
        err.status,
        err.message,
        c.req.header("user-agent") ?? null,
      );
    throw err;
  }
}

async function handle(c: Context<AppEnv>, source: SourceRow, module: IngestModule) {
  try {
    const req: IngestRequest = {
      headers: c.req.raw.headers,
      body: await readBody(c.req.raw, c.var.deps.config.INGEST_MAX_BODY_BYTES),
      query: new URL(c.req.url).searchParams,
      receivedAt: c.var.deps.clock.now(),
    };
    const result = await ingestSignals(c.var.services.signalWriter, source, module, req);
    return c.json(result, result.accepted > 0 ? 202 : 200);
  } catch (err) {
    // What the sender was told, kept for the source's admin (a 5xx is ours, not the sender's).
    if (err instanceof AppError && err.status < 500)
      await c.var.services.refusals.record(source.id, err.status, err.message);
    throw err;
  }
}

/** Sentry's browser SDKs post cross-origin; the key in the request is the credential, not a cookie. */
const sentryCors = cors({
  origin: "*",
  allowMethods: ["POST", "OPTIONS"],
  allowHeaders: ["Content-Type", "X-Sentry-Auth", "Content-Encoding"],
  maxAge: 86400,
});

/**
 * Where signals arrive. Senders prove themselves per source (HMAC signature, Sentry key or bearer
 * secret); sessions and CSRF checks do not apply here.
 */
export const ingestRoutes = new Hono<AppEnv>()
  .post("/ingest/:sourceId", async (c) => {
    const id = c.req.param("sourceId");
    const source = await sourceOf(c, strayPath(id), () => c.var.services.sources.get({ id }));
    return handle(c, source, ingestModules[source.kind]);
  })
  .use("/api/:project{[0-9]+}/*", sentryCors)
  .post("/api/:project{[0-9]+}/:endpoint{envelope|store}/", sentry)
  .post("/api/:project{[0-9]+}/:endpoint{envelope|store}", sentry);

async function sentry(c: Context<AppEnv>) {
  const project = Number(c.req.param("project"));
  const source = await sourceOf(c, `/api/${project}/ (a Sentry DSN's project)`, async () => {
    const found = await c.var.services.sources.get({ number: project });
    if (found.kind !== "sentry") throw new AppError("not_found", `project ${project} is not a Sentry source`);
    return found;
  });
  return handle(c, source, c.req.param("endpoint") === "store" ? sentryStore : sentryEnvelope);
}
