import { and, desc, eq, inArray, lt, not, notExists, type SQL, sql } from "drizzle-orm";
import type OpenAI from "openai";
import { agentStates, cards } from "../../db/schema/index.ts";
import { runGit } from "../../lib/git.ts";
import { newId } from "../../lib/ids.ts";
import { storableText } from "../../lib/storable-text.ts";
import { type FixResult, proposeFix } from "../../llm/fixer.ts";
import { appendCardEvents } from "../cards/events.ts";
import { agentTokensToday, ModelWorker } from "../model-worker.ts";

export const FIXER = "fixer";
/** A claim older than this belonged to a process that died; the card is tried again. */
const STALE_MS = 30 * 60_000;
/**
 * A try whose model call failed (the model server down, timing out, answering nonsense) is made
 * again this long after, up to FIXER_TRIES tries in all: an outage of an hour does not leave every
 * card of that hour unfixed for good.
 */
const RETRY_FAILED_MS = 60 * 60_000;
const FIXER_TRIES = 3;

export interface FixerState {
  /** skipped: the card is about another repository than FIXER_REPOSITORY (see aboutOther). */
  status: "working" | "verified" | "unverified" | "gave_up" | "failed" | "dropped" | "skipped";
  cardId: string;
  fixCardId?: string;
  tokens?: number;
  proposals?: number;
  error?: string;
  /** Tries made (absent: one). */
  tries?: number;
}

/** Lines added and removed per file, for the card's preview. */
export function diffStat(diff: string): { path: string; added: number; removed: number }[] {
  const files: { path: string; added: number; removed: number }[] = [];
  let current: { path: string; added: number; removed: number } | undefined;
  for (const line of diff.split("\n")) {
    const header = /^\+\+\+ (?:b\/)?(.+)$/.exec(line);
    if (header) {
      current = { path: header[1] as string, added: 0, removed: 0 };
      files.push(current);
    } else if (current && line.startsWith("+")) current.added++;
    else if (current && line.startsWith("-") && !line.startsWith("--- ")) current.removed++;
  }
  return files;
}

/** The GitHub repository a card is about, when it names one: its change's, or a CI card's. */
export function githubRepositoryOf(card: { fingerprint: string; change: unknown }): string | undefined {
  const change = card.change as { type?: string; repository?: unknown } | null;
  if (change?.type === "github" && typeof change.repository === "string") return change.repository;
  return /^ci:([^/:]+\/[^/:]+):/.exec(card.fingerprint)?.[1];
}

/** "owner/name" of each git remote's address (GitHub's, GitHub Enterprise's, any host's), lower case. */
export function remoteRepositories(remotes: string): string[] {
  return remotes
    .split("\n")
    .flatMap((line) => {
      const m = /([^/:\s]+)\/([^/:\s]+?)(?:\.git)?\/?$/.exec(line.trim());
      return m ? [`${m[1]}/${m[2]}`.toLowerCase()] : [];
    })
    .filter((r, i, all) => all.indexOf(r) === i);
}

/**
 * The Fixer: for each pending card of the configured agents (error groups, CI failures) it asks a
 * model, through read-only tools over FIXER_REPOSITORY, for a patch, and verifies every proposal in
 * a scratch worktree with FIXER_TEST_COMMAND before anyone sees it (see proposeFix). A verified fix
 * replaces the card it fixes (which stays in its history); one that never passed is shown beside it,
 * ranked lower and marked unverified with what failed. Each card is tried once (claimed in
 * agent_state under "fixer", keyed by the card's fingerprint, so processes never both try it) — a
 * try whose model call failed again an hour later, three tries at most; a card about another GitHub
 * repository than the checkout's (its remotes; without one, a repository named like
 * FIXER_REPOSITORY) is marked skipped, no model asked. Tokens are kept there for accounting and the
 * daily budget. Nothing is changed in any repository:
 * the patch runs only when a person accepts the card.
 */
export class FixerRuntime extends ModelWorker {
  protected readonly what = "fixer";

  /** Whether there is anything to do: a model and a repository to fix. */
  get enabled(): boolean {
    return Boolean(this.client && this.repoDir);
  }

  private get repoDir(): string | undefined {
    const name = this.config.FIXER_REPOSITORY;
    return name ? this.config.GIT_REPOS?.[name] : undefined;
  }

  private remotes: Promise<string[]> | undefined;
  /**
   * Why the Fixer leaves a card alone: it names a GitHub repository that is not the checkout's — not
   * among its remotes' addresses, or (a checkout with none) not named as FIXER_REPOSITORY is, in full
   * or after the owner ("shop" for acme/shop). Undefined when the card is for it, or names none.
   */
  private async aboutOther(card: typeof cards.$inferSelect, repoDir: string, name: string) {
    const named = githubRepositoryOf(card);
    if (!named) return undefined;
    this.remotes ??= runGit(repoDir, ["config", "--get-regexp", "^remote\\..*\\.url$"], { inheritEnv: false })
      .then(remoteRepositories)
      .catch(() => []);
    const remotes = await this.remotes;
    const lower = named.toLowerCase();
    const ours = remotes.length
      ? remotes.includes(lower)
      : [lower, lower.split("/")[1]].includes(name.toLowerCase());
    if (ours) return undefined;
    return `the card is about ${named}; the Fixer works on ${name}${remotes.length ? ` (${remotes.join(", ")})` : ""}`;
  }

  /** Tries to fix the highest-ranked card not tried yet; null when there is none (or no budget). */
  async runNext(): Promise<FixerState | null> {
    const repoDir = this.repoDir;
    const repository = this.config.FIXER_REPOSITORY;
    if (!this.client || !repoDir || !repository) return null;
    const db = this.database.db;
    const now = this.clock.now();
    const budget = this.config.FIXER_DAILY_TOKENS;
    if (budget && (await agentTokensToday(db, FIXER, now)) >= budget) return null;
    await db
      .delete(agentStates)
      .where(
        and(
          eq(agentStates.agent, FIXER),
          sql`${agentStates.state}->>'status' = 'working'`,
          lt(agentStates.updatedAt, new Date(now.getTime() - STALE_MS)),
        ),
      );
    // A failed try, an hour old, with tries left.
    const again = sql`(${sql.join(
      [
        sql`${agentStates.state}->>'status' = 'failed'`,
        lt(agentStates.updatedAt, new Date(now.getTime() - RETRY_FAILED_MS)),
        sql`coalesce((${agentStates.state}->>'tries')::int, 1) < ${FIXER_TRIES}`,
      ],
      sql` and `,
    )})`;
    const candidates = await db
      .select()
      .from(cards)
      .where(
        and(
          inArray(cards.agent, this.config.FIXER_AGENTS),
          eq(cards.status, "pending"),
          notExists(
            db
              .select({ one: sql`1` })
              .from(agentStates)
              .where(and(eq(agentStates.agent, FIXER), eq(agentStates.key, cards.fingerprint), not(again))),
          ),
        ),
      )
      .orderBy(desc(cards.priority), desc(cards.updatedAt))
      .limit(5);
    for (const card of candidates) {
      const tries = await this.claim(card, again);
      if (tries === 0) continue;
      const other = await this.aboutOther(card, repoDir, repository);
      if (other) {
        await this.record(card.fingerprint, { status: "skipped", cardId: card.id, error: other });
        continue;
      }
      return this.fix(card, repository, repoDir, tries);
    }
    return null;
  }

  /**
   * Claims a card for this process: a first try, or another after a failed one (`again`). Returns
   * which try it is, 0 when another process has it (or it is not to be tried).
   */
  private async claim(card: typeof cards.$inferSelect, again: SQL): Promise<number> {
    const db = this.database.db;
    const now = this.clock.now();
    const first = await db
      .insert(agentStates)
      .values({
        agent: FIXER,
        key: card.fingerprint,
        state: { status: "working", cardId: card.id } satisfies FixerState,
        updatedAt: now,
      })
      .onConflictDoNothing()
      .returning({ key: agentStates.key });
    if (first.length) return 1;
    const [retried] = await db
      .update(agentStates)
      .set({
        state: sql`jsonb_build_object('status', 'working', 'cardId', ${card.id}::text, 'tries', coalesce((${agentStates.state}->>'tries')::int, 1) + 1)`,
        version: sql`${agentStates.version} + 1`,
        updatedAt: now,
      })
      .where(and(eq(agentStates.agent, FIXER), eq(agentStates.key, card.fingerprint), again))
      .returning({ state: agentStates.state });
    return retried ? ((retried.state as FixerState).tries ?? 2) : 0;
  }

  private async fix(
    card: typeof cards.$inferSelect,
    repository: string,
    repoDir: string,
    tries: number,
  ): Promise<FixerState> {
    const tried = tries > 1 ? { tries } : {};
    let result: FixResult;
    try {
      result = await proposeFix(
        this.client as OpenAI,
        {
          model: this.config.FIXER_MODEL ?? this.config.OPENAI_MODEL,
          repoDir,
          testCommand: this.config.FIXER_TEST_COMMAND,
          testTimeoutMs: this.config.FIXER_TEST_TIMEOUT_SECONDS * 1000,
          maxSteps: this.config.FIXER_MAX_STEPS,
          maxProposals: 2,
        },
        { title: card.title, summary: card.summary, evidence: card.evidence },
      );
    } catch (err) {
      const error = (err as Error).message.slice(0, 500);
      this.logger.warn({ card: card.id, error }, "fixer: the model call failed");
      return this.record(card.fingerprint, { status: "failed", cardId: card.id, error, ...tried });
    }
    if (result.status === "gave_up") {
      this.logger.info({ card: card.id, reason: result.reason, tokens: result.tokens }, "fixer gave up");
      return this.record(card.fingerprint, {
        status: "gave_up",
        cardId: card.id,
        error: result.reason,
        tokens: result.tokens,
        proposals: result.proposals,
        ...tried,
      });
    }

    const now = this.clock.now();
    const verified = result.status === "verified";
    const fixCardId = newId("card", now.getTime());
    const made = await this.database.db.transaction(async (tx) => {
      const [source] = await tx.select().from(cards).where(eq(cards.id, card.id)).for("update");
      if (source?.status !== "pending") return false;
      if (verified)
        await tx
          .update(cards)
          .set({ status: "superseded", version: source.version + 1, updatedAt: now })
          .where(eq(cards.id, source.id));
      // The model's words and the test command's output may hold what the database refuses.
      await tx.insert(cards).values(
        storableText({
          id: fixCardId,
          agent: FIXER,
          fingerprint: `fix:${source.fingerprint}`,
          kind: "patch",
          title: `${verified ? "Fix" : "Unverified fix"}: ${source.title}`.slice(0, 200),
          summary: `${result.message}\n\n${
            verified
              ? "The diff applies to HEAD and the tests pass on it."
              : "No proposal passed verification; see what failed before accepting."
          }`,
          priority: verified ? source.priority : Math.round(source.priority * 0.6 * 1000) / 1000,
          priorityFactors: { ...source.priorityFactors, verified: verified ? 1 : 0 },
          preview: { type: "diffstat", files: diffStat(result.diff) },
          change: { type: "patch", repository, diff: result.diff, message: result.message },
          evidence: source.evidence,
          verification: result.checks,
          supersedes: verified ? source.id : null,
          createdAt: now,
          updatedAt: now,
        }),
      );
      await appendCardEvents(
        tx,
        [
          ...(verified
            ? [{ cardId: source.id, type: "card.removed" as const, version: source.version + 1 }]
            : []),
          { cardId: fixCardId, type: "card.created", version: 1 },
        ],
        now,
      );
      return true;
    });
    this.logger.info(
      { card: card.id, fix: made ? fixCardId : null, status: result.status, tokens: result.tokens },
      "fixer proposed a patch",
    );
    return this.record(card.fingerprint, {
      status: made ? result.status : "dropped",
      cardId: card.id,
      ...(made ? { fixCardId } : {}),
      tokens: result.tokens,
      proposals: result.proposals,
      ...tried,
    });
  }

  private async record(key: string, state: FixerState): Promise<FixerState> {
    await this.database.db
      .update(agentStates)
      .set({ state, version: sql`${agentStates.version} + 1`, updatedAt: this.clock.now() })
      .where(and(eq(agentStates.agent, FIXER), eq(agentStates.key, key)));
    return state;
  }
}
