import { hostname } from "node:os";
import { and, asc, desc, eq, gt, inArray, isNull, like, lt, lte, not, or, sql } from "drizzle-orm";
import type { DatabaseHandle, Tx } from "../db/client.ts";
import { actions, cards, executions, mutes, signals, sources } from "../db/schema/index.ts";
import type { RevertVerdict } from "../executors/github.ts";
import type { Clock } from "../lib/clock.ts";
import { randomToken } from "../lib/crypto.ts";
import { isUniqueViolation } from "../lib/db-errors.ts";
import type { Logger } from "../lib/logger.ts";
import { storableText } from "../lib/storable-text.ts";
import { demoCardSql } from "../services/cards/demo.ts";
import { type AgentUpsert, applyCardUpserts, ConcurrentCardWrite } from "../services/cards/upsert.ts";
import { SIGNALS_CHANNEL } from "../services/signals/writer.ts";
import { listSources } from "../services/sources/manage.ts";
import {
  type Agent,
  type AgentContext,
  agentReads,
  type CardUpsert,
  type CarriedOut,
  type LatestCardView,
  type MetricSourceView,
  NonRetryableError,
  type OpenCardView,
  type PastRollback,
  type SignalRow,
} from "./define.ts";
import type { GitHubReads } from "./github.ts";
import type { AcceptRate } from "./rank.ts";
import { BatchState, RunState, StateConflict } from "./state.ts";

export interface RuntimeOptions {
  batchSize: number;
  leaseSeconds: number;
  maxAttempts: number;
  /** How often to look for work when no NOTIFY arrives (missed wake-ups, retries coming due). */
  pollMs?: number;
  /** Longest an agent's run may take on one batch before it counts as a failure. */
  agentTimeoutMs?: number;
  workerId?: string;
  /** Batches processed at once by this process (claims never overlap: SKIP LOCKED). */
  concurrency?: number;
  /**
   * How often agents hear that time passed with no signal (their `tick`), on the runtime's clock:
   * what waits on the clock is settled within this long, however quiet the sources are.
   */
  tickMs?: number;
  /** What agents may read of GitHub (with GITHUB_TOKEN; see AgentContext.github). */
  github?: GitHubReads | null;
}

/** By default, time passing is told every minute. */
export const TICK_MS = 60_000;
/** A signal due longer ago than this and not done: the workers are behind (AgentContext.caughtUp). */
const CAUGHT_UP_MS = 60_000;

export interface BatchReport {
  claimed: number;
  done: number;
  failed: number;
  parked: number;
  cardsCreated: number;
  cardsUpdated: number;
  lostLease: boolean;
}

class LostLease extends Error {}

/** What agents see of a card (OpenCardView); LatestCardView adds to it. */
const openCardColumns = {
  id: cards.id,
  fingerprint: cards.fingerprint,
  version: cards.version,
  status: cards.status,
  evidence: cards.evidence,
  priority: cards.priority,
  priorityFactors: cards.priorityFactors,
};

/** Retries back off exponentially: 2 s, 4 s, 8 s … up to 5 minutes, with jitter. */
export function backoffMs(attempts: number): number {
  const base = Math.min(300_000, 1000 * 2 ** Math.max(1, attempts));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Turns signals into cards. Claims due signals in batches with FOR UPDATE SKIP LOCKED and a lease
 * (the same SQL on PGlite and PostgreSQL), runs every agent that reads them, and commits the card
 * writes together with marking the signals done — guarded by the claim token, so a worker whose
 * lease expired and was taken over writes nothing. Failures back off; after maxAttempts a signal
 * is parked as a dead letter.
 */
export class AgentRuntime {
  readonly workerId: string;
  private running = false;
  private waiters: (() => void)[] = [];
  private kicked = false;
  private loops: Promise<void>[] = [];
  private unlisten: (() => Promise<void>) | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** When agents last heard the time (ms, the runtime's clock); a tick runs one at a time. */
  private lastTick = Number.NEGATIVE_INFINITY;
  private ticking: Promise<number> | null = null;

  /** When it was made: the agents' `runningSince`. */
  private readonly startedAt: Date;

  constructor(
    private readonly database: DatabaseHandle,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly agents: Agent[],
    private readonly options: RuntimeOptions,
  ) {
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomToken(4)}`;
    this.startedAt = clock.now();
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.unlisten = await this.database.listen(SIGNALS_CHANNEL, () => this.kick());
    this.timer = setInterval(() => this.kick(), this.options.pollMs ?? 1000);
    this.timer.unref();
    this.loops = Array.from({ length: Math.max(1, this.options.concurrency ?? 1) }, () => this.run());
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.kick();
    await Promise.all(this.loops);
    await this.unlisten?.().catch(() => {});
  }

  kick(): void {
    this.kicked = true;
    for (const wake of this.waiters.splice(0)) wake();
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.kicked = false;
      let report: BatchReport | null = null;
      try {
        report = await this.processBatch();
      } catch (err) {
        this.logger.error({ err, worker: this.workerId }, "agent batch failed");
      }
      // Between batches, busy or not: an install that only ever hears metric points still tells
      // the errors agent that its rollback's hour is over.
      if (this.running && this.tickDue()) {
        await this.tickOnce().catch((err) =>
          this.logger.error({ err, worker: this.workerId }, "agent tick failed"),
        );
      }
      if (report && report.claimed > 0) {
        // Let requests in between batches: the embedded database answers without ever touching
        // the event loop's I/O phase, so a backlog would otherwise hold every HTTP request until
        // it is drained.
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      if (!this.kicked && this.running) {
        await new Promise<void>((resolve) => {
          this.waiters.push(resolve);
        });
      }
    }
  }

  private tickDue(): boolean {
    return this.clock.now().getTime() - this.lastTick >= (this.options.tickMs ?? TICK_MS);
  }

  private tickOnce(): Promise<number> {
    this.ticking ??= this.tick().finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  /**
   * Tells the agents that have a `tick` that time passed (the loop does, every `tickMs`, between batches),
   * and writes what they propose with their state, in one transaction. Another worker's write to
   * the same state meanwhile drops this tick (the next one reads it anew). Returns how many cards
   * changed. Public so tests can drive it.
   */
  async tick(): Promise<number> {
    const now = this.clock.now();
    this.lastTick = now.getTime();
    const state = new BatchState(this.database.db);
    const base = this.context(now);
    const upserts: AgentUpsert[] = [];
    for (const agent of this.agents) {
      const tick = agent.tick?.bind(agent);
      if (tick) upserts.push(...(await this.runWith(agent, base, state, false, tick)));
    }
    // Most minutes nothing is due: no transaction.
    if (upserts.length === 0 && !state.changed()) return 0;
    try {
      return await this.database.db.transaction(async (tx) => {
        await state.commit(tx, now);
        const written = await applyCardUpserts(tx, upserts, now);
        return written.created + written.updated;
      });
    } catch (err) {
      if (err instanceof StateConflict || err instanceof ConcurrentCardWrite || isUniqueViolation(err)) {
        this.logger.warn(
          { worker: this.workerId, error: (err as Error).message },
          "agent tick met another write; skipped",
        );
        return 0;
      }
      throw err;
    }
  }

  /** Claims and processes one batch. Public so tests can drive the runtime step by step. */
  async processBatch(): Promise<BatchReport> {
    const report: BatchReport = {
      claimed: 0,
      done: 0,
      failed: 0,
      parked: 0,
      cardsCreated: 0,
      cardsUpdated: 0,
      lostLease: false,
    };
    const token = randomToken(12);
    const claimed = await this.claim(token);
    report.claimed = claimed.length;
    if (claimed.length === 0) return report;

    const now = this.clock.now();
    const state = new BatchState(this.database.db);
    const ctx = this.context(now);
    const failures = new Map<string, Error>();
    const upserts: AgentUpsert[] = [];
    const demo = await this.demoSources(claimed);
    for (const agent of this.agents) {
      const mine = claimed.filter((s) => agentReads(agent, s.kind));
      // A demo source's sample signals are read apart, with state of their own (stateAgent);
      // the cards they make say they are demo cards, so accepting one only rehearses.
      const own = mine.filter((s) => !demo.has(s.sourceId));
      const samples = mine.filter((s) => demo.has(s.sourceId));
      if (own.length > 0) upserts.push(...(await this.runAgent(agent, ctx, state, own, failures)));
      if (samples.length > 0) {
        const made = await this.runAgent(agent, ctx, state, samples, failures, true);
        for (const u of made) u.evidence.demo = true;
        upserts.push(...made);
      }
    }
    // A signal that failed in any agent is retried whole, so its upserts from other agents wait too.
    const kept = upserts.filter((u) => !u.evidence.signalIds.some((id) => failures.has(id)));
    const doneIds = claimed.filter((s) => !failures.has(s.id)).map((s) => s.id);

    for (let attempt = 1; ; attempt++) {
      try {
        await this.database.db.transaction(async (tx) => {
          if (doneIds.length > 0) {
            const marked = await tx
              .update(signals)
              .set({
                state: "done",
                processedAt: now,
                processedBy: this.workerId,
                leaseUntil: null,
                claimToken: null,
                lastError: null,
              })
              .where(and(inArray(signals.id, doneIds), eq(signals.claimToken, token)))
              .returning({ id: signals.id });
            if (marked.length !== doneIds.length) throw new LostLease();
          }
          await state.commit(tx, now);
          const outcome = await applyCardUpserts(tx, kept, now);
          report.cardsCreated = outcome.created;
          report.cardsUpdated = outcome.updated;
          await this.recordFailures(tx, claimed, failures, token, now, report);
        });
        report.done = doneIds.length;
        return report;
      } catch (err) {
        if (err instanceof LostLease) {
          this.logger.warn(
            { worker: this.workerId, claimed: claimed.length },
            "lease lost before commit; another worker has the batch",
          );
          report.lostLease = true;
          return report;
        }
        // Two workers opening a card for the same new fingerprint: the loser retries and updates it.
        if ((isUniqueViolation(err) || err instanceof ConcurrentCardWrite) && attempt < 5) continue;
        if (err instanceof StateConflict) {
          this.logger.warn(
            { worker: this.workerId, error: err.message },
            "agent state changed meanwhile; retrying",
          );
        } else {
          this.logger.error(
            { err, worker: this.workerId },
            "writing a batch failed; its signals will be retried",
          );
        }
        for (const s of claimed) if (!failures.has(s.id)) failures.set(s.id, err as Error);
        await this.database.db.transaction((tx) =>
          this.recordFailures(tx, claimed, failures, token, now, report),
        );
        return report;
      }
    }
  }

  /** Which of the batch's sources are demo ones: one query on the small source table. */
  private async demoSources(claimed: SignalRow[]): Promise<Set<string>> {
    const sourceIds = [...new Set(claimed.map((s) => s.sourceId))];
    const rows = await this.database.db
      .select({ id: sources.id })
      .from(sources)
      .where(and(inArray(sources.id, sourceIds), eq(sources.demo, true)));
    return new Set(rows.map((r) => r.id));
  }

  /**
   * One run of an agent (on a batch, or a tick): it sees its own buffered state writes, which count
   * only if it succeeds in time; what it proposes is tagged with its name.
   */
  private async runWith(
    agent: Agent,
    base: Omit<AgentContext, "state" | "demo">,
    state: BatchState,
    demo: boolean,
    call: (ctx: AgentContext) => Promise<CardUpsert[]> | CardUpsert[],
  ): Promise<AgentUpsert[]> {
    const ctx = {
      ...base,
      demo,
      // Sample signals name repositories that are not the team's: GitHub is not asked of them.
      github: demo ? null : base.github,
      state: new RunState(state, agent.name, demo),
    };
    const out = await withTimeout(
      Promise.resolve(call(ctx)),
      this.options.agentTimeoutMs ?? 30_000,
      `agent ${agent.name}`,
    );
    state.apply(ctx.state.agent, ctx.state.writes);
    return out.map((u) => ({ ...u, agent: agent.name }));
  }

  private async runAgent(
    agent: Agent,
    base: Omit<AgentContext, "state" | "demo">,
    state: BatchState,
    batch: SignalRow[],
    failures: Map<string, Error>,
    demo = false,
  ) {
    const once = (signals: SignalRow[]) =>
      this.runWith(agent, base, state, demo, (ctx) => agent.run(ctx, signals));
    try {
      return await once(batch);
    } catch (batchErr) {
      if (batch.length === 1) {
        failures.set((batch[0] as SignalRow).id, batchErr as Error);
        return [];
      }
      // Find the signal that breaks the agent; the rest of the batch still goes through.
      const out: AgentUpsert[] = [];
      for (const signal of batch) {
        try {
          out.push(...(await once([signal])));
        } catch (err) {
          failures.set(signal.id, err as Error);
        }
      }
      return out;
    }
  }

  private async recordFailures(
    tx: Tx,
    claimed: SignalRow[],
    failures: Map<string, Error>,
    token: string,
    now: Date,
    report: BatchReport,
  ): Promise<void> {
    for (const signal of claimed) {
      const err = failures.get(signal.id);
      if (!err) continue;
      const park = err instanceof NonRetryableError || signal.attempts >= this.options.maxAttempts;
      await tx
        .update(signals)
        .set({
          state: park ? "parked" : "pending",
          leaseUntil: null,
          claimToken: null,
          // A failed query's message quotes its parameters, text the database refused among them.
          lastError: storableText(`${err.name}: ${err.message}`.slice(0, 2000)),
          nextAttemptAt: new Date(now.getTime() + backoffMs(signal.attempts)),
        })
        .where(and(eq(signals.id, signal.id), eq(signals.claimToken, token)));
      if (park) report.parked++;
      else report.failed++;
      this.logger.warn(
        { signal: signal.id, attempts: signal.attempts, parked: park, error: err.message },
        park ? "signal parked as a dead letter" : "signal failed; will retry",
      );
    }
  }

  private async claim(token: string): Promise<SignalRow[]> {
    const now = this.clock.now();
    const due = this.database.db
      .select({ id: signals.id })
      .from(signals)
      .where(
        and(
          or(eq(signals.state, "pending"), eq(signals.state, "processing")),
          lte(signals.nextAttemptAt, now),
          or(isNull(signals.leaseUntil), lt(signals.leaseUntil, now)),
        ),
      )
      // Ids rise in the order signals were written (see newId), so signals written together reach
      // the agents in that order, not in whatever order the database returns equal keys.
      .orderBy(signals.nextAttemptAt, signals.id)
      .limit(this.options.batchSize)
      .for("update", { skipLocked: true });
    const rows = await this.database.db
      .update(signals)
      .set({
        state: "processing",
        leaseUntil: new Date(now.getTime() + this.options.leaseSeconds * 1000),
        claimToken: token,
        attempts: sql`${signals.attempts} + 1`,
      })
      // = ANY(ARRAY(…)) runs the locking subquery exactly once; an IN (…) semi-join may re-run it.
      .where(sql`${signals.id} = any(array(${due}))`)
      .returning();
    return rows.sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || a.id.localeCompare(b.id));
  }

  private context(now: Date): Omit<AgentContext, "state" | "demo"> {
    const db = this.database.db;
    // Each answer is asked of the database once per batch, however many signals ask it.
    const once = <T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> => {
      let hit = cache.get(key);
      if (!hit) {
        hit = load();
        cache.set(key, hit);
      }
      return hit;
    };
    const rates = new Map<string, Promise<AcceptRate>>();
    const settings = new Map<string, Promise<Record<string, unknown>>>();
    const ready = new Map<string, Promise<boolean>>();
    const rollbacks = new Map<string, Promise<PastRollback[]>>();
    const reverts = new Map<string, Promise<RevertVerdict>>();
    const ranges = new Map<string, ReturnType<GitHubReads["range"]>>();
    const reads = this.options.github ?? null;
    // Cards are written after every agent has run, so a fingerprint's newest card stays the same
    // for the whole batch: each is read once, however many agents and signals ask.
    const latest = new Map<string, Promise<LatestCardView | undefined>>();
    const readLatest = async (fingerprints: string[]) => {
      const rows = await db
        .select({
          ...openCardColumns,
          agent: cards.agent,
          createdAt: cards.createdAt,
          updatedAt: cards.updatedAt,
        })
        .from(cards)
        .where(inArray(cards.fingerprint, fingerprints))
        .orderBy(asc(cards.createdAt));
      const map = new Map<string, LatestCardView>();
      for (const r of rows) map.set(r.fingerprint, r);
      return map;
    };
    let metricSources: Promise<MetricSourceView[]> | undefined;
    return {
      now,
      runningSince: this.startedAt,
      log: this.logger,
      async caughtUp() {
        // The claim index's first row: the signal due longest ago that is not done.
        const [oldest] = await db
          .select({ due: signals.nextAttemptAt })
          .from(signals)
          .where(or(eq(signals.state, "pending"), eq(signals.state, "processing")))
          .orderBy(asc(signals.nextAttemptAt), asc(signals.id))
          .limit(1);
        return !oldest || oldest.due.getTime() > now.getTime() - CAUGHT_UP_MS;
      },
      metricSources() {
        metricSources ??= listSources(db, { kind: "metrics" }).then((rows) =>
          rows.map((r) => ({
            id: r.id,
            name: r.name,
            enabled: r.enabled,
            lastSignalAt: r.lastSignalAt ?? null,
            refused:
              r.refusedAt && r.refusedStatus != null && r.refusedMessage != null
                ? { at: r.refusedAt, status: r.refusedStatus, message: r.refusedMessage }
                : null,
          })),
        );
        return metricSources;
      },
      async latestCards(fingerprints) {
        const missing = [...new Set(fingerprints)].filter((f) => !latest.has(f));
        if (missing.length > 0) {
          const read = readLatest(missing);
          for (const f of missing)
            latest.set(
              f,
              read.then((m) => m.get(f)),
            );
        }
        const map = new Map<string, LatestCardView>();
        for (const f of fingerprints) {
          const card = await latest.get(f);
          if (card) map.set(f, card);
        }
        return map;
      },
      acceptRate(agent, family) {
        return once(rates, `${agent}\u0000${family}`, () =>
          db
            .select({
              accepted: sql<number>`count(*) filter (where ${cards.status} in ('accepted','applying','applied','failed'))`,
              rejected: sql<number>`count(*) filter (where ${cards.status} = 'rejected')`,
            })
            .from(cards)
            .where(
              and(
                eq(cards.agent, agent),
                like(cards.fingerprint, `${family}:%`),
                // What a person did with a demo card says nothing of the team's own.
                not(demoCardSql),
              ),
            )
            .then(([r]) => {
              const accepted = Number(r?.accepted ?? 0);
              const decided = accepted + Number(r?.rejected ?? 0);
              return { rate: (accepted + 1) / (decided + 2), decided };
            }),
        );
      },
      sourceSettings(sourceId) {
        return once(settings, sourceId, () =>
          db
            .select({ settings: sources.settings })
            .from(sources)
            .where(eq(sources.id, sourceId))
            .limit(1)
            .then(([r]) => (r?.settings ?? {}) as Record<string, unknown>),
        );
      },
      rollbacksOf(repository, days) {
        // The rollback cards' fingerprints (see rollbackFingerprint), compared as text: a
        // repository's name may hold LIKE's wildcards.
        const prefix = `deploy:${repository}@`;
        return once(rollbacks, `${repository}\u0000${days}`, () =>
          db
            .select({
              executor: executions.executor,
              state: executions.state,
              error: executions.error,
              finishedAt: executions.finishedAt,
              card: cards.fingerprint,
              facts: sql<Record<string, unknown> | null>`${cards.evidence}->'facts'`,
            })
            .from(executions)
            .innerJoin(cards, eq(cards.id, executions.cardId))
            .where(
              and(
                sql`left(${cards.fingerprint}, ${prefix.length}) = ${prefix}`,
                inArray(executions.state, ["succeeded", "failed"]),
                eq(executions.dryRun, false),
                gt(executions.finishedAt, new Date(now.getTime() - days * 86_400_000)),
                not(demoCardSql),
              ),
            )
            .orderBy(desc(executions.finishedAt))
            .limit(100)
            .then((rows) => rows.map((r) => ({ ...r, facts: r.facts ?? {} }) as PastRollback)),
        );
      },
      github: reads && {
        ...reads,
        // The jobs of one workflow run failing together ask about the same revert once.
        checkRevert: (repository, p) =>
          once(reverts, `${repository}:${p.since ?? ""}..${p.sha}@${p.branch}`, () =>
            reads.checkRevert(repository, p),
          ),
        range: (repository, since, sha) =>
          once(ranges, `${repository}:${since}..${sha}`, () => reads.range(repository, since, sha)),
      },
      async carriedOut(fingerprints) {
        const done = new Map<string, CarriedOut>();
        if (fingerprints.length === 0) return done;
        const rows = await db
          .select({
            fingerprint: cards.fingerprint,
            result: executions.result,
            finishedAt: executions.finishedAt,
          })
          .from(executions)
          .innerJoin(cards, eq(cards.id, executions.cardId))
          .where(
            and(
              inArray(cards.fingerprint, [...new Set(fingerprints)]),
              eq(executions.state, "succeeded"),
              eq(executions.dryRun, false),
              not(demoCardSql),
            ),
          )
          .orderBy(desc(executions.finishedAt));
        for (const r of rows)
          if (!done.has(r.fingerprint) && r.finishedAt)
            done.set(r.fingerprint, {
              result: (r.result ?? {}) as Record<string, unknown>,
              finishedAt: r.finishedAt,
            });
        return done;
      },
      actionReady(name) {
        return once(ready, name, () =>
          db
            .select({ id: actions.id })
            .from(actions)
            .where(and(eq(actions.name, name), eq(actions.enabled, true)))
            .limit(1)
            .then((rows) => rows.length > 0),
        );
      },
      async muted(fingerprints) {
        if (fingerprints.length === 0) return new Set<string>();
        const rows = await db
          .select({ fingerprint: mutes.fingerprint })
          .from(mutes)
          .where(and(inArray(mutes.fingerprint, fingerprints), gt(mutes.until, now), isNull(mutes.userId)));
        return new Set(rows.map((r) => r.fingerprint));
      },
      async openCards(fingerprints) {
        const map = new Map<string, OpenCardView>();
        if (fingerprints.length === 0) return map;
        const rows = await db
          .select(openCardColumns)
          .from(cards)
          .where(
            and(
              inArray(cards.fingerprint, fingerprints),
              or(eq(cards.status, "pending"), eq(cards.status, "snoozed")),
            ),
          );
        for (const r of rows) map.set(r.fingerprint, r);
        return map;
      },
    };
  }
}
