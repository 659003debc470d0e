import { and, eq, inArray, like, sql } from "drizzle-orm";
import { DEMO_STATE_PREFIX } from "../../agents/state.ts";
import type { Database } from "../../db/client.ts";
import { agentStates, cards, mutes, sources } from "../../db/schema/index.ts";
import { ingestModules, sentryStore } from "../../ingest/index.ts";
import type { IngestModule, IngestRequest, SourceRow } from "../../ingest/types.ts";
import { hmacSha256 } from "../../lib/crypto.ts";
import { demoCardSql } from "../cards/demo.ts";
import { appendCardEvents } from "../cards/events.ts";
import { mutedBy } from "../cards/set-aside.ts";
import { ingestSignals } from "../signals/ingest.ts";
import type { SignalWriter } from "../signals/writer.ts";
import { createSource } from "../sources/manage.ts";
import { SAMPLE_SOURCES, type SampleDelivery, type SampleSourceKey, sampleDeliveries } from "./samples.ts";

export interface SampleReplay {
  /** False when every sample was stored before: nothing new was sent. */
  loaded: boolean;
  /** The demo sources' names. */
  sources: string[];
  /** Signals stored by this call. */
  signals: number;
}

/**
 * "Replay sample signals": makes the demo sources (marked demo, so their cards' accepts only
 * rehearse; all four or none) and sends them the sample deliveries through each source's own
 * ingest module — the signature, key or bearer check and the parsing a real sender's request
 * gets — then the agents read them like any others. The samples' times end when the demo sources
 * were made, and every sample has a fixed id, so calling again (or after an interruption) stores
 * only what is missing: the feed never gets the same story twice.
 */
export async function replaySampleSignals(
  db: Database,
  writer: SignalWriter,
  now: Date,
): Promise<SampleReplay> {
  const made = await db.transaction(async (tx) => {
    const existing = await tx.select().from(sources).where(eq(sources.demo, true));
    const out = {} as Record<SampleSourceKey, SourceRow>;
    for (const key of Object.keys(SAMPLE_SOURCES) as SampleSourceKey[]) {
      const s = SAMPLE_SOURCES[key];
      out[key] =
        existing.find((row) => row.name === s.name) ??
        (await createSource(tx, { kind: s.kind, name: s.name, settings: s.settings, now, demo: true }));
    }
    return out;
  });
  const anchor = Math.min(...Object.values(made).map((s) => s.createdAt.getTime()));
  let stored = 0;
  for (const [i, delivery] of sampleDeliveries(anchor).entries()) {
    const source = made[delivery.source];
    const { module, req } = request(source, delivery, i);
    stored += (await ingestSignals(writer, source, module, req)).accepted;
  }
  return { loaded: stored > 0, sources: Object.values(made).map((s) => s.name), signals: stored };
}

/** The request the source's real sender would make. */
function request(
  source: SourceRow,
  d: SampleDelivery,
  index: number,
): { module: IngestModule; req: IngestRequest } {
  const body = new TextEncoder().encode(JSON.stringify(d.body));
  const headers = new Headers({ "content-type": "application/json" });
  let module = ingestModules[source.kind];
  if (d.source === "github") {
    headers.set("x-github-event", d.event);
    headers.set("x-github-delivery", `sample-${index}`);
    headers.set("x-hub-signature-256", `sha256=${hmacSha256(source.secret, body)}`);
  } else if (d.source === "sentry") {
    module = sentryStore;
    headers.set("x-sentry-auth", `Sentry sentry_version=7, sentry_key=${source.secret}`);
  } else {
    headers.set("authorization", `Bearer ${source.secret}`);
  }
  return { module, req: { headers, body, query: new URLSearchParams() } };
}

export interface DemoRemoval {
  /** Demo sources deleted, with their signals. */
  sources: number;
  /** Demo cards waiting for a decision, withdrawn (decided ones stay in the history). */
  cards: number;
}

/**
 * "Remove demo data": deletes the demo sources (their signals go with them) and what the agents
 * learned from them, and withdraws every demo card still waiting for a decision — the hand-written
 * samples and the agents' cards made from sample signals — in one transaction. Decided demo cards
 * stay, with their decisions: the audit log is never rewritten. Open feeds drop the withdrawn
 * cards at once (card events).
 */
export async function removeDemoData(db: Database, now: Date): Promise<DemoRemoval> {
  return db.transaction(async (tx) => {
    const gone = await tx.delete(sources).where(eq(sources.demo, true)).returning({ id: sources.id });
    // What the agents learned from the samples, kept apart from the team's: forgotten, so a later
    // replay tells the same stories again.
    await tx.delete(agentStates).where(like(agentStates.agent, `${DEMO_STATE_PREFIX}%`));
    // A demo card someone rejected muted its fingerprints for the team; those mutes go with it, or
    // the next replay's cards would be dropped as muted. A mute is the reject's own when it was
    // made at the card's decision, for the fingerprints that reject muted.
    const rejected = await tx
      .select({ fingerprint: cards.fingerprint, evidence: cards.evidence, decidedAt: cards.decidedAt })
      .from(cards)
      .where(and(eq(cards.status, "rejected"), demoCardSql));
    for (const card of rejected) {
      if (!card.decidedAt) continue;
      await tx
        .delete(mutes)
        .where(and(inArray(mutes.fingerprint, mutedBy(card)), eq(mutes.createdAt, card.decidedAt)));
    }
    const waiting = await tx
      .update(cards)
      .set({ status: "expired", version: sql`${cards.version} + 1`, updatedAt: now })
      .where(and(inArray(cards.status, ["pending", "snoozed"]), demoCardSql))
      .returning({ id: cards.id, version: cards.version });
    await appendCardEvents(
      tx,
      waiting.map((c) => ({ cardId: c.id, type: "card.removed", version: c.version })),
      now,
    );
    return { sources: gone.length, cards: waiting.length };
  });
}
