import type { IngestResult } from "@flick/shared";
import { eq } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { sources } from "../../db/schema/index.ts";
import type { IngestModule, IngestRequest, SourceRow } from "../../ingest/types.ts";
import { AppError } from "../../lib/errors.ts";
import type { SignalWriter } from "./writer.ts";

export async function findSource(db: Queryable, by: { id: string } | { number: number }): Promise<SourceRow> {
  const [row] = await db
    .select()
    .from(sources)
    .where("id" in by ? eq(sources.id, by.id) : eq(sources.number, by.number))
    .limit(1);
  if (!row) throw new AppError("not_found", "no such source; check the ingest URL");
  return row;
}

const SOURCE_TTL_MS = 1000;

/**
 * Ingest looks its source up on every request; a one-second cache saves that query on the hot
 * path. Another process's change to a source (disable, rotate secret) applies here within a
 * second; this process's own changes apply at once (invalidate).
 */
export class SourceCache {
  private entries = new Map<string, { row: SourceRow; at: number }>();

  constructor(private readonly db: Queryable) {}

  async get(by: { id: string } | { number: number }): Promise<SourceRow> {
    const key = "id" in by ? `id:${by.id}` : `n:${by.number}`;
    const now = performance.now();
    const hit = this.entries.get(key);
    const row = hit && now - hit.at < SOURCE_TTL_MS ? hit.row : await findSource(this.db, by);
    if (!hit || hit.row !== row) {
      if (this.entries.size > 10_000) this.entries.clear();
      this.entries.set(key, { row, at: now });
    }
    if (!row.enabled) throw new AppError("forbidden", `source "${row.name}" is disabled`);
    return row;
  }

  invalidate(): void {
    this.entries.clear();
  }
}

/**
 * Verify → parse → store → answer. Nothing is stored unless every item in the request is valid —
 * except where a module refuses items one by one (a remote write's series): then the rest is
 * stored and the answer is a 400 naming what was refused and saying what was kept. The answer
 * comes only after the rows are committed.
 */
export async function ingestSignals(
  writer: SignalWriter,
  source: SourceRow,
  module: IngestModule,
  req: IngestRequest,
): Promise<IngestResult> {
  module.verify(source, req);
  const { signals, ignored, refused = [] } = module.parse(source, req);
  const { ids, duplicates } = signals.length
    ? await writer.write(source.id, signals)
    : { ids: [], duplicates: 0 };
  const result = { accepted: ids.length, duplicates, ignored, ids };
  const [first] = refused;
  if (first) {
    const kept = signals.length
      ? `the other ${signals.length} ${signals.length === 1 ? "point was" : "points were"} stored`
      : "nothing else was in it";
    throw new AppError(
      "validation_failed",
      `${first.path}: ${first.message} (${refused.length === 1 ? "1 problem" : `${refused.length} problems`}; ${kept})`,
      { issues: refused, ...result },
    );
  }
  return result;
}
