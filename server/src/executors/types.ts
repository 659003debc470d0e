import type { Change } from "@flick/shared";
import type { Config } from "../config.ts";
import type { Queryable } from "../db/client.ts";
import type { cards } from "../db/schema/index.ts";

export type CardRow = typeof cards.$inferSelect;

export interface ExecutorContext {
  config: Config;
  db: Queryable;
  card: CardRow;
  executionId: string;
  now: Date;
  dryRun: boolean;
  /** True when an earlier attempt was interrupted mid-run (crash, lease expiry). */
  resumed: boolean;
  log(line: string): void;
}

/** A failure; `retryable` ones are tried again with backoff, the others fail the execution at once. */
export class ExecutorError extends Error {
  override name = "ExecutorError";
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export interface Executor<C extends Change = Change> {
  name: string;
  /**
   * Whether running the change again after an interruption is safe (idempotency key, a check
   * of what already happened). When false, an interrupted execution is failed, never re-run.
   */
  resumable(change: C): boolean;
  run(ctx: ExecutorContext, change: C): Promise<Record<string, unknown>>;
}
