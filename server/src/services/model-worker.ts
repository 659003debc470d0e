import { and, eq, gte, sql } from "drizzle-orm";
import type { Queryable } from "../db/client.ts";
import { agentStates } from "../db/schema/index.ts";
import type { Logger } from "../lib/logger.ts";

/**
 * A background worker that polls for one piece of work at a time (`runNext`, null when there is
 * none) and drains it, never overlapping itself; `stop` waits for the piece in hand.
 */
export abstract class PollingWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    protected readonly logger: Logger,
    private readonly what: string,
  ) {}

  abstract get enabled(): boolean;
  abstract runNext(): Promise<unknown | null>;

  start(pollMs = 5000): void {
    if (!this.enabled) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.drain()
        .catch((err) => this.logger.error({ err }, `${this.what} failed`))
        .finally(() => {
          this.running = null;
        });
    }, pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
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
  const midnight = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const [row] = await db
    .select({ used: sql<number>`coalesce(sum((${agentStates.state}->>'tokens')::int), 0)::int` })
    .from(agentStates)
    .where(and(eq(agentStates.agent, agent), gte(agentStates.updatedAt, midnight)));
  return Number(row?.used ?? 0);
}
