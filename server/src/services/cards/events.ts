import type { CardEventType } from "@flick/shared";
import { lt, sql } from "drizzle-orm";
import type { Queryable, Tx } from "../../db/client.ts";
import { cardEvents } from "../../db/schema/index.ts";

export const CARDS_CHANNEL = "flick_cards";
/** Serialises event-id assignment with commit order; see cardEvents in the schema. */
const CARD_EVENTS_LOCK = 0x63617264; // "card"

export interface NewCardEvent {
  cardId: string;
  type: CardEventType;
  version: number;
}

/** Appends card events inside the caller's transaction; listeners are told on commit. */
export async function appendCardEvents(tx: Tx, events: NewCardEvent[], now: Date): Promise<void> {
  if (events.length === 0) return;
  await tx.execute(sql`select pg_advisory_xact_lock(${CARD_EVENTS_LOCK})`);
  await tx.insert(cardEvents).values(events.map((e) => ({ ...e, createdAt: now })));
  await tx.execute(sql`select pg_notify(${CARDS_CHANNEL}, '')`);
}

/** Live clients can resume from events up to a week old; older ones reload the feed instead. */
export async function pruneCardEvents(db: Queryable, now: Date): Promise<void> {
  await db.delete(cardEvents).where(lt(cardEvents.createdAt, new Date(now.getTime() - 7 * 86400_000)));
}
