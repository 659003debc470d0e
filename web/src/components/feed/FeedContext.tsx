import type { Card, CardEvent, DecisionResult, FeedPage } from "@flick/shared";
import { SNOOZE_HOURS } from "@flick/shared/moments";
import { createContext, createSignal, onCleanup, onMount, type ParentProps, useContext } from "solid-js";
import { createStore, reconcile, unwrap } from "solid-js/store";
import { ApiError, errorMessage, request } from "../../lib/api.ts";
import {
  applyCardEvent,
  dropCard,
  emptyFeed,
  type FeedState,
  hideCard,
  loadPage,
  restoreCard,
  showIncoming,
  startRevising,
  stopRevising,
  visibleCards,
} from "../../lib/feed-state.ts";
import { outbox } from "../../lib/outbox.ts";
import type { SnoozeChoice } from "../../lib/snooze.ts";

export type Verdict = "accept" | "reject" | "snooze";

interface FollowUpView {
  id: string;
  state: string;
  reply: string | null;
  lastError: string | null;
  revisionCardId: string | null;
}

export interface Toast {
  kind: "undo" | "error" | "info";
  message: string;
  decisionId?: string;
  card?: Card;
  until?: number;
}

interface Feed {
  state: FeedState;
  /** Decisions made offline and not yet sent. */
  waiting(): number;
  online(): boolean;
  cards(): Card[];
  loading(): boolean;
  toast(): Toast | null;
  dismissToast(): void;
  notify(message: string): void;
  /** A follow-up was sent: the card shows "revising…" until its new version or the agent's answer. */
  followUpSent(cardId: string, followUpId: string | undefined, message: string): void;
  revising(cardId: string): boolean;
  /** A snooze is for SNOOZE_HOURS unless a time was chosen (see snoozeChoices). */
  decide(card: Card, verdict: Verdict, snooze?: SnoozeChoice): Promise<void>;
  undo(): Promise<void>;
  showIncoming(): void;
  reload(): Promise<void>;
  /** Hears every live card event (for lists fetched apart, such as looking back); returns how to stop. */
  onEvent(listener: (event: CardEvent) => void): () => void;
}

const FeedContext = createContext<Feed>();

function newKey(): string {
  return crypto.randomUUID();
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
  const [waiting, setWaiting] = createSignal(0);
  const [online, setOnline] = createSignal(navigator.onLine);
  let toastTimer: ReturnType<typeof setTimeout> | undefined;
  const listeners = new Set<(event: CardEvent) => void>();
  // The reducers are pure; reconcile applies their result as fine-grained updates keyed by card id.
  const update = (f: (s: FeedState) => FeedState) => setState(reconcile(f(unwrap(state)), { key: "id" }));

  const showToast = (t: Toast, ms: number) => {
    clearTimeout(toastTimer);
    setToast(t);
    toastTimer = setTimeout(() => setToast(null), ms);
  };

  // Until the revised card arrives over SSE (which ends "revising…" by itself), poll the
  // follow-up for the agent's answer when it could not revise: snoozed, needs typed text, failed.
  const watchFollowUp = async (cardId: string, followUpId: string) => {
    const started = Date.now();
    while (Date.now() - started < 120_000 && state.revising.includes(cardId)) {
      await new Promise((r) => setTimeout(r, 1500));
      let list: FollowUpView[];
      try {
        list = (await request<{ followUps: FollowUpView[] }>(`/api/cards/${cardId}/follow-ups`)).followUps;
      } catch {
        continue;
      }
      const f = list.find((x) => x.id === followUpId);
      if (!f || !["done", "failed", "needs_text"].includes(f.state)) continue;
      if (f.revisionCardId) return; // the revision is on its way over the live stream
      update((s) => stopRevising(s, cardId));
      const message =
        f.state === "needs_text"
          ? "No transcriber is set up here: please type the instruction."
          : f.state === "failed"
            ? `The agent could not revise this card${f.lastError ? `: ${f.lastError}` : "."}`
            : (f.reply ?? "Done.");
      showToast({ kind: f.state === "done" ? "info" : "error", message }, 8000);
      if (f.state === "done" && /^Snoozed/.test(f.reply ?? "")) update((s) => dropCard(s, cardId));
      return;
    }
    update((s) => stopRevising(s, cardId));
  };

  const reload = async () => {
    setLoading(true);
    try {
      const page = await request<FeedPage>("/api/feed?limit=50");
      update((s) => loadPage(s, page.cards, true));
    } catch {
      // Offline with nothing cached: the feed stays as it is; the banner says why.
    } finally {
      setLoading(false);
    }
  };

  /** Sends queued offline decisions in order; stops at the first network failure. */
  let flushing = false;
  const flush = async () => {
    if (flushing) return;
    flushing = true;
    try {
      for (const entry of await outbox.all()) {
        try {
          await request(entry.url, { json: entry.body });
        } catch (err) {
          if (err instanceof ApiError && err.status === 0) break;
          // Refused for good (e.g. someone decided first): drop it and say so.
          showToast({ kind: "error", message: `${entry.title}: ${errorMessage(err)}` }, 6000);
        }
        await outbox.remove(entry.key);
        update((s) => dropCard(s, entry.cardId));
      }
    } finally {
      setWaiting((await outbox.all()).length);
      flushing = false;
    }
  };

  onMount(() => {
    void reload().then(async () => {
      const queued = await outbox.all();
      setWaiting(queued.length);
      for (const e of queued) update((s) => hideCard(s, e.cardId));
      if (navigator.onLine) void flush();
    });
    const goOnline = () => {
      setOnline(true);
      void flush();
    };
    const goOffline = () => setOnline(false);
    window.addEventListener("online", goOnline);
    window.addEventListener("offline", goOffline);
    onCleanup(() => {
      window.removeEventListener("online", goOnline);
      window.removeEventListener("offline", goOffline);
    });
    const stream = new EventSource("/api/stream");
    const onEvent = (e: MessageEvent<string>) => {
      const event = JSON.parse(e.data) as CardEvent;
      update((s) => applyCardEvent(s, event));
      for (const listener of listeners) listener(event);
    };
    for (const type of ["card.created", "card.updated", "card.removed"])
      stream.addEventListener(type, onEvent);
    stream.addEventListener("reset", () => void reload());
    onCleanup(() => stream.close());
  });
  onCleanup(() => clearTimeout(toastTimer));

  const feed: Feed = {
    state,
    waiting,
    online,
    cards: () => visibleCards(state),
    loading,
    toast,
    dismissToast: () => setToast(null),
    notify: (message) => showToast({ kind: "info", message }, 5000),
    revising: (cardId) => state.revising.includes(cardId),
    followUpSent(cardId, followUpId, message) {
      showToast({ kind: "info", message }, 5000);
      if (!followUpId) return;
      update((s) => startRevising(s, cardId));
      void watchFollowUp(cardId, followUpId);
    },
    async decide(card, verdict, snooze) {
      update((s) => hideCard(s, card.id));
      vibrate(verdict === "accept" ? 15 : [10, 40, 10]);
      const body: Record<string, unknown> = {
        verdict,
        cardVersion: card.version,
        idempotencyKey: newKey(),
        client: "web",
      };
      if (verdict === "snooze")
        body.snoozeUntil = (snooze?.until ?? new Date(Date.now() + SNOOZE_HOURS * 3600_000)).toISOString();
      try {
        const result = await request<DecisionResult>(`/api/cards/${card.id}/decisions`, { json: body });
        const until = result.decision.undoableUntil
          ? Date.parse(result.decision.undoableUntil)
          : Date.now() + 8000;
        const word =
          verdict === "accept"
            ? "Accepted"
            : verdict === "reject"
              ? "Rejected"
              : `Snoozed ${snooze?.phrase ?? `for ${SNOOZE_HOURS} hours`}`;
        showToast(
          { kind: "undo", message: `${word}: ${card.title}`, decisionId: result.decision.id, card, until },
          Math.max(1000, until - Date.now()),
        );
      } catch (err) {
        if (err instanceof ApiError && err.status === 0) {
          // No network: keep the decision and send it when the phone is back online.
          await outbox.add({
            key: body.idempotencyKey as string,
            url: `/api/cards/${card.id}/decisions`,
            body,
            cardId: card.id,
            title: card.title,
            createdAt: Date.now(),
          });
          setWaiting((await outbox.all()).length);
          showToast(
            { kind: "info", message: "Offline: saved, it will be sent when you are back online" },
            4000,
          );
          return;
        }
        const fresh =
          err instanceof ApiError
            ? (err.body?.error.details as { card?: Card } | undefined)?.card
            : undefined;
        update((s) =>
          fresh && fresh.status !== "pending" ? dropCard(s, card.id) : restoreCard(s, fresh ?? card),
        );
        showToast({ kind: "error", message: errorMessage(err) }, 6000);
      }
    },
    async undo() {
      const t = toast();
      if (!t?.decisionId || !t.card) return;
      setToast(null);
      try {
        const result = await request<DecisionResult>(`/api/decisions/${t.decisionId}/undo`, { json: {} });
        update((s) => restoreCard(s, result.card));
        showToast({ kind: "info", message: "Undone" }, 2500);
      } catch (err) {
        showToast({ kind: "error", message: errorMessage(err) }, 6000);
      }
    },
    showIncoming: () => update(showIncoming),
    reload,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return <FeedContext.Provider value={feed}>{props.children}</FeedContext.Provider>;
}

export function useFeed(): Feed {
  const feed = useContext(FeedContext);
  if (!feed) throw new Error("useFeed outside FeedProvider");
  return feed;
}
