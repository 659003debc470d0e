import type { CardDiff, CardStatus, Change } from "@flick/shared";
import { describeChange, hasGithubDiff, isWebPage } from "@flick/shared/describe";
import {
  createResource,
  createSignal,
  lazy,
  Match,
  onCleanup,
  onMount,
  type ParentProps,
  Show,
  Suspense,
  Switch,
} from "solid-js";
import { errorMessage, request } from "../../lib/api.ts";
import { navigate } from "../../lib/router.ts";
import styles from "./Card.module.css";

const DiffView = lazy(() => import("./DiffView.tsx"));

/**
 * Folded detail whose label says what tapping it does now: "Show the diff" / "Hide the diff". On a
 * desktop the "d" key opens and folds it (see the feed's keys).
 */
function Reveal(props: ParentProps<{ what: string }>) {
  const [open, setOpen] = createSignal(false);
  // What it holds is made when first opened, and kept (folded) after: a choice made in it stays.
  const [opened, setOpened] = createSignal(false);
  return (
    <details
      class={styles.diff}
      data-key="d"
      onToggle={(e) => {
        setOpen(e.currentTarget.open);
        if (e.currentTarget.open) setOpened(true);
      }}
    >
      <summary>
        {open() ? "Hide" : "Show"} the {props.what}
      </summary>
      <Show when={opened()}>
        <Suspense fallback={<p role="status">Loading…</p>}>{props.children}</Suspense>
      </Show>
    </details>
  );
}

/**
 * Whether accepting could be carried out now, asked of the server's dry run (no side effect: the
 * patch is checked, requests are built, not sent) once the section comes into view — so a card
 * whose action is not set up says so before the swipe, not in a "Failed" after it.
 */
function useDryRun(target: () => HTMLElement | undefined, cardId: () => string | undefined) {
  const [problem, setProblem] = createSignal("");
  onMount(() => {
    const el = target();
    const id = cardId();
    if (!el || !id || typeof IntersectionObserver === "undefined") return;
    const seen = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      seen.disconnect();
      request<{ ok: boolean; error?: string }>(`/api/cards/${id}/dry-run`, { method: "POST" })
        .then((r) => setProblem(r.ok ? "" : (r.error ?? "the dry run failed")))
        // Offline or refused: no verdict, no warning.
        .catch(() => {});
    });
    seen.observe(el);
    onCleanup(() => seen.disconnect());
  });
  return problem;
}

/**
 * A merge or revert card's diff, read from GitHub through the server when first shown: the pull
 * request's changes, or what the revert pull request will change.
 */
function GithubDiff(props: { cardId: string }) {
  const [diff] = createResource(
    () => props.cardId,
    (id) => request<CardDiff>(`/api/cards/${id}/diff`),
  );
  return (
    <Switch>
      <Match when={diff.error}>
        <p role="note" class={styles.blocked}>
          Could not read the diff: {errorMessage(diff.error)}.
        </p>
      </Match>
      <Match when={!diff.error && diff()}>
        {(d) => (
          <>
            <Show when={d().truncated}>
              <p role="note">Only the start of the diff of {d().of} is shown: it is too long.</p>
            </Show>
            <DiffView diff={d().diff} />
          </>
        )}
      </Match>
    </Switch>
  );
}

/** A metric to choose an action for, and the source whose settings hold it when the card says. */
export interface ActionFor {
  metric: string;
  source?: string;
}

/** Still waiting for a person's decision (snoozed ones come back to it): its change is a proposal. */
export function awaitsDecision(status: CardStatus | undefined): boolean {
  return status === undefined || status === "pending" || status === "snoozed";
}

/** What the change section is headed, by where the card is: the proposal, or what became of it. */
function changeHeading(status: CardStatus | undefined, demo: boolean | undefined): string {
  if (awaitsDecision(status)) return "Accept will";
  switch (status) {
    case "accepted":
    case "applying":
      return "Being carried out";
    case "applied":
      return demo ? "Rehearsed" : "Carried out";
    case "failed":
      return "Tried, and failed";
    default:
      return "Proposed";
  }
}

/** "What accept will do" (or, decided, what became of it), in words first; the full diff on demand. */
export function CardChange(props: {
  change: Change | null;
  /** The card's status: a decided card's section says what became of its change. */
  status?: CardStatus;
  demo?: boolean;
  cardId?: string;
  /** A metric whose cards propose no action yet: an admin may choose one in Settings. */
  actionFor?: ActionFor;
  /** What carrying it out did ("opened acme/app#46"), or why it failed (see Evidence.outcome). */
  outcome?: { text: string; url?: string } | undefined;
}) {
  let section: HTMLElement | undefined;
  const problem = useDryRun(
    () => section,
    () => (props.change && props.change.type !== "none" && !props.demo ? props.cardId : undefined),
  );
  const heading = () => changeHeading(props.status, props.demo);
  const proposing = () => awaitsDecision(props.status);
  return (
    <section class={styles.change} aria-label={proposing() ? "What accept will do" : heading()} ref={section}>
      <h3 class={styles.sectionTitle}>{heading()}</h3>
      <p>{describeChange(props.change)}</p>
      <Show when={(props.status === "applied" || props.status === "failed") && !props.demo && props.outcome}>
        {(did) => (
          <p>
            {props.status === "failed" ? "Failed:" : "Done:"}{" "}
            <Show when={isWebPage(did().url) && did().url} fallback={did().text}>
              {(url) => (
                <a href={url()} target="_blank" rel="noopener noreferrer">
                  {did().text}
                </a>
              )}
            </Show>
          </p>
        )}
      </Show>
      <Show when={props.demo && proposing()}>
        <p class={styles.demoNote}>Demo card: accepting only rehearses this.</p>
      </Show>
      <Show when={problem()}>
        <p class={styles.blocked} role="note">
          Would fail now: {problem()}.
        </p>
      </Show>
      <Show when={props.actionFor}>
        {(wanted) => (
          <button
            type="button"
            class={styles.inlineLink}
            onClick={() => {
              const { metric, source } = wanted();
              navigate(
                `/settings?metric=${encodeURIComponent(metric)}${source ? `&source=${encodeURIComponent(source)}` : ""}`,
              );
            }}
          >
            Set an action for {wanted().metric} instead
          </button>
        )}
      </Show>
      <Switch>
        <Match when={props.change?.type === "patch" && (props.change as Extract<Change, { type: "patch" }>)}>
          {(c) => (
            <Reveal what="diff">
              {/* Loaded when first opened: most cards are decided from the preview and the words. */}
              <DiffView diff={c().diff} />
            </Reveal>
          )}
        </Match>
        <Match when={hasGithubDiff(props.change) && !props.demo && props.cardId}>
          {(id) => (
            <Reveal what="diff">
              <GithubDiff cardId={id()} />
            </Reveal>
          )}
        </Match>
        <Match
          when={props.change?.type === "github" && (props.change as Extract<Change, { type: "github" }>)}
        >
          {(c) => (
            <Show when={(c().params as { body?: string }).body}>
              {(body) => (
                <Reveal what="text">
                  <pre class={styles.prose}>{body()}</pre>
                </Reveal>
              )}
            </Show>
          )}
        </Match>
      </Switch>
    </section>
  );
}
