import { and, eq, inArray, lt, sql } from "drizzle-orm";
import type { DatabaseHandle } from "../../db/client.ts";
import { cards, signals } from "../../db/schema/index.ts";

/** Signals looked at per chunk, so no one statement holds many row locks or runs long. */
const CHUNK = 5000;

export interface PruneOptions {
  /** Processed signals older than this many days go; 0 keeps every signal. */
  days: number;
  /** Signals looked at per statement (tests make it small to cross chunk boundaries). */
  chunk?: number;
}

/**
 * Deletes processed signals older than the retention, oldest first (walking signal_done_idx),
 * and returns how many went. Kept whatever their age: signals a card's evidence names (the feed's
 * "from this source" filter joins them), parked ones (the dead-letter list) and those not
 * processed yet. Each chunk is deleted by one statement, so an interrupted prune leaves nothing
 * half done and the next one carries on.
 */
export async function pruneSignals(
  database: DatabaseHandle,
  now: Date,
  options: PruneOptions,
): Promise<number> {
  if (options.days <= 0) return 0;
  const cutoff = new Date(now.getTime() - options.days * 86400_000);
  const chunk = options.chunk ?? CHUNK;
  const old = and(eq(signals.state, "done"), lt(signals.processedAt, cutoff));
  const [range] = await database.db
    .select({ first: sql<string | null>`min(${signals.id})`, last: sql<string | null>`max(${signals.id})` })
    .from(signals)
    .where(old);
  if (!range?.first || !range.last) return 0;
  // The signals cards name, read once (not once per chunk: every card's evidence is expanded to
  // find them). Agents name only the signals of the batch they work on, so none of these old
  // signals can be newly named while the prune runs.
  const named = new Set(
    (
      await database.db
        .selectDistinct({ id: sql<string>`e.id` })
        .from(
          sql`${cards} cross join lateral jsonb_array_elements_text(${cards.evidence}->'signalIds') as e(id)`,
        )
        .where(sql`e.id between ${range.first} and ${range.last}`)
    ).map((r) => r.id),
  );
  let deleted = 0;
  // Keyset over (processed_at, id): signals kept because a card names them are not looked at again.
  let after: { at: Date; id: string } | null = null;
  for (;;) {
    const rows: { id: string; at: Date | null }[] = await database.db
      .select({ id: signals.id, at: signals.processedAt })
      .from(signals)
      .where(
        and(
          old,
          after
            ? sql`(${signals.processedAt}, ${signals.id}) > (${after.at.toISOString()}::timestamptz, ${after.id})`
            : undefined,
        ),
      )
      .orderBy(signals.processedAt, signals.id)
      .limit(chunk);
    const last = rows[rows.length - 1];
    if (!last?.at) break;
    const ids = rows.filter((r) => !named.has(r.id)).map((r) => r.id);
    if (ids.length > 0) {
      const gone = await database.db
        .delete(signals)
        .where(and(inArray(signals.id, ids), eq(signals.state, "done")))
        .returning({ id: signals.id });
      deleted += gone.length;
    }
    after = { at: last.at, id: last.id };
    if (rows.length < chunk) break;
  }
  // The embedded database runs no autovacuum: without this the space of deleted rows is never
  // reused and its files only grow. PostgreSQL's autovacuum does it there.
  if (deleted > 0 && database.driver === "pglite") await database.db.execute(sql`vacuum ${signals}`);
  return deleted;
}
