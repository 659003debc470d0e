import { sql } from "drizzle-orm";
import type { DatabaseHandle } from "../../db/client.ts";
import { sourceRefusals } from "../../db/schema/index.ts";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";

/** A process writes a source's refusal at most this often: a sender retrying in a loop costs no writes. */
const EVERY_MS = 30_000;
const MAX_MESSAGE = 500;

/**
 * Remembers the last request each source refused, for Settings: a GitHub webhook with the wrong
 * secret, or Prometheus sending a series Flick leaves out, is otherwise seen only on the sender's
 * side. Recording never fails the request it is about.
 */
export class RefusalLog {
  private written = new Map<string, number>();

  constructor(
    private readonly database: DatabaseHandle,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async record(sourceId: string, status: number, message: string): Promise<void> {
    const now = this.clock.now();
    const last = this.written.get(sourceId);
    if (last !== undefined && now.getTime() - last < EVERY_MS && now.getTime() >= last) return;
    if (this.written.size > 10_000) this.written.clear();
    this.written.set(sourceId, now.getTime());
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
}
