import type { CardKind, Change, Preview, Verification } from "@flick/shared";
import type { signals } from "../db/schema/index.ts";
import type { Logger } from "../lib/logger.ts";
import type { GitHubReads } from "./github.ts";
import type { AcceptRate } from "./rank.ts";
import type { RunState } from "./state.ts";

export type SignalRow = typeof signals.$inferSelect;
/** The signal a card's news came with, as far as a card's evidence needs it (its id and time). */
export type Told = Pick<SignalRow, "id" | "occurredAt">;

/** The longest title a card keeps: a longer proposal's title is cut there when it is written. */
export const TITLE_MAX = 200;

/** How long a card stands for another one set aside (`place: "aside"`) before that one comes back. */
export const SET_ASIDE_MS = 7 * 86_400_000;

/** What an agent proposes; the runtime turns it into a new card or an update of the open one. */
export interface CardUpsert {
  fingerprint: string;
  kind: CardKind;
  title: string;
  summary?: string;
  /** 0..1; the feed is ranked by it. */
  priority: number;
  priorityFactors?: Record<string, number>;
  preview?: Preview | null;
  change?: Change | null;
  evidence: {
    signalIds: string[];
    firstSeen: Date;
    lastSeen: Date;
    links?: { label: string; url: string }[];
    facts?: Record<string, string | number | boolean>;
    /**
     * The facts describe the situation whole (a metric's latest alarm), so they replace the
     * card's earlier ones instead of joining them; signals, links and times still accumulate.
     */
    replaceFacts?: boolean;
    /**
     * Fingerprints of cards this one stands for (set aside with `place: "aside"`): rejecting this
     * card brings them back to the feed at once. Replaces the card's earlier list.
     */
    standsFor?: string[];
    /**
     * Fingerprints whose news this card tells instead of cards of their own (the other series of a
     * metric's incident): rejecting it mutes them with it. Replaces the card's earlier list.
     */
    tells?: string[];
    /** The source whose settings chose the proposal (see Evidence.settingsSource); the latest counts. */
    settingsSource?: string;
    /**
     * Made from a demo source's sample signals (Evidence.demo). Set by the runtime, not by agents;
     * once set it stays: accepting the card only rehearses.
     */
    demo?: boolean;
  };
  verification?: Verification;
  /**
   * A card with this fingerprint was already decided. By default new evidence for it is dropped;
   * an agent that knows the situation is new (a regression, a new spike) sets this to open a card.
   */
  reopen?: boolean;
  /**
   * The fingerprint is muted (a person rejected its card), but this is news far beyond what they
   * rejected (a series breaking many times further): the card is made all the same, and says why.
   */
  pastMute?: boolean;
  /**
   * Only adds to the open card for this fingerprint, whoever wrote it: the evidence joins its own
   * and `compose` (required) writes it again from the merged facts; the card keeps its writer and
   * its place, and nothing else of it changes. Nothing is done when no card is open.
   */
  annotate?: boolean;
  /**
   * The situation is over (the job passes again, the PR's checks turned red): the open card for
   * this fingerprint, if any, is taken out of the feed (status expired). Nothing else is used.
   */
  withdraw?: boolean;
  /**
   * Only moves the open card for this fingerprint, whoever's it is, leaving its content alone:
   * "aside" keeps it out of the feed (snoozed for SET_ASIDE_MS, or until the card standing for it
   * is rejected) while another card stands for it — its agent's later proposals update it there
   * unless they are news (`reopen`); "back" returns a card set aside to the feed. Nothing else is
   * used.
   */
  place?: "aside" | "back";
  /**
   * What came of the change once it was carried out (the rollback's errors stopped, its metric came
   * back): this check joins the checks of the fingerprint's latest card that was really carried out
   * (applied, not rehearsed), replacing one of the same name; the card keeps its status and time.
   * Nothing else is used (see `outcome`).
   */
  outcome?: Verification[number];
  /**
   * With `place: "aside"`: the fingerprint of the card that stands for this one (proposed in the
   * same batch or already open); the set-aside card links to it.
   */
  asideFor?: string;
  /**
   * For cards several agents add to (a deploy's rollback card): the title and summary are written
   * from the merged facts of all of them, so whichever agent writes last tells the whole story; when
   * it returns a priority, so is the rank (two kinds of trouble outrank one, whoever saw which).
   */
  compose?: (
    facts: Record<string, string | number | boolean>,
    previousFactors?: Record<string, number>,
    /** The card's chart before this write (another agent's part's, maybe). */
    previousPreview?: Preview | null,
  ) => {
    title: string;
    summary: string;
    priority?: number;
    priorityFactors?: Record<string, number>;
    /** The facts the card keeps, when not all the merged ones still say something of it. */
    facts?: Record<string, string | number | boolean>;
    /** What the card proposes now, when that depends on what came since (a revert GitHub checked). */
    change?: Change;
    /** The card's chart drawn from the previous one and this part's (each part's chart kept). */
    preview?: Preview;
    /** The card's checks, when they are of all its parts. */
    verification?: Verification;
  };
}

/**
 * Moves the open card for `fingerprint`, if any, aside (for the card with fingerprint `standIn`)
 * or back, its content untouched (see `place`).
 */
export function moveCard(
  fingerprint: string,
  signal: Told,
  place: "aside" | "back",
  standIn?: string,
): CardUpsert {
  return {
    ...withdrawal(fingerprint, signal),
    withdraw: false,
    place,
    ...(standIn ? { asideFor: standIn } : {}),
  };
}

/**
 * `card`, standing for the cards with these fingerprints: it lists them (rejecting it brings them
 * back) and each is set aside behind it — the list and the moves from one place, so they agree.
 */
export function standFor(card: CardUpsert, fingerprints: string[], signal: Told): CardUpsert[] {
  return [
    { ...card, evidence: { ...card.evidence, standsFor: fingerprints } },
    ...fingerprints.map((f) => moveCard(f, signal, "aside", card.fingerprint)),
  ];
}

/** "This card's situation is over": the open card for `fingerprint`, if any, leaves the feed. */
export function withdrawal(fingerprint: string, signal: Told): CardUpsert {
  const at = signal.occurredAt;
  return {
    fingerprint,
    kind: "insight",
    title: "",
    priority: 0,
    evidence: { signalIds: [signal.id], firstSeen: at, lastSeen: at },
    withdraw: true,
  };
}

/**
 * What came of the carried-out card for `fingerprint`, as one of its checks (see CardUpsert.outcome):
 * told by a signal, or by the clock alone (an agent's `tick`: nothing came).
 */
export function outcome(
  fingerprint: string,
  told: SignalRow | Date,
  check: Verification[number],
): CardUpsert {
  const at = told instanceof Date ? told : told.occurredAt;
  const signalIds = told instanceof Date ? [] : [told.id];
  return {
    fingerprint,
    kind: "insight",
    title: "",
    priority: 0,
    evidence: { signalIds, firstSeen: at, lastSeen: at },
    outcome: check,
  };
}

export interface PastRollback {
  executor: string;
  state: "succeeded" | "failed";
  error: string | null;
  finishedAt: Date;
  /** The rollback card's fingerprint. */
  card: string;
  /** The rollback card's facts (what it told). */
  facts: Record<string, unknown>;
}

export interface OpenCardView {
  id: string;
  fingerprint: string;
  version: number;
  status: string;
  evidence: unknown;
  priority: number;
  priorityFactors: Record<string, number>;
}

export interface LatestCardView extends OpenCardView {
  agent: string;
  createdAt: Date;
  updatedAt: Date;
}

/** A card's change as carried out (see AgentContext.carriedOut): what the executor answered, and when. */
export interface CarriedOut {
  result: Record<string, unknown>;
  finishedAt: Date;
}

/** A metrics source as a clock-only agent sees it (see AgentContext.metricSources). */
export interface MetricSourceView {
  id: string;
  name: string;
  enabled: boolean;
  /** When its latest signal arrived (test signals aside); null before the first. */
  lastSignalAt: Date | null;
  /** The last request it refused, if any (see source_refusal). */
  refused: { at: Date; status: number; message: string } | null;
}

/** A person accepted the card: its change is waiting out the undo window, being made, or made. */
export function accepted(status: string): boolean {
  return status === "accepted" || status === "applying" || status === "applied";
}

export interface AgentContext {
  now: Date;
  /**
   * When the runtime telling the agent began: before it, Flick itself was not listening, so no
   * sender's silence can be counted from earlier.
   */
  runningSince: Date;
  log: Logger;
  /** The open (pending or snoozed) cards for these fingerprints, so agents can build on them. */
  openCards(fingerprints: string[]): Promise<Map<string, OpenCardView>>;
  /** The newest card for each fingerprint, whatever its status (was it accepted? when?). */
  latestCards(fingerprints: string[]): Promise<Map<string, LatestCardView>>;
  /**
   * How often the team accepted this agent's cards in this fingerprint family ("metric", "error"…),
   * smoothed toward 0.5 while there are few decisions, and on how many decisions that rests.
   */
  acceptRate(agent: string, family: string): Promise<AcceptRate>;
  /** A source's settings (the admin's configuration for it). */
  sourceSettings(sourceId: string): Promise<Record<string, unknown>>;
  /**
   * How accepted rollback cards of this repository's deploys went (not demo cards, not rehearsals),
   * over the last `days` days, newest first: which executor ran, whether it worked, its error.
   */
  rollbacksOf(repository: string, days: number): Promise<PastRollback[]>;
  /**
   * The latest change carried out for a card of each fingerprint (succeeded, not a rehearsal, not a
   * demo card): what it made ("number" of the issue it opened…) and when.
   */
  carriedOut(fingerprints: string[]): Promise<Map<string, CarriedOut>>;
  /** Whether an admin set up an enabled action of this name (so a card may propose calling it). */
  actionReady(name: string): Promise<boolean>;
  /**
   * Which of these fingerprints the team muted (rejecting a card mutes its fingerprint for a while):
   * a card proposed for one of them is dropped, so an agent must not gather others' news onto it.
   */
  muted(fingerprints: string[]): Promise<Set<string>>;
  /** The team's metrics sources (not the demo's), with when each last sent and what it last had refused. */
  metricSources(): Promise<MetricSourceView[]>;
  /**
   * Whether the workers have caught up: no signal due over a minute ago still waits. Until then
   * what an agent's state says of the latest arrivals is behind what has arrived.
   */
  caughtUp(): Promise<boolean>;
  /**
   * A run on a demo source's sample signals: they name repositories and services that are not the
   * team's, so nothing outside Flick is asked about them (no GitHub call with the team's token).
   */
  demo: boolean;
  /**
   * What the agent may read of GitHub (a job's log, a pull request now, whether a revert would go
   * through; the same revert is asked once a batch). Null without GITHUB_TOKEN, and on a demo
   * source's samples: they name repositories that are not the team's.
   */
  github: GitHubReads | null;
  /** What this agent remembers between batches; written with the batch's cards. */
  state: RunState;
}

export interface Agent {
  name: string;
  /** Signal kinds this agent reads: exact ("github.push") or a prefix ending in ".*" ("github.*"). */
  reads: string[];
  /** Handles the signals it reads (an agent of the clock alone, reading none, returns nothing). */
  run(ctx: AgentContext, signals: SignalRow[]): Promise<CardUpsert[]> | CardUpsert[];
  /**
   * Time passing with no signal (see RuntimeOptions.tickMs): for what waits on the clock rather
   * than on the next signal — an hour after a rollback with no event of its error is the news that
   * it stopped, and that error may never send another. Runs on the team's state only (a demo card
   * is never really carried out).
   */
  tick?(ctx: AgentContext): Promise<CardUpsert[]>;
}

/** An error that will not go away by trying again: the signal is parked at once. */
export class NonRetryableError extends Error {
  override name = "NonRetryableError";
}

export function defineAgent(agent: Agent): Agent {
  if (!/^[a-z][a-z0-9-]{1,40}$/.test(agent.name))
    throw new Error(`agent name "${agent.name}" must be kebab-case`);
  if (agent.reads.length === 0 && !agent.tick)
    throw new Error(`agent ${agent.name} reads no signal kinds and has no tick`);
  return agent;
}

export function agentReads(agent: Agent, kind: string): boolean {
  return agent.reads.some((pattern) =>
    pattern.endsWith(".*") ? kind.startsWith(pattern.slice(0, -1)) : pattern === kind,
  );
}
