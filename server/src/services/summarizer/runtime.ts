import { and, desc, eq, isNull, lt, ne, or, sql } from "drizzle-orm";
import type OpenAI from "openai";
import { agentStates, cards } from "../../db/schema/index.ts";
import { summarizeWithModel } from "../../llm/openai.ts";
import { appendCardEvents } from "../cards/events.ts";
import { toCard } from "../cards/read.ts";
import { FIXER } from "../fixer/runtime.ts";
import { agentTokensToday, ModelWorker } from "../model-worker.ts";

export const SUMMARIZER = "summarizer";
/** A card its agent has rewritten since is summarized again, at most this often. */
const RESUMMARIZE_MS = 60 * 60_000;

export interface SummaryState {
  status: "working" | "done" | "failed" | "skipped";
  /** The card's version after the summary was written (or when it failed). */
  version: number;
  tokens?: number;
  /** The agent's own wording, kept beside the model's. */
  template?: { title: string; summary: string };
  error?: string;
}

/**
 * The Summarizer: when a model is configured, every pending card from the built-in agents gets a
 * one-line claim and a short why written from its evidence (the agents' deterministic templates
 * stand otherwise, and stay in agent_state beside the model's words). Cards the Fixer wrote and
 * revisions a person asked for keep their own words. A card is summarized once, and again at most
 * hourly when its agent has rewritten it; the card's version guards against overwriting newer
 * evidence. Tokens are kept per card in agent_state for accounting and SUMMARIZER_DAILY_TOKENS.
 */
export class SummarizerRuntime extends ModelWorker {
  protected readonly what = "summarizer";

  get enabled(): boolean {
    return Boolean(this.client && this.config.SUMMARIZER);
  }

  /** Summarizes the highest-ranked card that needs it; null when none does (or no budget). */
  async runNext(): Promise<{ cardId: string; state: SummaryState } | null> {
    if (!this.client || !this.config.SUMMARIZER) return null;
    const db = this.database.db;
    const now = this.clock.now();
    const budget = this.config.SUMMARIZER_DAILY_TOKENS;
    if (budget && (await agentTokensToday(db, SUMMARIZER, now)) >= budget) return null;
    const stale = new Date(now.getTime() - RESUMMARIZE_MS);
    const mine = and(eq(agentStates.agent, SUMMARIZER), eq(agentStates.key, cards.id));
    const candidates = await db
      .select({ card: cards })
      .from(cards)
      .leftJoin(agentStates, mine)
      .where(
        and(
          eq(cards.status, "pending"),
          ne(cards.agent, FIXER),
          isNull(cards.supersedes),
          or(
            isNull(agentStates.key),
            and(
              sql`(${agentStates.state}->>'version')::int < ${cards.version}`,
              lt(agentStates.updatedAt, stale),
            ),
          ),
        ),
      )
      .orderBy(desc(cards.priority), desc(cards.updatedAt))
      .limit(5);
    for (const { card } of candidates) {
      // Claim: a new row, or a stale one taken over in the same statement; another process loses.
      const working: SummaryState = { status: "working", version: card.version };
      const claimed = await db
        .insert(agentStates)
        .values({ agent: SUMMARIZER, key: card.id, state: working, updatedAt: now })
        .onConflictDoUpdate({
          target: [agentStates.agent, agentStates.key],
          set: { state: working, version: sql`${agentStates.version} + 1`, updatedAt: now },
          setWhere: lt(agentStates.updatedAt, stale),
        })
        .returning({ key: agentStates.key });
      if (claimed.length === 0) continue;
      return { cardId: card.id, state: await this.summarize(card) };
    }
    return null;
  }

  private async summarize(row: typeof cards.$inferSelect): Promise<SummaryState> {
    let summary: { claim: string; why: string; tokens: number };
    try {
      summary = await summarizeWithModel(this.client as OpenAI, this.config.OPENAI_MODEL, toCard(row));
    } catch (err) {
      const error = (err as Error).message.slice(0, 500);
      this.logger.warn({ card: row.id, error }, "summarizer: no summary");
      return this.record(row.id, { status: "failed", version: row.version, error });
    }
    const now = this.clock.now();
    const written = await this.database.db.transaction(async (tx) => {
      const [locked] = await tx.select().from(cards).where(eq(cards.id, row.id)).for("update");
      // Newer evidence arrived while the model was writing: its summary would describe old data.
      if (locked?.status !== "pending" || locked.version !== row.version) return null;
      const version = locked.version + 1;
      await tx
        .update(cards)
        .set({ title: summary.claim, summary: summary.why, version, updatedAt: now })
        .where(eq(cards.id, locked.id));
      await appendCardEvents(tx, [{ cardId: locked.id, type: "card.updated", version }], now);
      return version;
    });
    return this.record(row.id, {
      status: written === null ? "skipped" : "done",
      version: written ?? row.version,
      tokens: summary.tokens,
      template: { title: row.title, summary: row.summary },
    });
  }

  private async record(cardId: string, state: SummaryState): Promise<SummaryState> {
    await this.database.db
      .update(agentStates)
      .set({ state, updatedAt: this.clock.now() })
      .where(and(eq(agentStates.agent, SUMMARIZER), eq(agentStates.key, cardId)));
    return state;
  }
}
