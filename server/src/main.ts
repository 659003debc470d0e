import path from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import { AgentRuntime, builtinAgents, githubReads } from "./agents/index.ts";
import { createApp, createServices } from "./app.ts";
import { type Config, ConfigError, loadConfig } from "./config.ts";
import { DatabaseOpenError, type DatabaseOptions, migrateDatabase, openDatabase } from "./db/client.ts";
import { systemClock } from "./lib/clock.ts";
import { createLogger } from "./lib/logger.ts";
import { wakeSnoozedCards } from "./services/cards/snooze.ts";
import { ExecutionRuntime } from "./services/executions/runtime.ts";
import { FixerRuntime } from "./services/fixer/runtime.ts";
import { FollowUpRuntime } from "./services/follow-ups/runtime.ts";
import { ensureSetupLink } from "./services/invites/manage.ts";
import { PushNotifier } from "./services/push/notifier.ts";
import { SummarizerRuntime } from "./services/summarizer/runtime.ts";
import { sweep } from "./services/sweep.ts";
import { WebAssets } from "./web-static.ts";

function defaultWebDist(): string {
  // server/src/main.ts and server/dist/main.js both sit two levels below the repository root.
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../web/dist");
}

export async function start(config: Config) {
  const started = performance.now();
  const logger = createLogger({ level: config.LOG_LEVEL });
  const dbOptions: DatabaseOptions = config.DATABASE_URL
    ? { driver: "postgres", url: config.DATABASE_URL }
    : { driver: "pglite", dataDir: path.join(config.DATA_DIR, "pglite") };
  const database = await openDatabase(dbOptions);
  await migrateDatabase(dbOptions, database);

  const web = WebAssets.load(config.WEB_DIST ?? defaultWebDist());
  if (!web)
    logger.warn("web app is not built; run `pnpm build` (pnpm start does it for you). Serving the API only.");

  const deps = { config, database, logger, clock: systemClock };
  const services = createServices(deps);
  const app = createApp(deps, { web, services });
  const runtime = new AgentRuntime(database, systemClock, logger, builtinAgents(database.db), {
    batchSize: config.WORKER_BATCH_SIZE,
    leaseSeconds: config.WORKER_LEASE_SECONDS,
    maxAttempts: config.WORKER_MAX_ATTEMPTS,
    // The embedded database runs queries on this thread, so a second loop would only interleave.
    concurrency: database.driver === "postgres" ? config.WORKER_CONCURRENCY : 1,
    // Without it CI cards have no error lines and merge and revert cards rest on the webhooks alone.
    github: config.GITHUB_TOKEN
      ? githubReads(config.GITHUB_API_URL ?? "https://api.github.com", config.GITHUB_TOKEN)
      : null,
  });
  const executionRuntime = new ExecutionRuntime(database, systemClock, logger, config);
  const followUpRuntime = new FollowUpRuntime(database, systemClock, logger, config);
  const fixerRuntime = new FixerRuntime(database, systemClock, logger, config);
  const summarizerRuntime = new SummarizerRuntime(database, systemClock, logger, config);
  const pushNotifier = new PushNotifier(database, systemClock, logger, config);
  if (config.WORKERS) {
    await runtime.start();
    executionRuntime.start();
    followUpRuntime.start(1000);
    fixerRuntime.start();
    summarizerRuntime.start(2000);
    await pushNotifier.start(services.cardHub);
  }
  const snoozeTimer = setInterval(() => {
    wakeSnoozedCards(database.db, systemClock.now()).catch((err) =>
      logger.warn({ err: (err as Error).message }, "waking snoozed cards failed"),
    );
  }, 15_000);
  snoozeTimer.unref();

  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.PORT;
  const url = config.PUBLIC_URL?.replace(/\/$/, "") ?? `http://localhost:${port}`;

  logger.info(
    { port, database: database.driver, startupMs: Math.round(performance.now() - started) },
    "flick is listening",
  );
  const setupToken = await ensureSetupLink(database.db, systemClock.now());
  // Printed, not logged: the link is a one-time secret meant for the person starting the server.
  process.stdout.write(`\n  Flick is running at ${url}\n`);
  if (setupToken) process.stdout.write(`  Create the first admin account: ${url}/setup#${setupToken}\n`);
  process.stdout.write("\n");

  const housekeeping = () => {
    sweep(database, config, logger, systemClock.now()).catch((err) =>
      logger.warn({ err: (err as Error).message }, "hourly sweep failed"),
    );
  };
  // Soon after start as well as hourly: a server restarted more often than hourly still sweeps.
  const firstSweep = setTimeout(housekeeping, 60 * 1000);
  firstSweep.unref();
  const sweeper = setInterval(housekeeping, 60 * 60 * 1000);
  sweeper.unref();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    clearTimeout(firstSweep);
    clearInterval(sweeper);
    server.close();
    clearInterval(snoozeTimer);
    await runtime.stop();
    await executionRuntime.stop();
    await followUpRuntime.stop();
    await fixerRuntime.stop();
    await summarizerRuntime.stop();
    await pushNotifier.stop();
    await services.cardHub.stop();
    await database.close();
    process.exit(0);
  };
  // postgres.js 3.4 can throw from a timer when a connection dies with writes queued (a socket
  // already nulled); the connection is gone either way and the pool reconnects. Found by the
  // database-outage fault test. Anything else uncaught still ends the process.
  process.on("uncaughtException", (err) => {
    if (
      err instanceof TypeError &&
      /reading 'write'/.test(err.message) &&
      /postgres[\\/]src[\\/]connection\.js/.test(err.stack ?? "")
    ) {
      logger.warn({ error: err.message }, "a database connection died mid-write; it will be reopened");
      return;
    }
    // A connection reset that reached no listener: a socket whose owner had already let it go (most
    // likely a database connection postgres.js had closed, in the outage fault test, where it ended
    // the process once in CI). The socket is gone; a pool opens a new one when it needs one.
    const reset = err as NodeJS.ErrnoException;
    if (
      (reset.code === "ECONNRESET" || reset.code === "EPIPE") &&
      (reset.syscall === "read" || reset.syscall === "write")
    ) {
      logger.warn({ error: err.message }, "a connection was reset with no one listening; carrying on");
      return;
    }
    logger.fatal({ err }, "uncaught exception");
    process.exit(1);
  });
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
  return { server, port, url, runtime };
}

try {
  await start(loadConfig(process.env));
} catch (err) {
  if (err instanceof ConfigError || err instanceof DatabaseOpenError) {
    process.stderr.write(`flick: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
