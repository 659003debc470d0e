import type { DeadLetter } from "@flick/shared";
import { and, desc, eq } from "drizzle-orm";
import type { DatabaseHandle, Queryable } from "../../db/client.ts";
import { signals, sources } from "../../db/schema/index.ts";
import { AppError } from "../../lib/errors.ts";
import { SIGNALS_CHANNEL } from "./writer.ts";

/** Parked signals (an agent failed on them every time), newest first, with their source's name. */
export async function listDeadLetters(db: Queryable): Promise<DeadLetter[]> {
  const rows = await db
    .select({
      id: signals.id,
      sourceId: signals.sourceId,
      sourceName: sources.name,
      kind: signals.kind,
      externalId: signals.externalId,
      attempts: signals.attempts,
      lastError: signals.lastError,
      receivedAt: signals.receivedAt,
    })
    .from(signals)
    .innerJoin(sources, eq(sources.id, signals.sourceId))
    .where(eq(signals.state, "parked"))
    .orderBy(desc(signals.receivedAt))
    .limit(500);
  return rows.map((r) => ({ ...r, receivedAt: r.receivedAt.toISOString() }));
}

/**
 * Puts a parked signal (or, without an id, every one) back in the queue with a fresh set of
 * attempts; returns how many went back.
 */
export async function retryDeadLetters(
  database: DatabaseHandle,
  id: string | null,
  now: Date,
): Promise<number> {
  const updated = await database.db
    .update(signals)
    .set({ state: "pending", attempts: 0, nextAttemptAt: now, leaseUntil: null, claimToken: null })
    .where(and(id === null ? undefined : eq(signals.id, id), eq(signals.state, "parked")))
    .returning({ id: signals.id });
  if (id !== null && updated.length === 0) throw new AppError("not_found", "no parked signal with that id");
  if (updated.length > 0) await database.notify(SIGNALS_CHANNEL, "");
  return updated.length;
}

/** Deletes a parked signal an admin gave up on (its sender's mistake, say). */
export async function discardDeadLetter(db: Queryable, id: string): Promise<void> {
  const gone = await db
    .delete(signals)
    .where(and(eq(signals.id, id), eq(signals.state, "parked")))
    .returning({ id: signals.id });
  if (gone.length === 0) throw new AppError("not_found", "no parked signal with that id");
}
