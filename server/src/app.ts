import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv, Deps, Services } from "./env.ts";
import { isDatabaseUnavailable, isTextRefused } from "./lib/db-errors.ts";
import { AppError } from "./lib/errors.ts";
import { authenticate } from "./middleware/auth.ts";
import { requestContext } from "./middleware/request.ts";
import { actionRoutes } from "./routes/actions.ts";
import { adminRoutes } from "./routes/admin.ts";
import { authRoutes } from "./routes/auth.ts";
import { decisionRoutes } from "./routes/decisions.ts";
import { feedRoutes } from "./routes/feed.ts";
import { followUpRoutes } from "./routes/follow-ups.ts";
import { healthRoutes } from "./routes/health.ts";
import { ingestRoutes } from "./routes/ingest.ts";
import { inviteRoutes } from "./routes/invites.ts";
import { pushRoutes } from "./routes/push.ts";
import { sourceRoutes } from "./routes/sources.ts";
import { tokenRoutes } from "./routes/tokens.ts";
import { userRoutes } from "./routes/users.ts";
import { FeedPageCache } from "./services/cards/feed-cache.ts";
import { CardEventHub } from "./services/cards/hub.ts";
import { SourceCache } from "./services/signals/ingest.ts";
import { RefusalLog } from "./services/signals/refusals.ts";
import { SignalWriter } from "./services/signals/writer.ts";
import type { WebAssets } from "./web-static.ts";

export interface AppOptions {
  web?: WebAssets | null;
  services?: Services;
}

export function createServices(deps: Deps): Services {
  return {
    signalWriter: new SignalWriter(deps.database, deps.clock),
    cardHub: new CardEventHub(deps.database, deps.logger),
    feedCache: new FeedPageCache(),
    sources: new SourceCache(deps.database.db),
    refusals: new RefusalLog(deps.database, deps.clock, deps.logger),
  };
}

const jsonType = /^application\/([\w.+-]+\+)?json\b/i;

export function createApp(deps: Deps, options: AppOptions = {}) {
  const services = options.services ?? createServices(deps);
  const app = new Hono<AppEnv>();
  app.use(requestContext(deps));
  app.use(async (c, next) => {
    c.set("services", services);
    // No id, name or search holds a NUL, and the database could not look one up.
    if (/%00/i.test(c.req.url))
      throw new AppError("validation_failed", "the address holds a NUL character (%00)");
    await next();
  });
  app.use(
    secureHeaders({
      // The HTML gets its own CSP from the static handler; API answers are JSON and need none.
      contentSecurityPolicy: undefined,
      crossOriginEmbedderPolicy: false,
      referrerPolicy: "same-origin",
    }),
  );
  // Ingest comes before the /api/* middleware: senders authenticate per source (signatures,
  // Sentry keys, bearer secrets), bodies are not always JSON, and their size limit is larger.
  app.route("/", ingestRoutes);
  app.route("/", followUpRoutes);
  app.use(
    "/api/*",
    bodyLimit({
      maxSize: deps.config.MAX_BODY_BYTES,
      onError: () => {
        throw new AppError(
          "payload_too_large",
          `request body is larger than ${deps.config.MAX_BODY_BYTES} bytes`,
        );
      },
    }),
  );
  app.use("/api/*", async (c, next) => {
    const length = c.req.header("content-length");
    // A body is declared by its length or by chunked encoding. Neither: a browser's bodiless
    // DELETE (which the Node adapter still gives an empty stream) or an in-process request, so
    // look, without consuming what the route will read.
    const hasBody =
      length !== undefined
        ? length !== "0"
        : c.req.header("transfer-encoding") !== undefined ||
          (c.req.raw.body !== null && (await c.req.raw.clone().arrayBuffer()).byteLength > 0);
    if (hasBody && !jsonType.test(c.req.header("content-type") ?? "")) {
      throw new AppError("unsupported_media_type", "Content-Type must be application/json");
    }
    c.header("Cache-Control", "no-store");
    await next();
  });
  app.use("/api/*", authenticate);

  app.route("/", routes);

  app.notFound((c) => {
    if (!c.req.path.startsWith("/api/") && (c.req.method === "GET" || c.req.method === "HEAD")) {
      const res = options.web?.respond(c);
      if (res) return res;
    }
    return c.json(
      {
        error: {
          code: "not_found",
          message: `${c.req.method} ${c.req.path} does not exist`,
          requestId: c.var.requestId,
        },
      },
      404,
    );
  });

  app.onError((err, c) => {
    const requestId = c.var.requestId ?? "unknown";
    if (err instanceof AppError) {
      for (const [k, v] of Object.entries(err.headers ?? {})) c.header(k, v);
      return c.json(
        { error: { code: err.code, message: err.message, details: err.details, requestId } },
        err.status as ContentfulStatusCode,
      );
    }
    if (err instanceof HTTPException && err.status < 500) {
      // Hono's own 4xx: the JSON validator's parse failure is the one we meet in practice.
      const malformed = /malformed json/i.test(err.message);
      const code = malformed ? "invalid_json" : err.status === 413 ? "payload_too_large" : "bad_request";
      const message = malformed ? "request body is not valid JSON" : err.message || "bad request";
      return c.json({ error: { code, message, requestId } }, err.status as ContentfulStatusCode);
    }
    if (isTextRefused(err)) {
      // Text no field's validation looked into: nothing was stored (the write failed whole).
      return c.json(
        {
          error: {
            code: "validation_failed",
            message:
              "the request holds text the database cannot store (a NUL character, or half a surrogate pair)",
            requestId,
          },
        },
        400,
      );
    }
    if (isDatabaseUnavailable(err)) {
      // Nothing was stored (the write never committed): the sender should retry, not give up.
      (c.var.log ?? deps.logger).warn({ requestId, error: (err as Error).message }, "database unavailable");
      c.header("retry-after", "5");
      return c.json(
        {
          error: {
            code: "unavailable",
            message: "the database is unavailable; try again shortly",
            requestId,
          },
        },
        503,
      );
    }
    (c.var.log ?? deps.logger).error({ err, requestId }, "unhandled error");
    return c.json(
      {
        error: {
          code: "internal",
          message: "internal error; the request id is in the server log",
          requestId,
        },
      },
      500,
    );
  });

  return app;
}

/** Every route, chained so its type carries the whole API for hono/client. Routes hold no state. */
const routes = new Hono<AppEnv>()
  .route("/", healthRoutes)
  .route("/api/auth", authRoutes)
  .route("/api/invites", inviteRoutes)
  .route("/api/users", userRoutes)
  .route("/api/tokens", tokenRoutes)
  .route("/api/push", pushRoutes)
  .route("/api/sources", sourceRoutes)
  .route("/api/admin", adminRoutes)
  .route("/api/actions", actionRoutes)
  .route("/api", feedRoutes)
  .route("/api", decisionRoutes);

export type AppType = typeof routes;
