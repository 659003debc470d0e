import type { Card, Change, Verification } from "@flick/shared";
import {
  ACCEPT_RATE_DECISIONS,
  isDemoCard,
  isSetAside,
  isWebPage,
  mergesPullRequest,
} from "@flick/shared/describe";
import { createResource, createSignal, For, lazy, Show, Suspense } from "solid-js";
import { request } from "../../lib/api.ts";
import { momentLabel } from "../../lib/chart-axis.ts";
import type { SnoozeChoice } from "../../lib/snooze.ts";
import { summaryBlocks } from "../../lib/summary.ts";
import { endSwipe, moveSwipe, type SwipeState, startSwipe, swipeProgress } from "../../lib/swipe.ts";
import type { Verdict } from "../feed/FeedContext.tsx";
import { VoiceHoldButton } from "../voice/VoiceHoldButton.tsx";
import { VoiceTypeForm } from "../voice/VoiceTypeForm.tsx";
import styles from "./Card.module.css";
import { type ActionFor, awaitsDecision, CardChange } from "./CardChange.tsx";
import { CardPreview } from "./CardPreview.tsx";
import { SnoozeMenu } from "./SnoozeMenu.tsx";

interface CardViewProps {
  card: Card;
  onDecide(verdict: Verdict, snooze?: SnoozeChoice): void;
  onNotice?(message: string): void;
  /** A follow-up was sent for this card (id when the server gave one). */
  onFollowUp?(message: string, followUpId?: string): void;
  /** Waiting for the agent's revised version. */
  revising?: boolean;
  selected?: boolean;
  /** Space is held on the desktop: record a follow-up as if the mic were held. */
  talking?: boolean;
  /** The person is an admin: a metric card without an action offers to choose one in Settings. */
  admin?: boolean;
}

/**
 * The metric a pending metric card proposes no action for, when an admin could choose one, and the
 * source whose settings would hold it (cards made before the card named it: found by sent names).
 */
function metricWithoutAction(card: Card, admin: boolean | undefined): ActionFor | undefined {
  const metric = card.evidence.facts?.metric;
  if (!admin || card.agent !== "metrics" || card.status !== "pending") return undefined;
  if (card.change?.type === "webhook" || typeof metric !== "string") return undefined;
  return { metric, source: card.evidence.settingsSource };
}

// Where the evidence lives (the pull request, the job, the alert, the issue in Sentry): web pages only.
const links = (card: Card) => (card.evidence.links ?? []).filter((l) => isWebPage(l.url));

// "seen:*", "brief:*" and "since:*" facts are what a joined card's title is written from; it says
// them already.
// An empty fact is one an agent cleared (a joined card's facts accumulate).
const facts = (card: Card) =>
  Object.entries(card.evidence.facts ?? {}).filter(([k, v]) => !/^(seen|brief|since):/.test(k) && v !== "");
// Facts are named for code ("minutesAfterDeploy") and read by people ("minutes after deploy").
const factName = (key: string) => key.replace(/([a-z\d])([A-Z])/g, "$1 $2").toLowerCase();
// A moment in UTC, as the card's title, summary and chart say times (one card, one clock);
// everything else as it is.
const factValue = (value: unknown) =>
  typeof value === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(value) ? momentLabel(value) : String(value);
/** What came of the change once carried out (told after the decision), apart from the checks made before. */
const outcomes = (card: Card) => card.verification.filter((v) => v.after);
const checksBefore = (card: Card) => card.verification.filter((v) => !v.after);

function Checks(props: { list: Verification; label?: string }) {
  return (
    <ul class={styles.checks} aria-label={props.label}>
      <For each={props.list}>
        {(v) => (
          <li data-status={v.status}>
            {v.status === "passed" ? "✓" : v.status === "failed" ? "✗" : "–"} {v.check}
            <Show when={v.detail}> · {v.detail}</Show>
          </li>
        )}
      </For>
    </ul>
  );
}

const STATUS_WORDS: Record<string, string> = {
  accepted: "Accepted",
  snoozed: "Snoozed",
  applying: "Being applied",
  applied: "Applied",
  failed: "Failed",
  rejected: "Rejected",
  superseded: "Replaced by a newer version",
  expired: "Withdrawn by its agent",
};

/** When a snoozed card comes back, on the reader's own clock (as they chose it): "Thu, Dec 3, 9:00 AM". */
const snoozedUntilLabel = (iso: string) =>
  new Date(iso).toLocaleString([], {
    weekday: "short",
    month: "short",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
  });

const FACTOR_NAMES: Record<string, string> = {
  severity: "severity",
  blastRadius: "blast radius",
  confidence: "confidence",
  recency: "recency",
  acceptRate: "team's accept rate",
};

/**
 * The card that stands for this one (its agent set this one aside for it: the fix's merge card),
 * fetched when there is one, so the reader can go there.
 */
function useStandIn(card: () => Card) {
  const [standIn] = createResource(
    () => card().evidence.standIn,
    (id) =>
      request<{ card: Card }>(`/api/cards/${encodeURIComponent(id)}`)
        .then((r) => r.card)
        .catch(() => null),
  );
  return standIn;
}

/** The stand-in merges a pull request (a fix), rather than telling of the same trouble another way. */
const merges = (card: Card | null | undefined) => mergesPullRequest(card?.change);

function StandInLink(props: { card: Card }) {
  return <a href={`/?card=${encodeURIComponent(props.card.id)}`}>“{props.card.title}”</a>;
}

// Who decided what and what ran: its own chunk, loaded the first time a History is opened.
const CardHistory = lazy(() => import("./CardHistory.tsx"));

/** A card's History: folded; opening it (each time) fetches the latest. */
function HistoryBox(props: { cardId: string; change: Change | null }) {
  const [opens, setOpens] = createSignal(0);
  return (
    <details class={styles.historyBox} onToggle={(e) => e.currentTarget.open && setOpens((n) => n + 1)}>
      <summary>History</summary>
      <Show when={opens() > 0}>
        <Suspense fallback={<p role="status">Loading…</p>}>
          <CardHistory cardId={props.cardId} opens={opens()} change={props.change} />
        </Suspense>
      </Show>
    </details>
  );
}

/** The factors the priority is made of, as stored (not the count of decisions stored beside them). */
const factors = (card: Card) => Object.entries(card.priorityFactors ?? {}).filter(([k]) => k in FACTOR_NAMES);

/** No decision yet on cards like it: the accept rate is a neutral 50, not something the team did. */
const noDecisions = (card: Card, factor: string) =>
  factor === "acceptRate" && card.priorityFactors?.[ACCEPT_RATE_DECISIONS] === 0;

/**
 * One card: preview and one-line claim first, then evidence, what accept will do, and the change
 * on demand. Drag it right to accept, left to reject; a vertical drag scrolls the feed. Buttons
 * do the same for people who do not swipe.
 */
export function CardView(props: CardViewProps) {
  let el: HTMLElement | undefined;
  const [swipe, setSwipe] = createSignal<SwipeState | null>(null);
  const [leaving, setLeaving] = createSignal<"accept" | "reject" | null>(null);
  const standIn = useStandIn(() => props.card);
  // Back in the feed while its stand-in is still open and still stands for it.
  const waitingOn = () => {
    const c = standIn();
    return c?.status === "pending" && c.evidence.standsFor?.includes(props.card.fingerprint) ? c : undefined;
  };
  const progress = () => {
    const s = swipe();
    return s && el ? swipeProgress(s, el.clientWidth) : 0;
  };

  // The card follows the finger, then flies off the side it was swiped to.
  const transform = () => {
    const out = leaving();
    if (out) return `translateX(${out === "accept" ? 120 : -120}%) rotate(${out === "accept" ? 8 : -8}deg)`;
    const s = swipe();
    return s?.axis === "horizontal" ? `translateX(${s.dx}px) rotate(${progress() * 4}deg)` : undefined;
  };

  const onPointerDown = (e: PointerEvent) => {
    if (props.card.status !== "pending") return;
    if (e.button !== 0 || (e.target as HTMLElement).closest("button, a, summary, input, textarea")) return;
    setSwipe(startSwipe(e.clientX, e.clientY, e.timeStamp));
  };
  const onPointerMove = (e: PointerEvent) => {
    const s = swipe();
    if (!s) return;
    const next = moveSwipe(s, e.clientX, e.clientY, e.timeStamp);
    if (next.axis === "vertical") {
      setSwipe(null);
      return;
    }
    if (next.axis === "horizontal" && s.axis !== "horizontal") el?.setPointerCapture(e.pointerId);
    setSwipe(next);
  };
  const onPointerUp = () => {
    const s = swipe();
    setSwipe(null);
    if (!s || !el) return;
    const outcome = endSwipe(s, el.clientWidth);
    if (outcome === "cancel") return;
    setLeaving(outcome);
    // Let the card fly out before the feed moves on.
    setTimeout(
      () => props.onDecide(outcome),
      matchMedia("(prefers-reduced-motion: reduce)").matches ? 0 : 160,
    );
  };

  return (
    <article
      ref={el}
      class={styles.card}
      classList={{ [styles.leaving ?? ""]: leaving() !== null }}
      style={{ transform: transform() }}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerCancel={() => setSwipe(null)}
      aria-labelledby={`title-${props.card.id}`}
      data-card-id={props.card.id}
    >
      <div
        class={styles.verdictLabel}
        classList={{ [styles.acceptLabel ?? ""]: progress() > 0, [styles.rejectLabel ?? ""]: progress() < 0 }}
        style={{ opacity: String(Math.abs(progress())) }}
        aria-hidden="true"
      >
        {progress() > 0 ? "Accept" : "Reject"}
      </div>
      <Show when={props.revising}>
        <p class={styles.revising} role="status">
          Revising…
        </p>
      </Show>
      <CardPreview preview={props.card.preview} />
      <h2 class={styles.title} id={`title-${props.card.id}`}>
        {props.card.title}
      </h2>
      <Show when={props.card.summary}>
        <div class={styles.summary} data-summary>
          <For each={summaryBlocks(props.card.summary, !awaitsDecision(props.card.status))}>
            {(b) =>
              b.kind === "list" ? (
                <ul class={styles.summaryList}>
                  <For each={b.items}>{(item) => <li>{item}</li>}</For>
                </ul>
              ) : (
                <p class={styles.summaryText}>{b.text}</p>
              )
            }
          </For>
        </div>
      </Show>
      <Show when={outcomes(props.card).length > 0}>
        <section aria-label="What came of it">
          <h3 class={styles.sectionTitle}>What came of it</h3>
          <Checks list={outcomes(props.card)} />
        </section>
      </Show>
      <Show when={checksBefore(props.card).length > 0}>
        {/* Under "What came of it" they would read as part of it: then they have their own heading. */}
        <Show
          when={outcomes(props.card).length > 0}
          fallback={<Checks list={checksBefore(props.card)} label="Checked before asking you" />}
        >
          <section aria-label="Checked before asking you">
            <h3 class={styles.sectionTitle}>Checked before asking you</h3>
            <Checks list={checksBefore(props.card)} label="Checked before asking you" />
          </section>
        </Show>
      </Show>
      <Show when={links(props.card).length > 0}>
        <ul class={styles.links} aria-label="Open elsewhere">
          <For each={links(props.card)}>
            {(l, i) => (
              <li>
                {/* The first opens with the "o" key on a desktop (see the feed's keys). */}
                <a
                  href={l.url}
                  target="_blank"
                  rel="noopener noreferrer"
                  data-key={i() === 0 ? "o" : undefined}
                >
                  {l.label} ↗
                </a>
              </li>
            )}
          </For>
        </ul>
      </Show>
      <Show when={facts(props.card).length > 0}>
        <dl class={styles.facts}>
          <For each={facts(props.card)}>
            {([k, v]) => (
              <div>
                <dt>{factName(k)}</dt>
                <dd>{factValue(v)}</dd>
              </div>
            )}
          </For>
        </dl>
      </Show>
      <Show when={factors(props.card).length > 0}>
        <details class={styles.rank}>
          <summary>Ranked {Math.round(props.card.priority * 100)} / 100 — why</summary>
          <ul>
            <For each={factors(props.card)}>
              {([k, v]) => (
                <li>
                  <span>{FACTOR_NAMES[k] ?? k}</span>
                  <Show
                    when={!noDecisions(props.card, k)}
                    fallback={<span class={styles.rankNote}>no decisions yet (counts as 50)</span>}
                  >
                    <meter min={0} max={1} value={v} aria-label={FACTOR_NAMES[k] ?? k} />
                    <span>{Math.round(v * 100)}</span>
                  </Show>
                </li>
              )}
            </For>
          </ul>
        </details>
      </Show>
      <CardChange
        change={props.card.change}
        status={props.card.status}
        demo={isDemoCard(props.card)}
        cardId={props.card.status === "pending" ? props.card.id : undefined}
        actionFor={metricWithoutAction(props.card, props.admin)}
        outcome={props.card.evidence.outcome}
      />
      <HistoryBox cardId={props.card.id} change={props.card.change} />
      <Show
        when={props.card.status === "pending"}
        fallback={
          <Show
            when={isSetAside(props.card)}
            fallback={
              <p class={styles.decided} role="note">
                {STATUS_WORDS[props.card.status] ?? props.card.status}
                {props.card.status === "snoozed" && props.card.snoozedUntil
                  ? ` until ${snoozedUntilLabel(props.card.snoozedUntil)}`
                  : ""}
                {isDemoCard(props.card) && props.card.status === "applied" ? " (rehearsed: a demo card)" : ""}{" "}
                — see its history above.
              </p>
            }
          >
            <p class={styles.decided} role="note">
              Set aside for now:{" "}
              <Show when={standIn()} fallback="another card stands for it">
                {(c) => (
                  <>
                    <StandInLink card={c()} />{" "}
                    {merges(c()) ? "proposes the fix" : "tells of the same trouble"}
                  </>
                )}
              </Show>
              . It comes back if that one is rejected
              {merges(standIn()) ? " or its pull request closes unmerged" : ""}.
            </p>
          </Show>
        }
      >
        <Show when={waitingOn()}>
          {(c) => (
            <p class={styles.decided} role="note">
              <Show
                when={merges(c())}
                fallback={
                  <>
                    <StandInLink card={c()} /> tells of the same trouble.
                  </>
                }
              >
                Its fix waits in <StandInLink card={c()} />.
              </Show>
            </p>
          )}
        </Show>
        <VoiceTypeForm
          cardId={props.card.id}
          onSent={(m, id) => (props.onFollowUp ? props.onFollowUp(m, id) : props.onNotice?.(m))}
          onError={(m) => props.onNotice?.(m)}
        />
        <div class={styles.actions}>
          <button type="button" class={styles.reject} onClick={() => props.onDecide("reject")}>
            Reject
          </button>
          <div class={styles.middle}>
            <SnoozeMenu onSnooze={(choice) => props.onDecide("snooze", choice)} />
            <VoiceHoldButton
              cardId={props.card.id}
              held={props.talking}
              onSent={(m, id) => (props.onFollowUp ? props.onFollowUp(m, id) : props.onNotice?.(m))}
              onError={(m) => props.onNotice?.(m)}
            />
          </div>
          <button type="button" class={styles.accept} onClick={() => props.onDecide("accept")}>
            Accept
          </button>
        </div>
      </Show>
    </article>
  );
}
