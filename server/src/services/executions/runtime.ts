import { type Change, describeOutcome, isDemoCard } from "@flick/shared";
import { and, eq, lt, lte, or, sql } from "drizzle-orm";
import { backoffMs } from "../../agents/runtime.ts";
import type { Config } from "../../config.ts";
import type { DatabaseHandle, Tx } from "../../db/client.ts";
import { cards, executions } from "../../db/schema/index.ts";
import { executors } from "../../executors/index.ts";
import { ExecutorError } from "../../executors/types.ts";
import type { Clock } from "../../lib/clock.ts";
import { randomToken } from "../../lib/crypto.ts";
import type { Logger } from "../../lib/logger.ts";
import { storableText } from "../../lib/storable-text.ts";
import { appendCardEvents } from "../cards/events.ts";
import { rehearse } from "../decisions/dry-run.ts";
import type { ExecutorName } from "../decisions/executor-names.ts";

type ExecutionRow = typeof executions.$inferSelect;

export interface ExecutionReport {
  id: string;
  state: ExecutionRow["state"];
  error?: string;
}

/**
 * `outcome`: what carrying out its change did (or why it failed), kept in its evidence for the card
 * to say; null: nothing to say (an earlier failure's words go); absent: as it was.
 */
async function setCardStatus(
  tx: Tx,
  cardId: string,
  status: "applying" | "applied" | "failed",
  now: Date,
  outcome?: { text: string; url?: string } | null,
) {
  const [card] = await tx
    .select({ version: cards.version })
    .from(cards)
    .where(eq(cards.id, cardId))
    .for("update");
  if (!card) return;
  const version = card.version + 1;
  await tx
    .update(cards)
    .set({
      status,
      version,
      updatedAt: now,
      ...(outcome
        ? { evidence: sql`${cards.evidence} || ${JSON.stringify({ outcome })}::jsonb` }
        : outcome === null
          ? { evidence: sql`${cards.evidence} - 'outcome'` }
          : {}),
    })
    .where(eq(cards.id, cardId));
  await appendCardEvents(tx, [{ cardId, type: "card.updated", version }], now);
}

/**
 * Carries out accepted changes once their undo window has passed. Executions are claimed one at
 * a time with FOR UPDATE SKIP LOCKED and a lease, so processes never run the same one together.
 * An execution found still "running" after its lease expired was interrupted: it is re-run only
 * when its executor can do so safely (idempotency key, a check of what already happened),
 * otherwise it fails with a message saying it may have partly happened — never silently twice.
 */
export class ExecutionRuntime {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly database: DatabaseHandle,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly config: Config,
    private readonly pollMs = 1000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    while (this.busy) await new Promise((r) => setTimeout(r, 20));
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while ((await this.runNext()) !== null) {
        // keep going while work is due
      }
    } catch (err) {
      this.logger.error({ err }, "execution runner failed");
    } finally {
      this.busy = false;
    }
  }

  /** Claims and runs one due execution; null when none is due. Public for tests. */
  async runNext(): Promise<ExecutionReport | null> {
    const now = this.clock.now();
    const token = randomToken(12);
    const claimed = await this.database.db.transaction(async (tx) => {
      const [due] = await tx
        .select()
        .from(executions)
        .where(
          or(
            and(eq(executions.state, "scheduled"), lte(executions.runAfter, now)),
            and(eq(executions.state, "running"), lt(executions.leaseUntil, now)),
          ),
        )
        .orderBy(executions.runAfter)
        .limit(1)
        .for("update", { skipLocked: true });
      if (!due) return null;
      await tx
        .update(executions)
        .set({
          state: "running",
          claimToken: token,
          leaseUntil: new Date(now.getTime() + this.config.EXECUTOR_LEASE_SECONDS * 1000),
          attempts: due.attempts + 1,
          updatedAt: now,
        })
        .where(eq(executions.id, due.id));
      if (due.state === "scheduled" && due.attempts === 0)
        await setCardStatus(tx, due.cardId, "applying", now);
      return due;
    });
    if (!claimed) return null;

    const resumed = claimed.state === "running";
    const [card] = await this.database.db.select().from(cards).where(eq(cards.id, claimed.cardId)).limit(1);
    const executor = executors[claimed.executor as ExecutorName];
    const lines: string[] = [];
    const log = (line: string) => lines.push(`${this.clock.now().toISOString()} ${line}`);
    const change = (card?.change ?? null) as Change | null;

    let outcome:
      | { ok: true; result: Record<string, unknown> }
      | { ok: false; error: string; retryable: boolean };
    if (!card || !executor || !change) {
      outcome = { ok: false, error: `nothing to run (executor ${claimed.executor})`, retryable: false };
    } else if (claimed.dryRun && isDemoCard(card)) {
      // A sample card names a repository, a pull request and an action this install may not have
      // (or may have for real): its accept shows what would happen and touches nothing.
      const result = rehearse(change);
      log(`demo card: rehearsed "${result.wouldDo}"; nothing outside Flick was changed`);
      outcome = { ok: true, result };
    } else if (resumed && !executor.resumable(change)) {
      outcome = {
        ok: false,
        retryable: false,
        error:
          "interrupted while running; it may have partly happened. Check the target, then retry if needed.",
      };
    } else {
      if (resumed) log("resuming after an interruption");
      try {
        const result = await executor.run(
          {
            config: this.config,
            db: this.database.db,
            card,
            executionId: claimed.id,
            now,
            dryRun: claimed.dryRun,
            resumed,
            log,
          },
          change,
        );
        outcome = { ok: true, result };
      } catch (err) {
        const retryable = err instanceof ExecutorError ? err.retryable : false;
        outcome = { ok: false, error: (err as Error).message.slice(0, 2000), retryable };
      }
    }

    const attempts = claimed.attempts + 1;
    const finishedAt = this.clock.now();
    // What came back from outside (git's output, a webhook's reply) may hold what the database refuses.
    const logText = storableText(`${claimed.log}${lines.map((l) => `${l}\n`).join("")}`);
    outcome = storableText(outcome);
    return this.database.db.transaction(async (tx) => {
      const guard = and(eq(executions.id, claimed.id), eq(executions.claimToken, token));
      if (outcome.ok) {
        const done = await tx
          .update(executions)
          .set({
            state: "succeeded",
            result: outcome.result,
            error: null,
            log: logText,
            finishedAt,
            leaseUntil: null,
            claimToken: null,
            updatedAt: finishedAt,
          })
          .where(guard)
          .returning({ id: executions.id });
        // What it did, in words (not a rehearsal's: nothing was done).
        const did = claimed.dryRun ? null : describeOutcome(change, outcome.result);
        if (done.length > 0) await setCardStatus(tx, claimed.cardId, "applied", finishedAt, did);
        return { id: claimed.id, state: "succeeded" as const };
      }
      const retry = outcome.retryable && attempts < claimed.maxAttempts;
      const done = await tx
        .update(executions)
        .set({
          state: retry ? "scheduled" : "failed",
          error: outcome.error,
          log: `${logText}${finishedAt.toISOString()} ${retry ? "will retry" : "failed"}: ${outcome.error}\n`,
          runAfter: retry ? new Date(finishedAt.getTime() + backoffMs(attempts)) : claimed.runAfter,
          finishedAt: retry ? null : finishedAt,
          leaseUntil: null,
          claimToken: null,
          updatedAt: finishedAt,
        })
        .where(guard)
        .returning({ id: executions.id });
      // Why, on the card (the history has it too, with the attempts).
      if (done.length > 0 && !retry)
        await setCardStatus(tx, claimed.cardId, "failed", finishedAt, { text: outcome.error.slice(0, 500) });
      this.logger.warn({ execution: claimed.id, attempts, retry, error: outcome.error }, "execution failed");
      return {
        id: claimed.id,
        state: retry ? ("scheduled" as const) : ("failed" as const),
        error: outcome.error,
      };
    });
  }
}
