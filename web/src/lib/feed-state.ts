import type { Card, CardEvent, CardStatus } from "@flick/shared";

/** The feed as the phone shows it: ranked cards, plus new arrivals held above until asked for. */
export interface FeedState {
  cards: Card[];
  /** Cards that arrived live while the person was looking at another one ("3 new" pill). */
  incoming: Card[];
  /** Cards decided on this device and waiting for the server (optimistic removal). */
  hidden: string[];
  /** Cards a follow-up was sent for, waiting for the agent's revised version. */
  revising: string[];
}

export const emptyFeed: FeedState = { cards: [], incoming: [], hidden: [], revising: [] };

export function rank(a: Card, b: Card): number {
  return b.priority - a.priority || b.updatedAt.localeCompare(a.updatedAt) || b.id.localeCompare(a.id);
}

const without = (cards: Card[], id: string) => cards.filter((c) => c.id !== id);

/**
 * Applies one live event. Updates replace a card in place (never moving the one under the
 * finger); new cards wait in `incoming`; removals drop the card. Events older than what is shown
 * (a lower version) are ignored, so a replayed or reordered event cannot roll a card back.
 */
export function applyCardEvent(state: FeedState, event: CardEvent): FeedState {
  const shown =
    state.cards.find((c) => c.id === event.cardId) ?? state.incoming.find((c) => c.id === event.cardId);
  if (shown && shown.version >= event.version && event.type !== "card.removed") return state;
  if (event.type === "card.removed" || !event.card || event.card.status !== "pending") {
    if (shown && shown.version > event.version) return state;
    return {
      ...state,
      cards: without(state.cards, event.cardId),
      incoming: without(state.incoming, event.cardId),
    };
  }
  const card = event.card;
  // The revision someone asked for: it takes the old card's place at the top, not the pill.
  if (card.supersedes && state.revising.includes(card.supersedes)) {
    const rest = state.cards.filter((c) => c.id !== card.id && c.id !== card.supersedes);
    return {
      ...state,
      cards: [card, ...rest],
      incoming: without(without(state.incoming, card.id), card.supersedes),
      revising: state.revising.filter((id) => id !== card.supersedes),
    };
  }
  if (state.cards.some((c) => c.id === card.id)) {
    return { ...state, cards: state.cards.map((c) => (c.id === card.id ? card : c)) };
  }
  // Nothing on screen to keep steady: show it at once.
  if (visibleCards(state).length === 0)
    return { ...state, cards: [card], incoming: without(state.incoming, card.id) };
  return { ...state, incoming: [card, ...without(state.incoming, card.id)].sort(rank) };
}

/**
 * Applies one live event to a list fetched for looking back (the cards in one state, newest
 * first): a card shown takes its newer version while it stays in that state (a carried-out card
 * told what came of it) and leaves once it moves on; a card coming into that state joins at the
 * top when `joins` — not when the list is narrowed in a way the event cannot tell (by source).
 */
export function applyBrowsedEvent(
  cards: Card[],
  event: CardEvent,
  status: CardStatus,
  joins: boolean,
): Card[] {
  const shown = cards.find((c) => c.id === event.cardId);
  if (shown && shown.version > event.version) return cards;
  if (event.type === "card.removed" || !event.card || event.card.status !== status)
    return shown ? without(cards, event.cardId) : cards;
  const card = event.card;
  if (shown) return shown.version === card.version ? cards : cards.map((c) => (c.id === card.id ? card : c));
  return joins ? [card, ...cards] : cards;
}

/** The "N new" pill was tapped: arrivals join the feed in rank order. */
export function showIncoming(state: FeedState): FeedState {
  const ids = new Set(state.incoming.map((c) => c.id));
  return {
    ...state,
    cards: [...state.incoming, ...state.cards.filter((c) => !ids.has(c.id))].sort(rank),
    incoming: [],
  };
}

/** A page from GET /api/feed; the first page replaces, later ones append. */
export function loadPage(state: FeedState, cards: Card[], replace: boolean): FeedState {
  const base = replace ? [] : state.cards;
  const seen = new Set(base.map((c) => c.id));
  return {
    ...state,
    cards: [...base, ...cards.filter((c) => !seen.has(c.id))],
    incoming: replace ? [] : state.incoming,
  };
}

/** Decided here: gone from view at once, remembered in case the server says no. */
export function hideCard(state: FeedState, id: string): FeedState {
  return { ...state, hidden: [...state.hidden, id] };
}

/** The server refused (409) or the person pressed undo: the card comes back where it was. */
export function restoreCard(state: FeedState, card: Card): FeedState {
  const cards = state.cards.some((c) => c.id === card.id)
    ? state.cards.map((c) => (c.id === card.id ? card : c))
    : [...state.cards, card].sort(rank);
  return { ...state, cards, hidden: state.hidden.filter((h) => h !== card.id) };
}

/** Decided for good (elsewhere, or sent from the offline queue): the card leaves for good. */
export function dropCard(state: FeedState, id: string): FeedState {
  return { ...state, cards: without(state.cards, id), hidden: state.hidden.filter((h) => h !== id) };
}

export function visibleCards(state: FeedState): Card[] {
  return state.cards.filter((c) => !state.hidden.includes(c.id));
}

/** A follow-up was sent for this card: it shows "revising…" until the new version arrives. */
export function startRevising(state: FeedState, id: string): FeedState {
  return state.revising.includes(id) ? state : { ...state, revising: [...state.revising, id] };
}

/** The follow-up ended without a revision (snoozed, answered, failed). */
export function stopRevising(state: FeedState, id: string): FeedState {
  return { ...state, revising: state.revising.filter((r) => r !== id) };
}
