import { and, eq, gte, sql } from "drizzle-orm";
import type OpenAI from "openai";
import type { Config } from "../config.ts";
import type { DatabaseHandle, Queryable } from "../db/client.ts";
import { agentStates } from "../db/schema/index.ts";
import { type Clock, startOfUtcDay } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";
import { llmClient } from "../llm/openai.ts";

/**
 * A background worker backed by a model (when one is configured): it polls for one piece of work
 * at a time (`runNext`, null when there is none) and drains it, never overlapping itself; `stop`
 * waits for the piece in hand. The OpenAI client comes from the config unless one is given.
 */
export abstract class ModelWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  protected readonly client: OpenAI | null;

  constructor(
    protected readonly database: DatabaseHandle,
    protected readonly clock: Clock,
    protected readonly logger: Logger,
    protected readonly config: Config,
    client?: OpenAI | null,
  ) {
    this.client = client === undefined ? llmClient(config) : client;
  }

  /** Names the worker in its log lines. */
  protected abstract readonly what: string;
  abstract get enabled(): boolean;
  abstract runNext(): Promise<unknown | null>;

  /** Where a NOTIFY wakes the worker at once (from any process) instead of at its next poll. */
  protected readonly wakeChannel: string | null = null;
  private again = false;
  private unlisten: (() => Promise<void>) | null = null;

  start(pollMs = 5000): void {
    if (!this.enabled) return;
    this.timer = setInterval(() => this.tick(false), pollMs);
    this.timer.unref();
    if (!this.wakeChannel) return;
    void this.database
      .listen(this.wakeChannel, () => this.tick(true))
      .then((unlisten) => {
        this.unlisten = unlisten;
      })
      .catch((err) => this.logger.warn({ err }, `${this.what}: no wake-ups, polling only`));
  }

  /** Drains unless already draining; a wake-up meanwhile drains once more afterwards. */
  private tick(wake: boolean): void {
    if (this.running) {
      if (wake) this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((err) => this.logger.error({ err }, `${this.what} failed`))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.tick(false);
        }
      });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.unlisten?.().catch(() => {});
    this.again = false;
    await this.running;
  }

  private async drain(): Promise<void> {
    while ((await this.runNext()) !== null) {
      // keep going while work waits
    }
  }
}

/** Model tokens a model-backed agent recorded in agent_state (state.tokens) since midnight UTC. */
export async function agentTokensToday(db: Queryable, agent: string, now: Date): Promise<number> {
  const [row] = await db
    .select({ used: sql<number>`coalesce(sum((${agentStates.state}->>'tokens')::int), 0)::int` })
    .from(agentStates)
    .where(and(eq(agentStates.agent, agent), gte(agentStates.updatedAt, startOfUtcDay(now))));
  return Number(row?.used ?? 0);
}
