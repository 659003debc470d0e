import type { Card, CardEvent, CardStatus, FeedFacets, FeedPage } from "@flick/shared";
import { cardAgents, hasGithubDiff, isDemoCard, mergesPullRequest } from "@flick/shared/describe";
import { SNOOZE_HOURS } from "@flick/shared/moments";
import {
  createEffect,
  createMemo,
  createResource,
  createSignal,
  For,
  on,
  onCleanup,
  onMount,
  Show,
} from "solid-js";
import { api, errorMessage, request, unwrap } from "../../lib/api.ts";
import { applyBrowsedEvent } from "../../lib/feed-state.ts";
import { update } from "../../lib/pwa.ts";
import { navigate } from "../../lib/router.ts";
import { useSession } from "../app/SessionContext.tsx";
import { CardView } from "../card/CardView.tsx";
import { useFeed, type Verdict } from "./FeedContext.tsx";
import styles from "./FeedView.module.css";

const keys: [string, string][] = [
  ["j / k", "next / previous card"],
  ["a or →", "accept"],
  ["r or ←", "reject"],
  ["s", `snooze for ${SNOOZE_HOURS} hours`],
  ["shift+s", "snooze until… (this evening, tomorrow, Monday)"],
  ["d", "show or hide the diff (or the text accept would post)"],
  ["i", "type an instruction; ctrl+enter sends, esc closes"],
  ["o", "open where it came from (the pull request, the issue in Sentry…)"],
  ["← / → on a chart", "read its points one by one (tab to the chart; m: the marked point)"],
  ["z", "undo the last decision"],
  ["space (hold)", "speak a follow-up; release to send"],
  ["/", "search the cards"],
  ["?", "show or hide these keys"],
];

const statusChoices: [CardStatus, string][] = [
  ["pending", "To review"],
  ["snoozed", "Snoozed"],
  ["applying", "Being applied"],
  ["applied", "Applied"],
  ["failed", "Failed"],
  ["rejected", "Rejected"],
  ["superseded", "Replaced"],
  ["expired", "Withdrawn"],
];

/** What can be looked back at from an empty feed (the decided states, most asked first). */
const lookBackChoices = (["applied", "failed", "rejected", "snoozed"] as const).map(
  (v) => statusChoices.find(([s]) => s === v) as [CardStatus, string],
);

/** Buttons to look back at the cards already decided, by state. */
function LookBack(props: { choose: (status: CardStatus) => void }) {
  return (
    <nav class={styles.row} aria-label="Look back at cards already decided">
      <For each={lookBackChoices}>
        {([value, label]) => (
          <button type="button" class={styles.secondary} onClick={() => props.choose(value)}>
            {label}
          </button>
        )}
      </For>
    </nav>
  );
}

function FeedEmpty(props: {
  /** The team has cards: the empty feed offers to look back at the decided ones. */
  lookBack?: (status: CardStatus) => void;
}) {
  const session = useSession();
  const feed = useFeed();
  const [inviteUrl, setInviteUrl] = createSignal("");
  const [replayed, setReplayed] = createSignal("");
  const [error, setError] = createSignal("");
  const isAdmin = () => session.state()?.user?.role === "admin";
  const run = async (f: () => Promise<void>) => {
    setError("");
    try {
      await f();
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <section class={styles.empty} aria-labelledby="feed-empty-title">
      <h1 id="feed-empty-title" class={styles.title}>
        Nothing to review
      </h1>
      <p class={styles.text}>
        When a signal matters, Flick's agents turn it into a card here: swipe right to accept, left to reject.
        Connect a source (GitHub, Sentry, metrics, feedback) and cards will arrive on their own.
      </p>
      <Show when={props.lookBack}>{(look) => <LookBack choose={look()} />}</Show>
      <Show when={isAdmin()}>
        <p class={styles.text}>
          To look first: <b>Load demo data</b> shows four sample cards; <b>Replay sample signals</b> sends a
          day of a small shop's deploys, errors, metrics, pull requests and reviews to demo sources, and the
          agents make their own cards from them.
        </p>
        <div class={styles.row}>
          <button
            class={styles.action}
            type="button"
            onClick={() =>
              run(async () => {
                await unwrap(api.api.admin.demo.$post());
                await feed.reload();
              })
            }
          >
            Load demo data
          </button>
          <button
            class={styles.secondary}
            type="button"
            onClick={() =>
              run(async () => {
                const r = await unwrap(api.api.admin.demo.signals.$post());
                setReplayed(
                  r.loaded
                    ? `${r.signals.toLocaleString("en-US")} sample signals sent to ${r.sources.join(", ")}. The agents' cards arrive here as they read them; accepting one only rehearses it.`
                    : `The sample signals were sent before (${r.sources.join(", ")}); Settings → Sources removes them.`,
                );
                await feed.reload();
              })
            }
          >
            Replay sample signals
          </button>
          <button class={styles.secondary} type="button" onClick={() => navigate("/settings#sources")}>
            Connect a source
          </button>
          <button
            class={styles.secondary}
            type="button"
            onClick={() =>
              run(async () => {
                const res = await unwrap(api.api.invites.$post({ json: { role: "reviewer" } }));
                setInviteUrl(res.url);
              })
            }
          >
            Invite a teammate
          </button>
        </div>
        <Show when={replayed()}>
          <p class={styles.text} role="status">
            {replayed()}
          </p>
        </Show>
        <Show when={inviteUrl()}>
          <input
            class={styles.link}
            readOnly
            value={inviteUrl()}
            aria-label="Invitation link"
            data-testid="invite-url"
          />
          <p class={styles.text}>Send this link to your teammate. It works once, for three days.</p>
        </Show>
      </Show>
      <Show when={error()}>
        <p class={styles.error} role="alert">
          {error()}
        </p>
      </Show>
    </section>
  );
}

/**
 * Phone: one card per screen in a vertical scroll-snap feed. Desktop (wide): the list on the
 * left, the selected card on the right, driven by the keyboard.
 */
export function FeedView() {
  const feed = useFeed();
  const session = useSession();
  const isAdmin = () => session.state()?.user?.role === "admin";
  const [selected, setSelected] = createSignal(0);
  const [help, setHelp] = createSignal(false);
  const [talking, setTalking] = createSignal(false);
  const [query, setQuery] = createSignal("");
  const [agent, setAgent] = createSignal("");
  const [status, setStatus] = createSignal<CardStatus>("pending");
  const [source, setSource] = createSignal("");
  /** A filter's input handler: narrowing the feed starts again at its first card. */
  const narrow = (set: (value: string) => void) => (e: { currentTarget: { value: string } }) => {
    set(e.currentTarget.value);
    setSelected(0);
  };
  /** Shows the cards in another state (the phone's way in, which has no filters beside the card). */
  const lookBack = (value: CardStatus) => {
    setStatus(value);
    setSelected(0);
  };
  let search: HTMLInputElement | undefined;
  // Looking back (another state) or at one source asks the server; the live feed is filtered here.
  const browsing = () => status() !== "pending" || source() !== "";
  const [browsed, { mutate: setBrowsed }] = createResource(
    () => (browsing() ? { status: status(), source: source() } : false),
    (q) =>
      request<FeedPage>(
        `/api/feed?limit=100&status=${q.status}${q.source ? `&source=${encodeURIComponent(q.source)}` : ""}`,
      ),
  );
  // …and kept live: a carried-out card says what came of it while it is being looked at, a card
  // decided elsewhere joins the list of its state.
  const keepBrowsed = (event: CardEvent) => {
    const page = browsed.state === "ready" ? browsed() : undefined;
    if (!browsing() || !page) return;
    const cards = applyBrowsedEvent(page.cards, event, status(), source() === "");
    if (cards !== page.cards) setBrowsed({ ...page, cards });
  };
  onCleanup(
    feed.onEvent((event) => {
      if (event.type !== "card.removed" || !browsing()) return keepBrowsed(event);
      // Out of the feed says nothing of where it went (decided, snoozed): asked.
      request<{ card: Card }>(`/api/cards/${event.cardId}`).then(
        ({ card }) => keepBrowsed({ ...event, type: "card.updated", version: card.version, card }),
        () => keepBrowsed(event),
      );
    }),
  );
  // What to narrow by, fetched once the feed has loaded (it is not needed for the first card).
  const [facets] = createResource(
    () => !feed.loading() || undefined,
    () => request<FeedFacets>("/api/feed/facets").catch(() => ({ agents: [], sources: [] })),
  );
  const base = () => (browsing() ? (browsed()?.cards ?? []) : feed.cards());
  const agents = createMemo(() =>
    [...new Set([...(facets()?.agents ?? []), ...base().flatMap(cardAgents)])].sort(),
  );
  // Filters narrow what is shown; decisions and live updates still apply to every card.
  const cards = createMemo(() => {
    const q = query().trim().toLowerCase();
    return base()
      .filter((c) => !agent() || cardAgents(c).includes(agent()))
      .filter((c) => !q || `${c.title}\n${c.summary}\n${c.fingerprint}`.toLowerCase().includes(q));
  });
  const current = () => cards()[Math.min(selected(), cards().length - 1)];

  createEffect(() => {
    if (selected() >= cards().length && cards().length > 0) setSelected(cards().length - 1);
  });

  // On a desktop one card is shown at a time: the next one starts at its top, not as far down as
  // the last was read, and its entry in the list stays in sight.
  let scroller: HTMLDivElement | undefined;
  let list: HTMLElement | undefined;
  createEffect(
    on(
      () => current()?.id,
      () => {
        // The desktop layout is the one that shows the list (the phone's hides it): asked of the
        // page, so the breakpoint lives in the stylesheet alone.
        if (!scroller || !list?.offsetParent) return;
        scroller.scrollTop = 0;
        list?.querySelector('[aria-current="true"]')?.scrollIntoView({ block: "nearest" });
      },
      { defer: true },
    ),
  );

  // A notification's link (/?card=<id>) opens on that card once the feed has it.
  let wanted = new URLSearchParams(location.search).get("card");
  createEffect(() => {
    const id = wanted;
    const i = id ? cards().findIndex((c) => c.id === id) : -1;
    if (!id || i < 0) return;
    wanted = null;
    setSelected(i);
    history.replaceState(history.state, "", location.pathname);
    queueMicrotask(() => document.querySelector(`[data-card-id="${CSS.escape(id)}"]`)?.scrollIntoView());
  });

  const decide = (verdict: Verdict) => {
    const card = current();
    if (card?.status === "pending") void feed.decide(card, verdict);
  };

  /**
   * The part of the selected card that answers to `key`: a folded part (its diff, the box for a
   * typed instruction) opens, or folds, brought into view with the cursor in its text box if it
   * has one; a link opens (in a new tab, as a click on it would).
   */
  const usePart = (key: "d" | "i" | "o" | "S") => {
    const card = current();
    if (!card) return;
    const part = document.querySelector<HTMLElement>(
      `[data-card-id="${CSS.escape(card.id)}"] [data-key="${key}"]`,
    );
    if (!part) {
      const change = card.change;
      const sample = isDemoCard(card) && hasGithubDiff(change);
      feed.notify(
        {
          // A demo card's pull request or commit is a sample's: GitHub has no diff of it.
          d: sample
            ? `A demo card's ${mergesPullRequest(change) ? "pull request" : "commit"} is a sample: it has no diff to read.`
            : "This card has no diff to show.",
          i: "Only a card waiting for a decision takes an instruction.",
          o: "This card has no link to open.",
          S: "Only a card waiting for a decision can be snoozed.",
        }[key],
      );
      return;
    }
    if (!(part instanceof HTMLDetailsElement)) {
      part.click();
      return;
    }
    part.open = !part.open;
    if (!part.open) return;
    part.querySelector("textarea")?.focus();
    part.scrollIntoView({ block: "nearest" });
  };

  const onKey = (e: KeyboardEvent) => {
    if (
      // Handled where it happened (a chart reading its points with the arrow keys).
      e.defaultPrevented ||
      e.metaKey ||
      e.ctrlKey ||
      e.altKey ||
      // (A menu's keys are its own: the snooze menu's arrows and Enter.)
      (e.target as HTMLElement).closest('input, textarea, [contenteditable], [role="menu"]')
    )
      return;
    if (e.key === " ") {
      // Hold space to talk to the selected card's agent (released below).
      e.preventDefault();
      if (!e.repeat && current()?.status === "pending") setTalking(true);
      return;
    }
    const actions: Record<string, () => void> = {
      j: () => setSelected((i) => Math.min(i + 1, cards().length - 1)),
      k: () => setSelected((i) => Math.max(i - 1, 0)),
      a: () => decide("accept"),
      ArrowRight: () => decide("accept"),
      r: () => decide("reject"),
      ArrowLeft: () => decide("reject"),
      s: () => decide("snooze"),
      S: () => usePart("S"),
      d: () => usePart("d"),
      i: () => usePart("i"),
      o: () => usePart("o"),
      z: () => void feed.undo(),
      "?": () => setHelp((h) => !h),
      "/": () => search?.focus(),
      Escape: () => setHelp(false),
    };
    const action = actions[e.key];
    if (action) {
      e.preventDefault();
      action();
    }
  };
  const onKeyUp = (e: KeyboardEvent) => {
    if (e.key === " " && talking()) {
      e.preventDefault();
      setTalking(false);
    }
  };
  // Leaving the window mid-hold sends what was said, as releasing would.
  const onBlur = () => setTalking(false);
  onMount(() => {
    window.addEventListener("keydown", onKey);
    window.addEventListener("keyup", onKeyUp);
    window.addEventListener("blur", onBlur);
  });
  onCleanup(() => {
    window.removeEventListener("keydown", onKey);
    window.removeEventListener("keyup", onKeyUp);
    window.removeEventListener("blur", onBlur);
  });

  return (
    <div class={styles.feed}>
      <Show when={!feed.online() || feed.waiting() > 0}>
        <div class={styles.banner} role="status" data-testid="offline-banner">
          {feed.online() ? "Sending" : "Offline"}
          {feed.waiting() > 0
            ? ` · ${feed.waiting()} decision${feed.waiting() === 1 ? "" : "s"} waiting`
            : ""}
        </div>
      </Show>
      <Show when={update()}>
        {(apply) => (
          <div class={styles.banner} role="status">
            A new version of Flick is ready.
            <button type="button" onClick={() => apply()()}>
              Reload
            </button>
          </div>
        )}
      </Show>
      <Show when={feed.state.incoming.length > 0}>
        <button class={styles.pill} type="button" onClick={() => feed.showIncoming()}>
          {feed.state.incoming.length} new
        </button>
      </Show>
      <Show
        when={feed.cards().length > 0 || browsing()}
        fallback={
          <Show when={!feed.loading()}>
            <FeedEmpty lookBack={(facets()?.agents.length ?? 0) > 0 ? lookBack : undefined} />
          </Show>
        }
      >
        <div class={styles.side}>
          <nav ref={list} class={styles.list} aria-label="Cards">
            <div class={styles.filters}>
              <input
                ref={search}
                type="search"
                placeholder="Search  /"
                aria-label="Search cards"
                value={query()}
                onInput={narrow(setQuery)}
                onKeyDown={(e) => {
                  if (e.key === "Escape") {
                    setQuery("");
                    e.currentTarget.blur();
                  }
                }}
              />
              <select aria-label="Filter by agent" value={agent()} onChange={narrow(setAgent)}>
                <option value="">All agents</option>
                <For each={agents()}>{(a) => <option value={a}>{a}</option>}</For>
              </select>
              <select aria-label="Filter by source" value={source()} onChange={narrow(setSource)}>
                <option value="">All sources</option>
                <For each={facets()?.sources ?? []}>
                  {(src) => <option value={src.id}>{src.name}</option>}
                </For>
              </select>
              <select
                aria-label="Filter by status"
                value={status()}
                onChange={narrow((v) => setStatus(v as CardStatus))}
              >
                <For each={statusChoices}>{([value, label]) => <option value={value}>{label}</option>}</For>
              </select>
            </div>
            <Show when={cards().length === 0}>
              <p class={styles.noMatch}>No card matches.</p>
            </Show>
            <For each={cards()}>
              {(card, i) => (
                <button
                  type="button"
                  class={styles.listItem}
                  classList={{ [styles.listItemActive ?? ""]: i() === selected() }}
                  aria-current={i() === selected() ? "true" : undefined}
                  onClick={() => setSelected(i())}
                >
                  <span class={styles.listTitle}>{card.title}</span>
                  <span class={styles.listMeta}>
                    {cardAgents(card).join(" + ")} · {Math.round(card.priority * 100)}
                  </span>
                </button>
              )}
            </For>
          </nav>
          {/* Below the list, always in sight: where a mouse user learns the keys exist. */}
          <button
            type="button"
            class={styles.keysHint}
            aria-keyshortcuts="?"
            onClick={() => setHelp((h) => !h)}
          >
            Keyboard shortcuts <kbd>?</kbd>
          </button>
        </div>
        <div
          ref={scroller}
          class={styles.scroller}
          classList={{ [styles.underBar ?? ""]: status() !== "pending" }}
          data-testid="feed"
        >
          {/* A phone has no filters beside the card: looking back says so, and the way back (above
              the cards, not over them: the scroller snaps them below it). */}
          <Show when={status() !== "pending"}>
            <div class={`${styles.banner} ${styles.lookBar} ${styles.phoneOnly}`} role="status">
              {statusChoices.find(([v]) => v === status())?.[1]} · {cards().length} card
              {cards().length === 1 ? "" : "s"}
              <button type="button" onClick={() => lookBack("pending")}>
                Back to review
              </button>
            </div>
          </Show>
          <For each={cards()}>
            {(card, i) => (
              <div class={styles.slot} classList={{ [styles.slotActive ?? ""]: i() === selected() }}>
                <CardView
                  card={card}
                  selected={i() === selected()}
                  talking={i() === selected() && talking()}
                  onDecide={(v, snooze) => void feed.decide(card, v, snooze)}
                  onNotice={(m) => feed.notify(m)}
                  onFollowUp={(m, id) => feed.followUpSent(card.id, id, m)}
                  revising={feed.revising(card.id)}
                  admin={isAdmin()}
                />
              </div>
            )}
          </For>
          {/* The phone feed's end: all read; what was decided is a tap away. */}
          <Show when={!browsing()}>
            <section class={`${styles.end} ${styles.phoneOnly}`} aria-label="End of the feed">
              <p class={styles.text}>That is all to review for now.</p>
              <LookBack choose={lookBack} />
            </section>
          </Show>
        </div>
      </Show>
      <Show when={feed.toast()}>
        {(t) => (
          <div class={styles.toast} role="status" data-kind={t().kind}>
            <span>{t().message}</span>
            <Show when={t().kind === "undo"}>
              <button type="button" onClick={() => void feed.undo()}>
                Undo
              </button>
            </Show>
          </div>
        )}
      </Show>
      <Show when={help()}>
        <div class={styles.help} role="dialog" aria-label="Keyboard shortcuts">
          <div class={styles.helpBox}>
            <button type="button" class={styles.helpClose} aria-label="Close" onClick={() => setHelp(false)}>
              ×
            </button>
            <dl>
              <For each={keys}>
                {([k, what]) => (
                  <div>
                    <dt>
                      <kbd>{k}</kbd>
                    </dt>
                    <dd>{what}</dd>
                  </div>
                )}
              </For>
            </dl>
          </div>
        </div>
      </Show>
    </div>
  );
}
