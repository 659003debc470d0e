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
  if (!row.enabled) throw new AppError("forbidden", `source "${row.name}" is disabled`);
  return row;
}

/**
 * Verify → parse → store → answer. Nothing is stored unless every item in the request is valid,
 * and the answer comes only after the rows are committed.
 */
export async function ingestSignals(
  writer: SignalWriter,
  source: SourceRow,
  module: IngestModule,
  req: IngestRequest,
): Promise<IngestResult> {
  module.verify(source, req);
  const { signals, ignored } = module.parse(source, req);
  const { ids, duplicates } = await writer.write(source.id, signals);
  return { accepted: ids.length, duplicates, ignored, ids };
}
