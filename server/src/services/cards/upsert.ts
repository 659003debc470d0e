import { and, desc, eq, gt, inArray, isNull, or } from "drizzle-orm";
import type { CardUpsert } from "../../agents/define.ts";
import type { Tx } from "../../db/client.ts";
import { cards, mutes } from "../../db/schema/index.ts";
import { newId } from "../../lib/ids.ts";
import { appendCardEvents, type NewCardEvent } from "./events.ts";

const MAX_SIGNAL_IDS = 100;
const MAX_LINKS = 20;

interface StoredEvidence {
  signalIds: string[];
  count: number;
  firstSeen: string;
  lastSeen: string;
  links: { label: string; url: string }[];
  facts: Record<string, string | number | boolean>;
}

function clampPriority(p: number): number {
  return Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 0;
}

function mergeEvidence(old: StoredEvidence | null, u: CardUpsert["evidence"]): StoredEvidence {
  const known = new Set(old?.signalIds ?? []);
  const fresh = u.signalIds.filter((id) => !known.has(id));
  const links = [...(old?.links ?? [])];
  for (const link of u.links ?? []) if (!links.some((l) => l.url === link.url)) links.push(link);
  const first = old && new Date(old.firstSeen) < u.firstSeen ? old.firstSeen : u.firstSeen.toISOString();
  const last = old && new Date(old.lastSeen) > u.lastSeen ? old.lastSeen : u.lastSeen.toISOString();
  return {
    signalIds: [...(old?.signalIds ?? []), ...fresh].slice(-MAX_SIGNAL_IDS),
    count: (old?.count ?? 0) + fresh.length,
    firstSeen: first,
    lastSeen: last,
    links: links.slice(0, MAX_LINKS),
    facts: { ...(old?.facts ?? {}), ...(u.facts ?? {}) },
  };
}

export interface UpsertOutcome {
  created: number;
  updated: number;
  muted: number;
  dropped: number;
}

/**
 * Writes agents' proposals: one open card per fingerprint gets updated (evidence merged, version
 * up, a snoozed card woken); a muted fingerprint makes nothing; a decided fingerprint opens a new
 * card only when the agent says the situation is new. Runs inside the caller's transaction.
 */
export type AgentUpsert = CardUpsert & { agent: string };

export async function applyCardUpserts(tx: Tx, upserts: AgentUpsert[], now: Date): Promise<UpsertOutcome> {
  const outcome: UpsertOutcome = { created: 0, updated: 0, muted: 0, dropped: 0 };
  if (upserts.length === 0) return outcome;
  const fingerprints = [...new Set(upserts.map((u) => u.fingerprint))];

  const activeMutes = await tx
    .select({ fingerprint: mutes.fingerprint })
    .from(mutes)
    .where(and(inArray(mutes.fingerprint, fingerprints), gt(mutes.until, now), isNull(mutes.userId)));
  const muted = new Set(activeMutes.map((m) => m.fingerprint));

  const events: NewCardEvent[] = [];
  for (const u of upserts) {
    if (muted.has(u.fingerprint)) {
      outcome.muted++;
      continue;
    }
    const [open] = await tx
      .select()
      .from(cards)
      .where(
        and(
          eq(cards.fingerprint, u.fingerprint),
          or(eq(cards.status, "pending"), eq(cards.status, "snoozed")),
        ),
      )
      .limit(1)
      .for("update");
    if (open) {
      const version = open.version + 1;
      await tx
        .update(cards)
        .set({
          agent: u.agent,
          kind: u.kind,
          title: u.title,
          summary: u.summary ?? open.summary,
          priority: clampPriority(u.priority),
          priorityFactors: u.priorityFactors ?? open.priorityFactors,
          preview: u.preview === undefined ? open.preview : u.preview,
          change: u.change === undefined ? open.change : u.change,
          evidence: mergeEvidence(open.evidence as StoredEvidence, u.evidence),
          verification: u.verification ?? open.verification,
          // New evidence wakes a snoozed card.
          status: "pending",
          snoozedUntil: null,
          version,
          updatedAt: now,
        })
        .where(eq(cards.id, open.id));
      events.push({
        cardId: open.id,
        type: open.status === "snoozed" ? "card.created" : "card.updated",
        version,
      });
      outcome.updated++;
      continue;
    }
    if (!u.reopen) {
      const [decided] = await tx
        .select({ id: cards.id })
        .from(cards)
        .where(eq(cards.fingerprint, u.fingerprint))
        .orderBy(desc(cards.createdAt))
        .limit(1);
      if (decided) {
        outcome.dropped++;
        continue;
      }
    }
    const id = newId("card", now.getTime());
    await tx.insert(cards).values({
      id,
      agent: u.agent,
      fingerprint: u.fingerprint,
      kind: u.kind,
      title: u.title,
      summary: u.summary ?? "",
      priority: clampPriority(u.priority),
      priorityFactors: u.priorityFactors ?? {},
      preview: u.preview ?? null,
      change: u.change ?? null,
      evidence: mergeEvidence(null, u.evidence),
      verification: u.verification ?? [],
      status: "pending",
      version: 1,
      createdAt: now,
      updatedAt: now,
    });
    events.push({ cardId: id, type: "card.created", version: 1 });
    outcome.created++;
  }
  await appendCardEvents(tx, events, now);
  return outcome;
}
