import { existsSync, mkdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import type { ExtractTablesWithRelations } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import * as schema from "./schema/index.ts";

export type Schema = typeof schema;
/** Both drivers' databases seen through the one type every query is written against. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
export type Queryable = Database | Tx;

export type Driver = "pglite" | "postgres";

export interface DatabaseHandle {
  db: Database;
  driver: Driver;
  ping(): Promise<void>;
  /** Subscribes to NOTIFY on a channel; the returned function unsubscribes. */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

export type DatabaseOptions =
  | { driver: "postgres"; url: string; maxConnections?: number }
  /** `dataDir` undefined keeps the database in memory (tests). */
  | { driver: "pglite"; dataDir?: string };

export class DatabaseOpenError extends Error {
  override name = "DatabaseOpenError";
}

/** Finds the migrations folder whether running from source (server/src/db) or the bundle (server/dist). */
export function findMigrationsFolder(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, "migrations");
    if (existsSync(path.join(candidate, "meta", "_journal.json"))) return candidate;
    dir = path.dirname(dir);
  }
  throw new DatabaseOpenError("migrations folder not found above the server's files");
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  return options.driver === "postgres"
    ? openPostgres(options.url, options.maxConnections)
    : openPglite(options.dataDir);
}

/** mkdir -p without Node's recursive mode, which can spin forever on pseudo file systems like /proc. */
function ensureDir(dir: string): void {
  const missing: string[] = [];
  let current = path.resolve(dir);
  while (!existsSync(current)) {
    missing.unshift(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const d of missing) mkdirSync(d);
}

/**
 * The embedded database belongs to one process: a second server on the same DATA_DIR would corrupt
 * it, so it is refused with a message. A lock left by a process that died is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const lockFile = `${dataDir}.lock`;
  try {
    writeFileSync(lockFile, String(process.pid), { flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
      throw new DatabaseOpenError(`cannot write ${lockFile}: ${(err as Error).message}`);
    }
    const pid = Number(readFileSync(lockFile, "utf8"));
    if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) {
      throw new DatabaseOpenError(
        `another Flick process (pid ${pid}) is using ${dataDir}; stop it or set DATABASE_URL to share a PostgreSQL`,
      );
    }
    writeFileSync(lockFile, String(process.pid));
  }
  return () => rmSync(lockFile, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** " — the disk … has only N MB free" when space is what ran out, else "". */
function diskSpaceHint(dir: string): string {
  let at = path.resolve(dir);
  while (!existsSync(at) && path.dirname(at) !== at) at = path.dirname(at);
  try {
    const s = statfsSync(at);
    const freeMb = Math.floor((s.bavail * s.bsize) / (1024 * 1024));
    return freeMb < 128
      ? ` — the disk holding it has only ${freeMb} MB free; free some space and start again`
      : "";
  } catch {
    return "";
  }
}

async function openPglite(dataDir: string | undefined): Promise<DatabaseHandle> {
  if (dataDir !== undefined) {
    try {
      ensureDir(dataDir);
    } catch (err) {
      throw new DatabaseOpenError(`cannot create DATA_DIR ${dataDir}: ${(err as Error).message}`);
    }
  }
  const releaseLock = dataDir === undefined ? () => {} : lockDataDir(dataDir);
  let client: PGlite;
  try {
    client = dataDir === undefined ? new PGlite() : new PGlite(dataDir);
    await client.waitReady;
  } catch (err) {
    releaseLock();
    const reason = err instanceof Error ? err.message : `PGlite failed (${String(err)})`;
    const hint = dataDir === undefined ? "" : diskSpaceHint(dataDir);
    throw new DatabaseOpenError(
      `cannot open the embedded database in ${dataDir ?? "memory"}: ${reason}${hint}`,
    );
  }
  const db = drizzlePglite({ client, schema }) as unknown as Database;
  return {
    db,
    driver: "pglite",
    async ping() {
      await client.query("select 1");
    },
    async listen(channel, onMessage) {
      const unsubscribe = await client.listen(channel, onMessage);
      return unsubscribe;
    },
    async notify(channel, payload) {
      await client.query("select pg_notify($1, $2)", [channel, payload]);
    },
    async close() {
      if (!client.closed) await client.close();
      releaseLock();
    },
  };
}

async function openPostgres(url: string, maxConnections = 10): Promise<DatabaseHandle> {
  const client = postgres(url, {
    max: maxConnections,
    onnotice: () => {},
    connect_timeout: 10,
    // Keep idle connections short-lived so a restarted server is reconnected to promptly.
    idle_timeout: 60,
  });
  const db = drizzlePostgres({ client, schema }) as unknown as Database;
  return {
    db,
    driver: "postgres",
    async ping() {
      await client`select 1`;
    },
    async listen(channel, onMessage) {
      const sub = await client.listen(channel, onMessage);
      return () => sub.unlisten();
    },
    async notify(channel, payload) {
      await client`select pg_notify(${channel}, ${payload})`;
    },
    async close() {
      await client.end({ timeout: 5 });
    },
  };
}

/** Advisory-lock key so concurrent server starts on one PostgreSQL migrate one at a time. */
const MIGRATION_LOCK = 0x666c69636b; // "flick"

export async function migrateDatabase(options: DatabaseOptions, handle: DatabaseHandle): Promise<void> {
  const migrationsFolder = findMigrationsFolder();
  if (options.driver === "pglite") {
    await migratePglite(handle.db as unknown as Parameters<typeof migratePglite>[0], { migrationsFolder });
    return;
  }
  // A dedicated single connection: the advisory lock belongs to the session that took it.
  const client = postgres(options.url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migratePostgres(drizzlePostgres({ client }), { migrationsFolder });
    await client`select pg_advisory_unlock(${MIGRATION_LOCK})`;
  } finally {
    await client.end({ timeout: 5 });
  }
}
