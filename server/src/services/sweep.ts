import { pruneGoneSeries, SERIES_FORGOTTEN_DAYS } from "../agents/state.ts";
import type { Config } from "../config.ts";
import type { DatabaseHandle } from "../db/client.ts";
import type { Logger } from "../lib/logger.ts";
import { sweepExpiredSessions } from "./auth/sessions.ts";
import { pruneCardEvents } from "./cards/events.ts";
import { rerankByAge } from "./cards/rerank.ts";
import { pruneSignals } from "./signals/retention.ts";

export { pruneSignals };

/**
 * The housekeeping every process runs (a minute after start, then hourly): expired sessions, card
 * events too old to resume from, processed signals past SIGNAL_RETENTION_DAYS, the states of metric
 * series that sent nothing for SERIES_FORGOTTEN_DAYS; open cards ranked again as they age. Each part is
 * idempotent, so processes sweeping at the same time only repeat each other's work.
 */
export async function sweep(
  database: DatabaseHandle,
  config: Pick<Config, "SIGNAL_RETENTION_DAYS">,
  logger: Logger,
  now: Date,
): Promise<{ signals: number; series: number }> {
  const [, , series] = await Promise.all([
    sweepExpiredSessions(database.db, now),
    pruneCardEvents(database.db, now),
    pruneGoneSeries(database.db, now),
  ]);
  // After the events' pruning: the re-ranked cards' events are new.
  await rerankByAge(database.db, now);
  if (series > 0)
    logger.info({ series, days: SERIES_FORGOTTEN_DAYS }, "forgot metric series that sent nothing for days");
  const signals = await pruneSignals(database, now, { days: config.SIGNAL_RETENTION_DAYS });
  if (signals > 0) {
    logger.info(
      { signals, days: config.SIGNAL_RETENTION_DAYS },
      "deleted processed signals past their retention",
    );
  }
  return { signals, series };
}
