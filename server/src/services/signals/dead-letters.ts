import type { DeadLetter } from "@flick/shared";
import { and, desc, eq } from "drizzle-orm";
import type { DatabaseHandle, Queryable } from "../../db/client.ts";
import { signals } from "../../db/schema/index.ts";
import { AppError } from "../../lib/errors.ts";
import { SIGNALS_CHANNEL } from "./writer.ts";

export async function listDeadLetters(db: Queryable): Promise<DeadLetter[]> {
  const rows = await db
    .select({
      id: signals.id,
      sourceId: signals.sourceId,
      kind: signals.kind,
      externalId: signals.externalId,
      attempts: signals.attempts,
      lastError: signals.lastError,
      receivedAt: signals.receivedAt,
    })
    .from(signals)
    .where(eq(signals.state, "parked"))
    .orderBy(desc(signals.receivedAt))
    .limit(500);
  return rows.map((r) => ({ ...r, receivedAt: r.receivedAt.toISOString() }));
}

/** Puts a parked signal back in the queue with a fresh set of attempts. */
export async function retryDeadLetter(database: DatabaseHandle, id: string, now: Date): Promise<void> {
  const updated = await database.db
    .update(signals)
    .set({ state: "pending", attempts: 0, nextAttemptAt: now, leaseUntil: null, claimToken: null })
    .where(and(eq(signals.id, id), eq(signals.state, "parked")))
    .returning({ id: signals.id });
  if (updated.length === 0) throw new AppError("not_found", "no parked signal with that id");
  await database.notify(SIGNALS_CHANNEL, "");
}
