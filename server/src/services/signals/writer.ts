import { sql } from "drizzle-orm";
import type { DatabaseHandle } from "../../db/client.ts";
import { signals } from "../../db/schema/index.ts";
import type { ParsedSignal } from "../../ingest/types.ts";
import type { Clock } from "../../lib/clock.ts";
import { newId } from "../../lib/ids.ts";
import { storableText } from "../../lib/storable-text.ts";

export const SIGNALS_CHANNEL = "flick_signals";
const MAX_ROWS_PER_INSERT = 500;

interface Pending {
  sourceId: string;
  items: ParsedSignal[];
  resolve(result: WriteResult): void;
  reject(err: unknown): void;
}

export interface WriteResult {
  /** Ids of the rows this request stored, in request order. */
  ids: string[];
  duplicates: number;
}

/**
 * A sender's NUL or half surrogate pair would fail the insert (and, once an agent copies it, the
 * agent's writes): kept as U+FFFD. JSON text decoded from bytes holds either only as an escape
 * (\u0000, \ud800), so a payload parsed from text without one has none, and is not walked through.
 */
const ESCAPED = /\\u(0000|[dD][89a-fA-F])/;
function storable(item: ParsedSignal): ParsedSignal {
  const { payloadText, payload, ...rest } = item;
  if (payloadText === undefined) return storableText(item);
  if (ESCAPED.test(payloadText)) return storableText({ ...rest, payload });
  const clean = storableText(rest);
  return clean === rest ? item : { ...clean, payload, payloadText };
}

/**
 * Group commit for ingest. Each request waits until its rows are committed (a signal is never
 * acknowledged before it is stored), but concurrent requests share multi-row INSERTs: while one
 * flush runs, arrivals queue up and go out together in the next. At low load a request is
 * written at once; under load the database sees a few large inserts instead of many small ones.
 */
export class SignalWriter {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly database: DatabaseHandle,
    private readonly clock: Clock,
    /** 0: flush after the current I/O phase (setImmediate); more: wait that many ms to gather a batch. */
    private readonly commitDelayMs = 0,
  ) {}

  write(sourceId: string, items: ParsedSignal[]): Promise<WriteResult> {
    if (items.length === 0) return Promise.resolve({ ids: [], duplicates: 0 });
    return new Promise((resolve, reject) => {
      this.queue.push({ sourceId, items: items.map(storable), resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        // Let requests already being read reach the queue first. With the embedded database each
        // query runs synchronously on this thread, so nothing would ever queue up behind a flush.
        if (this.commitDelayMs > 0) setTimeout(() => void this.flushLoop(), this.commitDelayMs);
        else setImmediate(() => void this.flushLoop());
      }
    });
  }

  private async flushLoop(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch: Pending[] = [];
        let rows = 0;
        while (
          this.queue.length > 0 &&
          (batch.length === 0 || rows + (this.queue[0]?.items.length ?? 0) <= 5000)
        ) {
          const next = this.queue.shift();
          if (!next) break;
          batch.push(next);
          rows += next.items.length;
        }
        try {
          await this.insert(batch);
        } catch {
          // One bad request must not fail its neighbours: retry each on its own.
          for (const p of batch) {
            try {
              await this.insert([p]);
            } catch (err) {
              p.reject(err);
            }
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async insert(batch: Pending[]): Promise<void> {
    const now = this.clock.now();
    const owner = new Map<string, { pending: Pending; index: number }>();
    const rows: (typeof signals.$inferInsert)[] = [];
    for (const pending of batch) {
      pending.items.forEach((item, index) => {
        const key = `${pending.sourceId}\u0000${item.externalId}`;
        if (owner.has(key)) return;
        owner.set(key, { pending, index });
        rows.push({
          id: newId("signal"),
          sourceId: pending.sourceId,
          kind: item.kind,
          externalId: item.externalId,
          fingerprint: item.fingerprint,
          payload: item.payloadText !== undefined ? sql`${item.payloadText}::json` : item.payload,
          receivedAt: now,
          occurredAt: item.occurredAt ?? now,
          nextAttemptAt: now,
        });
      });
    }

    const inserted = new Map<string, string>();
    await this.database.db.transaction(async (tx) => {
      for (let i = 0; i < rows.length; i += MAX_ROWS_PER_INSERT) {
        const chunk = rows.slice(i, i + MAX_ROWS_PER_INSERT);
        const result = await tx
          .insert(signals)
          .values(chunk)
          .onConflictDoNothing({ target: [signals.sourceId, signals.externalId] })
          .returning({ id: signals.id, sourceId: signals.sourceId, externalId: signals.externalId });
        for (const r of result) inserted.set(`${r.sourceId}\u0000${r.externalId}`, r.id);
      }
      // Delivered on commit: wakes agent workers in every process.
      if (inserted.size > 0) await tx.execute(sql`select pg_notify(${SIGNALS_CHANNEL}, '')`);
    });

    const results = new Map<Pending, WriteResult>(batch.map((p) => [p, { ids: [], duplicates: 0 }]));
    for (const pending of batch) {
      const result = results.get(pending) as WriteResult;
      pending.items.forEach((item, index) => {
        const key = `${pending.sourceId}\u0000${item.externalId}`;
        const own = owner.get(key);
        const id = inserted.get(key);
        if (id && own?.pending === pending && own.index === index) result.ids.push(id);
        else result.duplicates++;
      });
    }
    for (const [pending, result] of results) pending.resolve(result);
  }
}
