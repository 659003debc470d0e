import { sql } from "drizzle-orm";
import { signals } from "../../db/schema/index.ts";
import { TEST_SIGNAL_KIND } from "../sources/test-signal.ts";

/**
 * When the source of the row being selected last sent a signal (test signals aside), for a query
 * whose FROM is the source table: one index probe per source (signal_source_received_idx), not a
 * scan of the signals. The outer source is named in full: drizzle writes a lone table's columns
 * unqualified, which inside the subquery would mean the signal's own id.
 */
export const lastSignalAt = () =>
  sql`(select max(${signals.receivedAt}) from ${signals}
    where ${signals.sourceId} = ${sql.identifier("source")}.${sql.identifier("id")}
    and ${signals.kind} <> ${TEST_SIGNAL_KIND})`.mapWith(signals.receivedAt);
