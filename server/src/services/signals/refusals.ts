import { desc, sql } from "drizzle-orm";
import type { DatabaseHandle, Queryable } from "../../db/client.ts";
import { ingestStrays, sourceRefusals } from "../../db/schema/index.ts";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";

/** A process writes a source's refusal at most this often: a sender retrying in a loop costs no writes. */
const EVERY_MS = 30_000;
const MAX_MESSAGE = 500;
/** Requests to sources that do not exist: the newest this many paths are kept … */
const MAX_STRAYS = 20;
/** … and a process writes one at most this often, whatever the path (each path is new to a scanner). */
const STRAY_EVERY_MS = 2_000;

/** A source's id as Flick makes them (`src_` and base-32), cut or mistyped as a person would. */
const SOURCE_ID_SHAPE = /^src_[0-9a-z]{1,40}$/i;

/**
 * The path of a request to a source that does not exist, as it is kept; null when it does not
 * look like a source's at all (a scanner's guess is no sender set up wrong).
 */
export function strayPath(sourceId: string): string | null {
  return SOURCE_ID_SHAPE.test(sourceId) ? `/ingest/${sourceId}` : null;
}

/** The latest requests to sources that do not exist, newest first (see ingestStrays). */
export async function listStrays(db: Queryable) {
  return db.select().from(ingestStrays).orderBy(desc(ingestStrays.at), ingestStrays.path).limit(MAX_STRAYS);
}

/** Forgets them (an admin who has fixed the sender). */
export async function clearStrays(db: Queryable): Promise<number> {
  return (await db.delete(ingestStrays).returning({ path: ingestStrays.path })).length;
}

/**
 * Remembers the last request each source refused, for Settings: a GitHub webhook with the wrong
 * secret, or Prometheus sending a series Flick leaves out, is otherwise seen only on the sender's
 * side. Recording never fails the request it is about.
 */
export class RefusalLog {
  private written = new Map<string, number>();
  private strayWritten = new Map<string, number>();
  private lastStray = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly database: DatabaseHandle,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /**
   * Whether `key` may be written at `now`: not within EVERY_MS of its last write (a clock gone
   * back lets it through). The map forgets everything past `cap` keys.
   */
  private static due(written: Map<string, number>, key: string, now: number, cap: number): boolean {
    const last = written.get(key);
    if (last !== undefined && now - last < EVERY_MS && now >= last) return false;
    if (written.size > cap) written.clear();
    written.set(key, now);
    return true;
  }

  async record(sourceId: string, status: number, message: string): Promise<void> {
    const now = this.clock.now();
    if (!RefusalLog.due(this.written, sourceId, now.getTime(), 10_000)) return;
    const row = {
      sourceId,
      at: now,
      status,
      message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message,
    };
    try {
      await this.database.db
        .insert(sourceRefusals)
        .values(row)
        .onConflictDoUpdate({
          target: sourceRefusals.sourceId,
          set: { at: sql`excluded.at`, status: sql`excluded.status`, message: sql`excluded.message` },
        });
    } catch (err) {
      // A source deleted meanwhile, or the database gone: the sender still gets its answer.
      this.logger.warn({ err, sourceId }, "could not record a refused ingest request");
    }
  }

  /**
   * A request to a source that does not exist (see ingestStrays): kept for Settings, at most every
   * half minute per path and every two seconds in all per process, the newest 20 paths.
   */
  async recordStray(path: string, status: number, message: string, userAgent: string | null): Promise<void> {
    const now = this.clock.now().getTime();
    if (now - this.lastStray < STRAY_EVERY_MS && now >= this.lastStray) return;
    if (!RefusalLog.due(this.strayWritten, path, now, 1_000)) return;
    this.lastStray = now;
    const row = {
      path,
      at: new Date(now),
      status,
      message: message.slice(0, MAX_MESSAGE),
      userAgent: userAgent ? userAgent.slice(0, 200) : null,
    };
    try {
      await this.database.db.transaction(async (tx) => {
        await tx
          .insert(ingestStrays)
          .values(row)
          .onConflictDoUpdate({
            target: ingestStrays.path,
            set: {
              at: sql`excluded.at`,
              status: sql`excluded.status`,
              message: sql`excluded.message`,
              userAgent: sql`excluded.user_agent`,
            },
          });
        await tx.execute(sql`
          delete from ${ingestStrays} where ${ingestStrays.path} not in (
            select ${ingestStrays.path} from ${ingestStrays}
            order by ${ingestStrays.at} desc, ${ingestStrays.path} limit ${MAX_STRAYS}
          )`);
      });
    } catch (err) {
      this.logger.warn({ err, path }, "could not record a request to a source that does not exist");
    }
  }
}
