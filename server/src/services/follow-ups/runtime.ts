import { type Change, isDemoCard } from "@flick/shared";
import { and, eq, gte, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import { moment } from "../../agents/builtin/words.ts";
import { DEFAULT_DETECTOR_OPTIONS } from "../../agents/metrics/detector.ts";
import { stateAgent } from "../../agents/state.ts";
import { agentStates, cards, followUps, users } from "../../db/schema/index.ts";
import { startOfUtcDay } from "../../lib/clock.ts";
import { newId } from "../../lib/ids.ts";
import { storableText } from "../../lib/storable-text.ts";
import { reviseWithModel, transcribe } from "../../llm/openai.ts";
import { appendCardEvents } from "../cards/events.ts";
import { toCard } from "../cards/read.ts";
import { decide } from "../decisions/decide.ts";
import { ModelWorker } from "../model-worker.ts";
import { interpret, thresholdChange } from "./rules.ts";

type FollowUpRow = typeof followUps.$inferSelect;

const LEASE_MS = 120_000;
/** Notified when a follow-up is posted, so a worker in any process starts on it at once. */
export const FOLLOW_UPS_CHANNEL = "flick_follow_ups";
export const FOLLOW_UP_MAX_ATTEMPTS = 4;

function backoffMs(attempts: number): number {
  return Math.min(300_000, 2000 * 2 ** Math.max(0, attempts - 1));
}

export interface FollowUpOutcome {
  id: string;
  state: FollowUpRow["state"];
}

/**
 * Carries follow-ups from "received" to "done": transcribes the recording through the OpenAI
 * client when a transcriber is configured (the browser's transcript is used meanwhile, typed text
 * always wins), then hands the instruction to the card: a model revises the card when one is
 * configured, plain rules otherwise (snooze, merge method, labels, assignee, title, repository).
 * A revision is a new card that supersedes the old one. Claims are leased (SKIP LOCKED), failures
 * back off, and a recording is never dropped: without any transcript the follow-up waits for text.
 */
export class FollowUpRuntime extends ModelWorker {
  protected readonly what = "follow-up worker";
  // Without the wake-up a revision waited for the next poll, about a second (`pnpm bench followups`).
  protected override readonly wakeChannel = FOLLOW_UPS_CHANNEL;

  /** Always on: without a model, plain rules answer. */
  get enabled(): boolean {
    return true;
  }

  /** Claims and processes one due follow-up; null when none is due. */
  async runNext(): Promise<FollowUpOutcome | null> {
    const now = this.clock.now();
    const db = this.database.db;
    const due = db
      .select({ id: followUps.id })
      .from(followUps)
      .where(
        and(
          inArray(followUps.state, ["received", "transcribing", "revising"]),
          lte(followUps.nextAttemptAt, now),
          or(isNull(followUps.leaseUntil), lt(followUps.leaseUntil, now)),
        ),
      )
      .orderBy(followUps.nextAttemptAt)
      .limit(1)
      .for("update", { skipLocked: true });
    const [row] = await db
      .update(followUps)
      .set({ leaseUntil: new Date(now.getTime() + LEASE_MS), attempts: sql`${followUps.attempts} + 1` })
      .where(sql`${followUps.id} = any(array(${due}))`)
      .returning();
    if (!row) return null;
    try {
      return { id: row.id, state: await this.process(row, now) };
    } catch (err) {
      const message = storableText((err as Error).message.slice(0, 500));
      const last = row.attempts >= FOLLOW_UP_MAX_ATTEMPTS;
      this.logger.warn({ followUp: row.id, attempts: row.attempts, error: message }, "follow-up failed");
      await this.save(row.id, {
        state: last ? "failed" : row.state,
        lastError: message,
        nextAttemptAt: new Date(now.getTime() + backoffMs(row.attempts)),
        leaseUntil: null,
      });
      return { id: row.id, state: last ? "failed" : row.state };
    }
  }

  private save(id: string, values: Partial<typeof followUps.$inferInsert>) {
    return this.database.db
      .update(followUps)
      .set({ ...values, updatedAt: this.clock.now() })
      .where(eq(followUps.id, id));
  }

  private async process(row: FollowUpRow, now: Date): Promise<FollowUpRow["state"]> {
    let transcript = row.transcript;
    let source = row.transcriptSource;
    if (row.audio && row.audioMime && this.client && source !== "typed" && source !== "server") {
      await this.save(row.id, { state: "transcribing" });
      try {
        transcript = await transcribe(
          this.client,
          this.config.OPENAI_TRANSCRIBE_MODEL,
          row.audio,
          row.audioMime,
        );
        source = "server";
        await this.save(row.id, { transcript, transcriptSource: "server" });
      } catch (err) {
        // Retry later; after the last attempt, carry on with the browser's words if there are any.
        if (row.attempts < FOLLOW_UP_MAX_ATTEMPTS || !transcript) {
          if (row.attempts >= FOLLOW_UP_MAX_ATTEMPTS) {
            await this.save(row.id, {
              state: "needs_text",
              lastError: `transcription failed: ${(err as Error).message}`.slice(0, 500),
              leaseUntil: null,
            });
            return "needs_text";
          }
          throw new Error(`transcription failed: ${(err as Error).message}`);
        }
      }
    }
    if (!transcript) {
      await this.save(row.id, { state: "needs_text", leaseUntil: null });
      return "needs_text";
    }
    await this.save(row.id, { state: "revising" });
    return this.revise(row, transcript, now);
  }

  private async revise(row: FollowUpRow, instruction: string, now: Date): Promise<FollowUpRow["state"]> {
    const db = this.database.db;
    const [cardRow] = await db.select().from(cards).where(eq(cards.id, row.cardId)).limit(1);
    if (!cardRow) throw new Error("the card is gone");
    if (cardRow.status !== "pending" && cardRow.status !== "snoozed") {
      await this.finish(row.id, `The card was already ${cardRow.status}; nothing to revise.`, null, 0);
      return "done";
    }
    const card = toCard(cardRow);
    if (card.agent === "metrics") {
      const answer = await this.changeThreshold(card.fingerprint, isDemoCard(card), instruction, now);
      if (answer) {
        await this.finish(row.id, answer, null, 0);
        return "done";
      }
    }
    const intent = interpret(instruction, card.change, now, row.timeZone ?? "UTC");

    if (intent.type === "snooze" && row.userId) {
      const [user] = await db
        .select({ name: users.name })
        .from(users)
        .where(eq(users.id, row.userId))
        .limit(1);
      await decide(db, {
        cardId: card.id,
        userId: row.userId,
        userName: user?.name ?? "someone",
        input: {
          verdict: "snooze",
          cardVersion: card.version,
          idempotencyKey: `follow-up:${row.id}`,
          snoozeUntil: intent.until.toISOString(),
          client: "voice",
        },
        now,
        undoWindowMs: this.config.UNDO_WINDOW_SECONDS * 1000,
        muteHours: this.config.MUTE_HOURS,
      });
      // On the speaker's clock first, when their browser said which it is.
      const theirs =
        row.timeZone && row.timeZone !== "UTC"
          ? `${new Intl.DateTimeFormat("en-US", {
              timeZone: row.timeZone,
              weekday: "short",
              month: "short",
              day: "numeric",
              hour: "2-digit",
              minute: "2-digit",
              hourCycle: "h23",
            }).format(intent.until)} ${row.timeZone} time (${moment(intent.until, now)})`
          : moment(intent.until, now);
      await this.finish(row.id, `Snoozed until ${theirs}.`, null, 0);
      return "done";
    }

    let revised: {
      title: string;
      summary: string;
      change: Change | null;
      reply?: string;
      tokens: number;
    } | null = null;
    const overBudget = this.client ? await this.overDailyBudget(now) : false;
    const budgetNote = overBudget
      ? `The model's daily budget (${this.config.OPENAI_DAILY_TOKENS} tokens) is used up, so plain rules answered. `
      : "";
    if (this.client && !overBudget) {
      revised = await reviseWithModel(this.client, this.config.OPENAI_MODEL, card, instruction);
    } else if (intent.type === "revise") {
      revised = {
        title: intent.title && card.kind === "issue" ? intent.title : card.title,
        summary: card.summary,
        change: intent.change,
        reply: `${budgetNote}Done: ${intent.done.join(", ")}.`,
        tokens: 0,
      };
    }
    if (!revised) {
      await this.finish(
        row.id,
        budgetNote + (intent.type === "cannot" ? intent.reply : "Nothing to change."),
        null,
        0,
      );
      return "done";
    }

    // The revision: a new card that supersedes the old one, in one transaction.
    const newCardId = newId("card", now.getTime());
    await db.transaction(async (tx) => {
      const [locked] = await tx.select().from(cards).where(eq(cards.id, card.id)).for("update");
      if (!locked || (locked.status !== "pending" && locked.status !== "snoozed")) {
        throw new Error("the card was decided while it was being revised");
      }
      await tx
        .update(cards)
        .set({ status: "superseded", version: locked.version + 1, updatedAt: now })
        .where(eq(cards.id, locked.id));
      const { id: _id, createdAt: _c, ...rest } = locked;
      await tx.insert(cards).values({
        ...rest,
        id: newCardId,
        title: revised.title,
        summary: `You said: “${instruction.slice(0, 500)}”\n\n${revised.summary.replace(/^You said: “[^”]*”\n\n/, "")}`,
        change: revised.change,
        status: "pending",
        snoozedUntil: null,
        version: 1,
        supersedes: locked.id,
        createdAt: now,
        updatedAt: now,
      });
      await appendCardEvents(
        tx,
        [
          { cardId: locked.id, type: "card.removed", version: locked.version + 1 },
          { cardId: newCardId, type: "card.created", version: 1 },
        ],
        now,
      );
    });
    await this.finish(row.id, revised.reply ?? null, newCardId, revised.tokens);
    this.logger.info(
      { followUp: row.id, card: card.id, revision: newCardId, tokens: revised.tokens },
      "card revised",
    );
    return "done";
  }

  /**
   * "Raise the threshold" on a metric card: the series' detector alarms at a new anomaly score from
   * its next point on (kept in the metrics agent's state, which the agent rereads if it was
   * writing at the same moment). The card itself stays for the person to decide. Null when the
   * instruction is not about the threshold.
   */
  private async changeThreshold(
    series: string,
    demo: boolean,
    instruction: string,
    now: Date,
  ): Promise<string | null> {
    const db = this.database.db;
    // A demo card's series learned from sample signals, in the demo's own state.
    const key = and(eq(agentStates.agent, stateAgent("metrics", demo)), eq(agentStates.key, series));
    const [row] = await db.select().from(agentStates).where(key).limit(1);
    const current =
      (row?.state as { alarmLevel?: number } | undefined)?.alarmLevel ?? DEFAULT_DETECTOR_OPTIONS.alarmLevel;
    const level = thresholdChange(instruction, current);
    if (level === null) return null;
    if (!row) return "This card's series has no detector state yet, so its threshold cannot be changed.";
    await db
      .update(agentStates)
      .set({
        state: sql`jsonb_set(${agentStates.state}, '{alarmLevel}', ${JSON.stringify(level)}::jsonb)`,
        version: sql`${agentStates.version} + 1`,
        updatedAt: now,
      })
      .where(key);
    const name = series.replace(/^metric:/, "").replace(/\{\}$/, "");
    return `Done: ${name} now opens a card at an anomaly score of ${level} (was ${current}). This card stays for you to decide.`;
  }

  /** Tokens follow-ups used since midnight UTC, against OPENAI_DAILY_TOKENS (0: no limit). */
  private async overDailyBudget(now: Date): Promise<boolean> {
    const budget = this.config.OPENAI_DAILY_TOKENS;
    if (!budget) return false;
    const [row] = await this.database.db
      .select({ used: sql<number>`coalesce(sum(${followUps.tokens}), 0)::int` })
      .from(followUps)
      .where(gte(followUps.updatedAt, startOfUtcDay(now)));
    return Number(row?.used ?? 0) >= budget;
  }

  private finish(id: string, reply: string | null, revisionCardId: string | null, tokens: number) {
    return this.save(id, {
      state: "done",
      reply,
      revisionCardId,
      tokens: sql`${followUps.tokens} + ${tokens}` as unknown as number,
      leaseUntil: null,
      lastError: null,
    });
  }
}
