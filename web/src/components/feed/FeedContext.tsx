import type { Card, CardEvent, DecisionResult, FeedPage } from "@flick/shared";
import { createContext, createSignal, onCleanup, onMount, type ParentProps, useContext } from "solid-js";
import { createStore, reconcile, unwrap } from "solid-js/store";
import { ApiError, errorMessage } from "../../lib/api.ts";
import {
  applyCardEvent,
  emptyFeed,
  type FeedState,
  hideCard,
  loadPage,
  restoreCard,
  showIncoming,
  visibleCards,
} from "../../lib/feed-state.ts";

export type Verdict = "accept" | "reject" | "snooze";

export interface Toast {
  kind: "undo" | "error" | "info";
  message: string;
  decisionId?: string;
  card?: Card;
  until?: number;
}

interface Feed {
  state: FeedState;
  cards(): Card[];
  loading(): boolean;
  toast(): Toast | null;
  dismissToast(): void;
  decide(card: Card, verdict: Verdict): Promise<void>;
  undo(): Promise<void>;
  showIncoming(): void;
  reload(): Promise<void>;
}

const FeedContext = createContext<Feed>();

function newKey(): string {
  return crypto.randomUUID();
}

async function post<T>(url: string, body: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, null);
  }
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, json);
  return json as T;
}

const vibrate = (pattern: number | number[]) => {
  if ("vibrate" in navigator) navigator.vibrate(pattern);
};

/**
 * The feed's server state: the first page from GET /api/feed, then live events over SSE applied
 * by the pure reducers in lib/feed-state. Decisions are optimistic: the card leaves at once, an
 * undo toast covers the server's undo window, and a 409 brings the card back with the reason.
 */
export function FeedProvider(props: ParentProps) {
  const [state, setState] = createStore<FeedState>({ ...emptyFeed });
  const [loading, setLoading] = createSignal(true);
  const [toast, setToast] = createSignal<Toast | null>(null);
  let toastTimer: ReturnType<typeof setTimeout> | undefined;
  // The reducers are pure; reconcile applies their result as fine-grained updates keyed by card id.
  const update = (f: (s: FeedState) => FeedState) => setState(reconcile(f(unwrap(state)), { key: "id" }));

  const showToast = (t: Toast, ms: number) => {
    clearTimeout(toastTimer);
    setToast(t);
    toastTimer = setTimeout(() => setToast(null), ms);
  };

  const reload = async () => {
    setLoading(true);
    try {
      const res = await fetch("/api/feed?limit=50", { credentials: "same-origin" });
      if (res.ok) {
        const page = (await res.json()) as FeedPage;
        update((s) => loadPage(s, page.cards, true));
      }
    } finally {
      setLoading(false);
    }
  };

  onMount(() => {
    void reload();
    const stream = new EventSource("/api/stream");
    const onEvent = (e: MessageEvent<string>) =>
      update((s) => applyCardEvent(s, JSON.parse(e.data) as CardEvent));
    for (const type of ["card.created", "card.updated", "card.removed"])
      stream.addEventListener(type, onEvent);
    stream.addEventListener("reset", () => void reload());
    onCleanup(() => stream.close());
  });
  onCleanup(() => clearTimeout(toastTimer));

  const feed: Feed = {
    state,
    cards: () => visibleCards(state),
    loading,
    toast,
    dismissToast: () => setToast(null),
    async decide(card, verdict) {
      update((s) => hideCard(s, card.id));
      vibrate(verdict === "accept" ? 15 : [10, 40, 10]);
      const body: Record<string, unknown> = {
        verdict,
        cardVersion: card.version,
        idempotencyKey: newKey(),
        client: "web",
      };
      if (verdict === "snooze") body.snoozeUntil = new Date(Date.now() + 4 * 3600_000).toISOString();
      try {
        const result = await post<DecisionResult>(`/api/cards/${card.id}/decisions`, body);
        const until = result.decision.undoableUntil
          ? Date.parse(result.decision.undoableUntil)
          : Date.now() + 8000;
        const word =
          verdict === "accept" ? "Accepted" : verdict === "reject" ? "Rejected" : "Snoozed for 4 hours";
        showToast(
          { kind: "undo", message: `${word}: ${card.title}`, decisionId: result.decision.id, card, until },
          Math.max(1000, until - Date.now()),
        );
      } catch (err) {
        const fresh =
          err instanceof ApiError
            ? (err.body?.error.details as { card?: Card } | undefined)?.card
            : undefined;
        update((s) =>
          fresh && fresh.status !== "pending"
            ? {
                ...s,
                cards: s.cards.filter((c) => c.id !== card.id),
                hidden: s.hidden.filter((h) => h !== card.id),
              }
            : restoreCard(s, fresh ?? card),
        );
        showToast({ kind: "error", message: errorMessage(err) }, 6000);
      }
    },
    async undo() {
      const t = toast();
      if (!t?.decisionId || !t.card) return;
      setToast(null);
      try {
        const result = await post<DecisionResult>(`/api/decisions/${t.decisionId}/undo`, {});
        update((s) => restoreCard(s, result.card));
        showToast({ kind: "info", message: "Undone" }, 2500);
      } catch (err) {
        showToast({ kind: "error", message: errorMessage(err) }, 6000);
      }
    },
    showIncoming: () => update(showIncoming),
    reload,
  };
  return <FeedContext.Provider value={feed}>{props.children}</FeedContext.Provider>;
}

export function useFeed(): Feed {
  const feed = useContext(FeedContext);
  if (!feed) throw new Error("useFeed outside FeedProvider");
  return feed;
}
