import { and, eq, inArray, sql } from "drizzle-orm";
import { SET_ASIDE_MS } from "../../agents/define.ts";
import type { Tx } from "../../db/client.ts";
import { cards } from "../../db/schema/index.ts";
import type { NewCardEvent } from "./events.ts";

/**
 * A list of fingerprints a card's evidence keeps: the cards it stands for (set aside behind it, see
 * CardUpsert.place), or those whose news it tells (see CardUpsert.evidence.tells); none when absent.
 */
function fingerprintsIn(evidence: unknown, key: "standsFor" | "tells"): string[] {
  const list = (evidence as Record<string, unknown> | null)?.[key];
  return Array.isArray(list) ? list.map(String) : [];
}

/**
 * What rejecting this card mutes: its fingerprint, and those whose news it told instead of cards of
 * their own (see CardUpsert.evidence.tells).
 */
export function mutedBy(card: { fingerprint: string; evidence: unknown }): string[] {
  return [...new Set([card.fingerprint, ...fingerprintsIn(card.evidence, "tells")])];
}

/** The columns of a card back in the feed: awake, it is nobody's card set aside any more. */
export function awake(now: Date) {
  return {
    status: "pending" as const,
    snoozedUntil: null,
    evidence: sql`${cards.evidence} - 'setAside'`,
    updatedAt: now,
  };
}

/**
 * A rejected card's stand-ins are over: the cards it stood for and that are still set aside come
 * back to the feed (one its agent withdrew meanwhile — the alert was fixed — stays withdrawn, and a
 * card a person snoozed stays snoozed).
 */
export async function wakeStoodFor(tx: Tx, evidence: unknown, now: Date): Promise<NewCardEvent[]> {
  const fingerprints = fingerprintsIn(evidence, "standsFor");
  if (fingerprints.length === 0) return [];
  const woken = await tx
    .update(cards)
    .set({ ...awake(now), version: sql`${cards.version} + 1` })
    .where(
      and(
        inArray(cards.fingerprint, fingerprints),
        eq(cards.status, "snoozed"),
        sql`${cards.evidence} @> '{"setAside": true}'::jsonb`,
      ),
    )
    .returning({ id: cards.id, version: cards.version });
  return woken.map((c) => ({ cardId: c.id, type: "card.created", version: c.version }));
}

/**
 * Undoing that reject: the cards it woke (at the reject's very moment, untouched since) are set
 * aside again, as they were before it.
 */
export async function setAsideAgain(
  tx: Tx,
  standIn: { id: string; evidence: unknown },
  rejectedAt: Date,
  now: Date,
): Promise<NewCardEvent[]> {
  const fingerprints = fingerprintsIn(standIn.evidence, "standsFor");
  if (fingerprints.length === 0) return [];
  const rows = await tx
    .update(cards)
    .set({
      status: "snoozed",
      snoozedUntil: new Date(now.getTime() + SET_ASIDE_MS),
      evidence: sql`${cards.evidence} || jsonb_build_object('setAside', true, 'standIn', ${standIn.id}::text)`,
      version: sql`${cards.version} + 1`,
      updatedAt: now,
    })
    .where(
      and(
        inArray(cards.fingerprint, fingerprints),
        eq(cards.status, "pending"),
        eq(cards.updatedAt, rejectedAt),
      ),
    )
    .returning({ id: cards.id, version: cards.version });
  return rows.map((c) => ({ cardId: c.id, type: "card.removed", version: c.version }));
}
