import { and, eq, inArray, like, lt, sql } from "drizzle-orm";
import type { Queryable, Tx } from "../db/client.ts";
import { agentStates } from "../db/schema/index.ts";
import { storableText } from "../lib/storable-text.ts";

interface Entry {
  value: unknown;
  /** The stored version when read; null when the key had no row; undefined when never read (a blind write). */
  version: number | null | undefined;
  dirty: boolean;
}

/** Another worker wrote the same agent state meanwhile; the batch is retried later. */
export class StateConflict extends Error {
  override name = "StateConflict";
}

const full = (agent: string, key: string) => `${agent}\u0000${key}`;

/**
 * Agent state for one batch: reads go to the database once per key, writes are buffered and
 * committed with the batch's card writes (optimistic: a version check per key).
 */
export class BatchState {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly db: Queryable) {}

  async load(agent: string, keys: string[]): Promise<void> {
    const missing = [...new Set(keys)].filter((k) => !this.entries.has(full(agent, k)));
    if (missing.length === 0) return;
    for (let i = 0; i < missing.length; i += 500) {
      const chunk = missing.slice(i, i + 500);
      const rows = await this.db
        .select({ key: agentStates.key, state: agentStates.state, version: agentStates.version })
        .from(agentStates)
        .where(and(eq(agentStates.agent, agent), inArray(agentStates.key, chunk)));
      const found = new Map(rows.map((r) => [r.key, r]));
      for (const k of chunk) {
        const r = found.get(k);
        this.entries.set(full(agent, k), { value: r?.state, version: r?.version ?? null, dirty: false });
      }
    }
  }

  peek<T>(agent: string, key: string): T | undefined {
    return this.entries.get(full(agent, key))?.value as T | undefined;
  }

  /** Applies a run's writes (only once the agent's run succeeded). */
  apply(agent: string, writes: Map<string, unknown>): void {
    for (const [key, value] of writes) {
      const e = this.entries.get(full(agent, key));
      this.entries.set(full(agent, key), { value, version: e ? e.version : undefined, dirty: true });
    }
  }

  /** Whether anything was written (so there is something to commit). */
  changed(): boolean {
    for (const e of this.entries.values()) if (e.dirty) return true;
    return false;
  }

  /** Writes every changed key inside the batch's transaction; a version mismatch aborts it. */
  async commit(tx: Tx, now: Date): Promise<void> {
    for (const [id, e] of this.entries) {
      if (!e.dirty) continue;
      const [agent, key] = id.split("\u0000") as [string, string];
      // Text an agent kept from outside (a GitHub title, a log line) may hold what jsonb refuses.
      const value = storableText(e.value);
      if (e.version === undefined) {
        // Written without being read: the last writer wins.
        await tx
          .insert(agentStates)
          .values({ agent, key, state: value, version: 1, updatedAt: now })
          .onConflictDoUpdate({
            target: [agentStates.agent, agentStates.key],
            set: { state: value, version: sql`${agentStates.version} + 1`, updatedAt: now },
          });
      } else if (e.version === null) {
        const inserted = await tx
          .insert(agentStates)
          .values({ agent, key, state: value, version: 1, updatedAt: now })
          .onConflictDoNothing()
          .returning({ key: agentStates.key });
        if (inserted.length === 0)
          throw new StateConflict(`agent ${agent} state "${key}" was created meanwhile`);
      } else {
        const updated = await tx
          .update(agentStates)
          .set({ state: value, version: sql`${agentStates.version} + 1`, updatedAt: now })
          .where(
            and(eq(agentStates.agent, agent), eq(agentStates.key, key), eq(agentStates.version, e.version)),
          )
          .returning({ key: agentStates.key });
        if (updated.length === 0) throw new StateConflict(`agent ${agent} state "${key}" changed meanwhile`);
      }
    }
  }

  /** After a commit the stored versions moved on; a retry of the same batch must re-read. */
  clear(): void {
    this.entries.clear();
  }
}

/**
 * Where the agents keep what they learn from demo sources' sample signals: apart from what they
 * learn from a team's own ("demo:metrics" beside "metrics"), so a sample deploy never takes the
 * blame for a real error, a sample series never teaches a real one's detector, and removing the
 * demo data forgets it all.
 */
export const DEMO_STATE_PREFIX = "demo:";

/** The name an agent's state is stored under: apart for what it learns from sample signals. */
export function stateAgent(agent: string, demo: boolean): string {
  return demo ? `${DEMO_STATE_PREFIX}${agent}` : agent;
}

/** The view one agent run has: its own keys, buffered, and read-only access to other agents'. */
export class RunState {
  readonly writes = new Map<string, unknown>();
  /** The name its state is stored under (see stateAgent). */
  readonly agent: string;

  constructor(
    private readonly batch: BatchState,
    agent: string,
    /** A run on sample signals: every agent's state it reads or writes is the demo's own. */
    private readonly demo = false,
  ) {
    this.agent = stateAgent(agent, demo);
  }

  async load(keys: string[]): Promise<void> {
    await this.batch.load(this.agent, keys);
  }

  /** The stored value (call `load` first for many keys at once; `get` loads one itself). */
  async get<T>(key: string): Promise<T | undefined> {
    if (this.writes.has(key)) return this.writes.get(key) as T;
    await this.batch.load(this.agent, [key]);
    return this.batch.peek<T>(this.agent, key);
  }

  set(key: string, value: unknown): void {
    this.writes.set(key, value);
  }

  /** Another agent's state as committed or written earlier in this batch. */
  async peek<T>(agent: string, key: string): Promise<T | undefined> {
    const spaced = stateAgent(agent, this.demo);
    await this.batch.load(spaced, [key]);
    return this.batch.peek<T>(spaced, key);
  }

  /** Several of another agent's keys, read together (one query per 500). */
  async peekAll<T>(agent: string, keys: string[]): Promise<(T | undefined)[]> {
    const spaced = stateAgent(agent, this.demo);
    await this.batch.load(spaced, keys);
    return keys.map((k) => this.batch.peek<T>(spaced, k));
  }
}

/**
 * A metric series that has sent nothing for this long is forgotten: its detector (the state the
 * metrics agent writes with each batch of its points) and its calm copy. A deploy that replaces
 * pods starts new series each time, and the old ones' states — tens of kilobytes each, the day of
 * points a detector remembers — would otherwise stay forever. A series that comes back after it
 * starts learning again.
 */
export const SERIES_FORGOTTEN_DAYS = 30;

/** Deletes the states of metric series gone SERIES_FORGOTTEN_DAYS (see there); returns how many. */
export async function pruneGoneSeries(db: Queryable, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - SERIES_FORGOTTEN_DAYS * 86_400_000);
  const agents = ["metrics", stateAgent("metrics", true)];
  const gone = await db
    .delete(agentStates)
    .where(
      and(
        inArray(agentStates.agent, agents),
        like(agentStates.key, "metric:%"),
        lt(agentStates.updatedAt, cutoff),
      ),
    )
    .returning({ key: agentStates.key });
  // Calm copies ("calm:<series>") whose series is gone, these or any left before.
  await db.execute(sql`
    delete from ${agentStates} c
    where c.agent in (${sql.join(
      agents.map((a) => sql`${a}`),
      sql`, `,
    )}) and c.key like 'calm:%'
      and not exists (
        select 1 from ${agentStates} m where m.agent = c.agent and m.key = substr(c.key, 6)
      )`);
  return gone.length;
}
