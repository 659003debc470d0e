import type { Change, Verification } from "@flick/shared";
import { z } from "zod";
import { type AgentContext, type CardUpsert, defineAgent, type SignalRow, withdrawal } from "../define.ts";
import {
  addToClusters,
  type Cluster,
  type ClusterState,
  clusterConcept,
  DEFAULT_SIMILARITY,
  membersSince,
  newClusterState,
  newCustomersSince,
  topic,
} from "../feedback/cluster.ts";
import {
  classifyByRules,
  classifyFeedback,
  type FeedbackClass,
  namesPattern,
  terms,
} from "../feedback/text.ts";
import type { IssueFound, IssueNow } from "../github.ts";
import { blast, rank, recency } from "../rank.ts";
import { type MuteMemory, newsPastMute } from "./past-mute.ts";
import { repositorySetting } from "./settings.ts";
import { day } from "./words.ts";

const WEEK = 7 * 86_400_000;

/**
 * What a cluster's latest card told: how many customers it counted in the week to `to` (and, while
 * its fingerprint is muted, what the rejected card told and why a card came all the same).
 */
interface Told extends MuteMemory<number> {
  thisWeek: number;
  /** When the week it counted ended (ms). Absent in states kept before it was. */
  to?: number;
  /** How many customers who asked after that week it told of (see Week.since). */
  more?: number;
}
const toldKey = (fingerprint: string) => `told:${fingerprint}`;

/**
 * An open card that says "this week", listed for the clock: at `due` the earliest customer it
 * counted is a week old, and the card may have to name its week instead (see tick).
 */
interface Weekly {
  f: string;
  sourceId: string;
  cluster: number;
  due: number;
}
/** Where the feedback agent lists them. */
const WEEKLY_KEY = "weekly";
/** The most it lists (the newest kept). */
const WEEKLY_MAX = 400;

/** Feedback source settings: how many similar items in a week make a card, and where issues go. */
export const feedbackSourceSettings = z
  .object({
    clusterThreshold: z.number().int().min(2).max(1000).default(5),
    similarity: z.number().min(0.05).max(0.95).default(DEFAULT_SIMILARITY),
    repository: repositorySetting,
    /** The product's and company's names: every review says them, so they are no topic. */
    names: z.array(z.string().trim().min(1).max(60)).max(50).default([]),
  })
  .passthrough();

interface Item {
  text: string;
  author?: string;
  channel?: string;
  rating?: number;
}

function claim(c: Cluster, n: number, when: string): string {
  const t = topic(c);
  if (c.cls === "bug") return `${n} customers report a problem with "${t}" ${when}`;
  // "asked for "csv export"" but "asked about "heart rate"": a concept is a subject, not a request.
  return clusterConcept(c)
    ? `${n} customers asked about "${t}" ${when}`
    : `${n} customers asked for "${t}" ${when}`;
}

/**
 * The customers a card counts: in the week to `to` (ms); `over`: that week is no longer this one,
 * and `since` new customers (the latest at `last`) asked after it, too few for a week's card.
 */
interface Week {
  customers: number;
  messages: number;
  to: number;
  over: boolean;
  since?: { customers: number; last?: number };
}

/** The week to `to` a card counted (see Told), over now: its customers, and who asked since. */
function namedWeek(cluster: Cluster, told: Told, to: number): Week {
  return {
    customers: told.thisWeek,
    messages: membersSince(cluster, to - WEEK, to).messages,
    to,
    over: true,
    since: newCustomersSince(cluster, to, WEEK),
  };
}

type FeedbackSettings = z.infer<typeof feedbackSourceSettings>;

/** Labels that say an issue is a report of something broken, or a request for something new. */
const BUG_LABEL = /^(bug|defect|regression)$/i;
const FEATURE_LABEL = /^(enhancement|feature|feature request|feature-request)$/i;

/** What an issue is: a report of something broken, a request, or not known. */
function kindOf(issue: IssueFound): FeedbackClass {
  const labelled = (what: RegExp) => issue.labels.some((l) => what.test(l));
  const bug = labelled(BUG_LABEL);
  const feature = labelled(FEATURE_LABEL);
  if (bug !== feature) return bug ? "bug" : "feature";
  return bug ? "noise" : classifyByRules(issue.title);
}

/** A bug report's other kind is a request, and the other way round. */
function otherKind(cls: FeedbackClass): FeedbackClass | null {
  return cls === "bug" ? "feature" : cls === "feature" ? "bug" : null;
}

/** How long what GitHub's search found for a cluster is taken as read. */
const SEARCHED_FOR_MS = 60 * 60_000;

/**
 * An open issue in `repository` already about the cluster's topic (every word of the topic in its
 * title), asked of GitHub's search at most hourly per cluster (and again when its topic changes):
 * the issue, none, why it is not known, or null when GitHub is not asked (no token, demo samples).
 */
async function openIssueOn(
  ctx: AgentContext,
  repository: string,
  fingerprint: string,
  cluster: Cluster,
): Promise<{ issue: IssueFound | null } | string | null> {
  const search = ctx.github?.searchIssues;
  if (!search) return null;
  const about = topic(cluster);
  // The topic's words as the clusters weigh them (stemmed the same way), pairs left out.
  const words = terms(about).filter((w) => !w.includes(" "));
  if (words.length === 0) return { issue: null };
  const key = `issueOn:${fingerprint}`;
  const kept = await ctx.state.get<{ at: number; about: string; issue: IssueFound | null }>(key);
  if (kept && kept.about === about && ctx.now.getTime() - kept.at < SEARCHED_FOR_MS)
    return { issue: kept.issue };
  const found = await search(repository, words);
  if (typeof found === "string") return found;
  // A report of something broken is not a feature request's issue, nor the other way round: as its
  // labels say, else as its title reads to the rules that class customers' words ("Workouts export
  // broken on Android" is no place for customers asking to export workouts). And at least half of
  // its title's words are the cluster's: "Sync with Google Fit" has a one-word topic's word, but is
  // not what customers whose watch stopped syncing wrote about.
  const theirs = new Set(Object.keys(cluster.vec));
  const issue =
    found.find((i) => {
      const titled = terms(i.title).filter((w) => !w.includes(" "));
      const shared = titled.filter((w) => theirs.has(w)).length;
      return (
        words.every((w) => titled.includes(w)) &&
        2 * shared >= titled.length &&
        kindOf(i) !== otherKind(cluster.cls)
      );
    }) ?? null;
  ctx.state.set(key, { at: ctx.now.getTime(), about, issue });
  return { issue };
}

/**
 * A cluster's card: what its customers said in the week it counts, proposing an issue with their
 * words — or, where an open issue is about it already, their words as a comment on that one.
 */
async function clusterCard(
  ctx: AgentContext,
  conf: FeedbackSettings,
  fingerprint: string,
  cluster: Cluster,
  signalIds: string[],
  week: Week,
  past: string | null,
): Promise<CardUpsert> {
  const { customers, messages } = week;
  const when = week.over ? `in the week to ${day(new Date(week.to), ctx.now)}` : "this week";
  // "1 more customer since then, on Dec 2": asked after the week the card counts.
  const more = week.since?.customers
    ? `${week.since.customers} more ${week.since.customers === 1 ? "customer" : "customers"} since then${week.since.last ? `, ${week.since.customers === 1 ? "on" : "the latest on"} ${day(new Date(week.since.last), ctx.now)}` : ""}`
    : "";
  const quotes = cluster.recent
    .slice(-5)
    .reverse()
    .map((r) => `> ${r.quote}`);
  const body = `${customers} customers ${when}${messages > customers ? `, in ${messages} messages` : ""} (${cluster.size} in all)${more ? `; ${more}` : ""}.\n\n${quotes.join("\n\n")}`;
  const existing = conf.repository ? await openIssueOn(ctx, conf.repository, fingerprint, cluster) : null;
  const on = typeof existing === "object" ? existing?.issue : null;
  const change: Change = !conf.repository
    ? { type: "none" }
    : on
      ? {
          type: "github",
          operation: "comment",
          repository: conf.repository,
          params: { number: on.number, body },
        }
      : {
          type: "github",
          operation: "create_issue",
          repository: conf.repository,
          params: {
            title:
              cluster.cls === "bug"
                ? `Customers report: ${topic(cluster)}`
                : `Feature request: ${topic(cluster)}`,
            body,
            labels: [cluster.cls === "bug" ? "bug" : "enhancement", "customer-feedback"],
          },
        };
  const searched = `an open issue on "${topic(cluster)}" in ${conf.repository}`;
  const checked: Verification =
    existing === null
      ? []
      : [
          typeof existing === "string"
            ? { check: searched, status: "skipped", detail: `not known: ${existing}` }
            : {
                check: searched,
                status: "passed",
                detail: on ? `#${on.number} "${on.title}"` : "none: no open issue's title has its words",
              },
        ];
  const accept = !conf.repository
    ? "Set a repository in the source's settings to get an issue proposed."
    : on
      ? `#${on.number} "${on.title}" is open on it already: accept adds their words to it as a comment (quoting the ${quotes.length} latest) instead of opening another.`
      : `Accept opens an issue in ${conf.repository} quoting the ${quotes.length} latest.`;
  return {
    fingerprint,
    kind: !conf.repository ? "insight" : on ? "action" : "issue",
    title: `${claim(cluster, customers, when)}${on ? ` — add their words to #${on.number}?` : ""}`,
    // The preview quotes them; the summary says how many, since when, and what accept does.
    summary: `${
      messages > customers
        ? `${customers} customers ${when} in ${messages} messages (one who wrote again counts once), ${cluster.size} messages`
        : `${customers} ${when}, ${cluster.size}`
    } in all since ${day(new Date(cluster.times[0] ?? cluster.updatedAt), ctx.now)}${more ? `; ${more}` : ""}.${past ? ` ${past}` : ""} ${accept}`,
    ...rank({
      // Second-hand and days old: below a production error or a red default branch of the
      // same reach; a request below a report of something broken.
      severity: cluster.cls === "bug" ? 0.5 : 0.3,
      // The customers who wrote, not a guess at the ones who did not.
      blastRadius: blast(customers),
      // Card-sized clusters are ~60% one topic (`pnpm bench quality`): no surer than that.
      confidence: Math.min(0.6, 0.3 + customers / 50),
      recency: recency(new Date(cluster.updatedAt), ctx.now),
      acceptRate: await ctx.acceptRate("feedback", "feedback"),
    }),
    preview: {
      type: "text",
      text: cluster.recent
        .slice(-3)
        .reverse()
        .map((r) => `“${r.quote}”`)
        .join("\n\n")
        .slice(0, 4000),
    },
    change,
    ...(checked.length ? { verification: checked } : {}),
    evidence: {
      signalIds,
      ...(on && /^https:\/\//.test(on.url) ? { links: [{ label: `#${on.number}`, url: on.url }] } : {}),
      firstSeen: new Date(cluster.times[0] ?? cluster.updatedAt),
      lastSeen: new Date(cluster.updatedAt),
      facts: {
        class: cluster.cls,
        ...(week.over
          ? {
              customers,
              "in the week to": day(new Date(week.to), ctx.now),
              ...(week.since?.customers ? { "more since": week.since.customers } : {}),
            }
          : { thisWeek: customers }),
        total: cluster.size,
        topic: topic(cluster),
      },
      replaceFacts: true,
    },
    ...(past ? { pastMute: true } : {}),
  };
}

/** A cluster's own card (its week's customers, proposing an issue). */
const clusterKey = (sourceId: string, cluster: number) => `feedback:cluster:${sourceId}:${cluster}`;
/** The card telling the issue Flick opened for a cluster of the customers who asked since. */
const moreKey = (sourceId: string, cluster: number) => `feedback:more:${sourceId}:${cluster}`;
/** Which cluster a follow-up card told an issue about (read when GitHub says the issue closed). */
const followedKey = (repository: string, number: number) => `followed:${repository}#${number}`;
interface Followed {
  sourceId: string;
  cluster: number;
  /**
   * GitHub said it was closed (when asked, ms; when closed, ms; as not planned): not asked again
   * within CLOSED_KNOWN_MS while it could make no card (see moreSinceIssue).
   */
  closed?: { askedAt: number; closedAt: number | null; notPlanned: boolean };
}

/**
 * How long GitHub's word that an issue is closed is taken as it stands: a busy cluster otherwise
 * asked about its closed issue at each message that still made too few since the close. Its
 * `issues` webhook closing or reopening the issue is heard at once (see issuesMoved).
 */
const CLOSED_KNOWN_MS = 60 * 60_000;

/** Why a closed issue was closed, in a card's words. */
function closedAs(issue: IssueNow, now: Date): string {
  const as =
    issue.reason === "completed" ? " as done" : issue.reason === "duplicate" ? " as a duplicate" : "";
  return `closed${as}${issue.closedAt ? ` on ${day(issue.closedAt, now)}` : ""}`;
}

/**
 * Clusters whose card was accepted and opened an issue: once as many customers as make a card
 * (`clusterThreshold`) asked since — customers who had not asked before — a card proposes adding
 * their words to that issue as a comment. Its accept starts the count again. GitHub is asked where
 * the issue stands first: closed as done (or a duplicate), the customers asking after it was closed
 * are counted, and the card proposes reopening it with their words; closed as not planned, the
 * team decided, and no card asks again.
 */
async function moreSinceIssue(
  ctx: AgentContext,
  conf: FeedbackSettings,
  sourceId: string,
  grown: { cluster: Cluster; signalIds: string[]; fingerprint: string }[],
): Promise<CardUpsert[]> {
  if (grown.length === 0) return [];
  const done = await ctx.carriedOut(grown.flatMap((g) => [g.fingerprint, moreKey(sourceId, g.cluster.id)]));
  const due = grown.flatMap((g) => {
    const opened = done.get(g.fingerprint);
    // The issue it opened (or commented on: an open one was about it already), by its page (the
    // repository it went to, whatever the settings say now).
    const url = String(opened?.result.url ?? "");
    const issue = /([^/]+\/[^/]+)\/issues\/(\d+)(#issuecomment-\d+)?$/.exec(url);
    if (!opened || !issue) return [];
    const added = done.get(moreKey(sourceId, g.cluster.id)) ?? (issue[3] ? opened : undefined);
    const since = Math.max(opened.finishedAt.getTime(), added?.finishedAt.getTime() ?? 0);
    // Customers who had not asked before: one who asked then and writes again is no one new.
    const fresh = newCustomersSince(g.cluster, since, Number.POSITIVE_INFINITY);
    if (fresh.customers < conf.clusterThreshold) return [];
    return [
      {
        ...g,
        repository: issue[1] ?? "",
        number: Number(issue[2]),
        url: url.replace(/#issuecomment-\d+$/, ""),
        since,
        added: Boolean(added),
      },
    ];
  });
  // Closed, as GitHub said within the hour, and still too few since (or not planned): not asked.
  const remembered = await Promise.all(
    due.map((d) => ctx.state.get<Followed>(followedKey(d.repository, d.number))),
  );
  const stillClosed = due.map((d, i) => {
    const c = remembered[i]?.closed;
    if (!c || ctx.now.getTime() - c.askedAt >= CLOSED_KNOWN_MS) return false;
    const since = Math.max(d.since, c.closedAt ?? 0);
    return (
      c.notPlanned ||
      newCustomersSince(d.cluster, since, Number.POSITIVE_INFINITY).customers < conf.clusterThreshold
    );
  });
  // Asked at once: a GitHub slow to answer holds the batch for one timeout.
  const github = ctx.github;
  const answers = await Promise.all(
    due.map((d, i) =>
      github && !stillClosed[i] ? github.issue(d.repository, d.number) : Promise.resolve(null),
    ),
  );
  const open = await ctx.openCards(due.map((d) => moreKey(sourceId, d.cluster.id)));
  const out: CardUpsert[] = [];
  /** No card for it now: a waiting one is taken back. */
  const takeBack = (key: string, signalIds: string[]) => {
    const last = signalIds.at(-1);
    if (open.has(key) && last) out.push(withdrawal(key, { id: last, occurredAt: ctx.now }));
  };
  for (const [i, d] of due.entries()) {
    const { cluster, signalIds } = d;
    const key = moreKey(sourceId, cluster.id);
    if (stillClosed[i]) {
      takeBack(key, signalIds);
      continue;
    }
    const now = answers[i] ?? null;
    const known = typeof now === "object" && now !== null ? now : null;
    const repository = known?.repository ?? d.repository;
    const number = known?.number ?? d.number;
    const page = known?.url ?? d.url;
    const closed = known && !known.open ? known : null;
    // Its issue closing or reopening on GitHub looks at the card again (see the agent's run); what
    // GitHub said of it is remembered (not known: as it was).
    const followed = followedKey(repository, number);
    const was = await ctx.state.get<Followed>(followed);
    const heard = known
      ? closed && {
          askedAt: ctx.now.getTime(),
          closedAt: closed.closedAt?.getTime() ?? null,
          notPlanned: closed.reason === "not_planned",
        }
      : was?.closed;
    if (was?.sourceId !== sourceId || was.cluster !== cluster.id || known)
      ctx.state.set(followed, { sourceId, cluster: cluster.id, ...(heard ? { closed: heard } : {}) });
    // Closed as done: those who asked before it was closed are what it answered.
    const since = closed?.closedAt ? Math.max(d.since, closed.closedAt.getTime()) : d.since;
    const fresh = newCustomersSince(cluster, since, Number.POSITIVE_INFINITY);
    // Closed as not planned, the team decided: more voices are no reason to ask again.
    if (closed?.reason === "not_planned" || fresh.customers < conf.clusterThreshold) {
      takeBack(key, signalIds);
      continue;
    }
    // Their words: not those of a customer who had asked before (the issue may quote them already).
    const before = new Set(
      cluster.times.flatMap((t, i) => (t <= since && cluster.who?.[i] ? [cluster.who[i]] : [])),
    );
    const words = cluster.recent
      .filter((r) => r.at > since && !(r.who && before.has(r.who)))
      .slice(-5)
      .reverse();
    const sinceWhat = closed
      ? `#${number} was ${closedAs(closed, ctx.now)}`
      : d.added
        ? `Flick last added to #${number}`
        : `Flick opened #${number}`;
    const latest = fresh.last ? `, the latest on ${day(new Date(fresh.last), ctx.now)}` : "";
    const quoted = words.map((r) => `> ${r.quote}`).join("\n\n");
    const checked: Verification[number] = {
      check: `${repository}#${number} on GitHub`,
      ...(known
        ? { status: "passed", detail: closed ? closedAs(closed, ctx.now) : "open" }
        : {
            status: "skipped",
            detail: github ? `not known: ${String(now)}` : "not asked: GITHUB_TOKEN is not set",
          }),
    };
    out.push({
      fingerprint: key,
      kind: "action",
      title: `${claim(cluster, fresh.customers, `since ${sinceWhat}`)} — ${closed ? "reopen it with their words" : "add their words to it"}?`,
      summary: closed
        ? `${repository}#${number} was ${closedAs(closed, ctx.now)}, and ${fresh.customers} customers who had not asked before wrote since${latest}: what it did may not have reached them, or not be what they ask for. Accept reopens it with their words as a comment (${cluster.size} messages in the cluster in all).`
        : `${fresh.customers} customers who had not asked before wrote since ${day(new Date(since), ctx.now)}${latest}; the issue does not have their words. Accept adds them to ${repository}#${number} as a comment (${cluster.size} messages in the cluster in all).`,
      ...rank({
        // What the issue already stands for, with more voices: below a new cluster's card. Asking
        // again after it was closed as done is more: what was done did not answer them.
        severity: (cluster.cls === "bug" ? 0.4 : 0.2) + (closed ? 0.1 : 0),
        blastRadius: blast(fresh.customers),
        confidence: Math.min(0.6, 0.3 + fresh.customers / 50),
        recency: recency(new Date(cluster.updatedAt), ctx.now),
        acceptRate: await ctx.acceptRate("feedback", "feedback"),
      }),
      preview: {
        type: "text",
        text: words
          .slice(0, 3)
          .map((r) => `“${r.quote}”`)
          .join("\n\n")
          .slice(0, 4000),
      },
      change: {
        type: "github",
        operation: closed ? "reopen_issue" : "comment",
        repository,
        params: {
          number,
          body: closed
            ? `Reopened by Flick: ${fresh.customers} customers asked since it was ${closedAs(closed, ctx.now)}:\n\n${quoted}`
            : `${fresh.customers} more customers asked since ${day(new Date(since), ctx.now)}:\n\n${quoted}`,
        },
      },
      ...(ctx.demo ? {} : { verification: [checked] }),
      evidence: {
        signalIds,
        ...(/^https:\/\//.test(page) ? { links: [{ label: `#${number}`, url: page }] } : {}),
        firstSeen: new Date(since),
        lastSeen: new Date(cluster.updatedAt),
        facts: {
          class: cluster.cls,
          issue: `${repository}#${number}`,
          customersSince: fresh.customers,
          topic: topic(cluster),
        },
        replaceFacts: true,
      },
      // After a comment it carried out, the next round is a card of its own.
      reopen: true,
    });
  }
  return out;
}

/**
 * GitHub's word that an issue a follow-up card was about closed or reopened: that cluster's
 * follow-up is looked at again (taken back, or turned into reopening it, or back into a comment).
 */
async function issuesMoved(ctx: AgentContext, batch: SignalRow[]): Promise<CardUpsert[]> {
  const out: CardUpsert[] = [];
  for (const s of batch) {
    if (s.kind !== "github.issues") continue;
    const e = s.payload as {
      action?: string;
      issue?: { number?: number };
      repository?: { full_name?: string };
    };
    const repository = e.repository?.full_name;
    const number = e.issue?.number;
    if ((e.action !== "closed" && e.action !== "reopened") || !repository || typeof number !== "number")
      continue;
    const followed = await ctx.state.get<Followed>(followedKey(repository, number));
    if (!followed) continue;
    // What GitHub said of it before is out of date: asked again.
    if (followed.closed) {
      const { closed: _, ...rest } = followed;
      ctx.state.set(followedKey(repository, number), rest);
    }
    const fingerprint = clusterKey(followed.sourceId, followed.cluster);
    const clusters = await ctx.state.get<ClusterState>(`clusters:${followed.sourceId}`);
    const cluster = clusters?.clusters.find((c) => c.id === followed.cluster);
    if (!cluster || !(await ctx.openCards([moreKey(followed.sourceId, cluster.id)])).size) continue;
    const conf = await settingsOf(ctx, followed.sourceId);
    out.push(
      ...(await moreSinceIssue(ctx, conf, followed.sourceId, [{ cluster, signalIds: [s.id], fingerprint }])),
    );
  }
  return out;
}

/**
 * Feedback clusters: each item is classified (bug / feature / noise; noise is dropped) and joins
 * the nearest cluster of its class (TF-IDF cosine, no model). A cluster that reaches the source's
 * threshold within a week becomes a card proposing an issue with the customers' own words; once
 * that issue is opened, as many new customers again make a card proposing to add their words to it.
 */
export const feedbackAgent = defineAgent({
  name: "feedback",
  // GitHub's issue events: an issue a follow-up card proposes to comment on (or reopen) closing or
  // reopening changes what the card should propose, before any customer writes again.
  reads: ["feedback", "github.issues"],
  async run(ctx, batch) {
    const bySource = new Map<string, typeof batch>();
    for (const s of batch)
      if (s.kind === "feedback") bySource.set(s.sourceId, [...(bySource.get(s.sourceId) ?? []), s]);
    const out: CardUpsert[] = [];
    const weekly = (await ctx.state.get<Weekly[]>(WEEKLY_KEY)) ?? [];
    const listed = new Map(weekly.map((w) => [w.f, w]));
    for (const [sourceId, signals] of bySource) {
      const conf = await settingsOf(ctx, sourceId);
      const key = `clusters:${sourceId}`;
      const state = (await ctx.state.get<ClusterState>(key)) ?? newClusterState();
      const grown = new Map<number, { cluster: Cluster; signalIds: string[] }>();
      const names = namesPattern(conf.names);
      for (const s of signals) {
        const item = s.payload as Item;
        const cls = classifyFeedback(item.text, item.rating);
        if (cls === "noise") continue;
        const c = addToClusters(
          state,
          { text: item.text, cls, at: s.occurredAt.getTime(), signalId: s.id, author: item.author },
          conf.similarity,
          names,
        );
        const g = grown.get(c.id) ?? { cluster: c, signalIds: [] };
        g.signalIds.push(s.id);
        grown.set(c.id, g);
      }
      ctx.state.set(key, state);
      const counted = [...grown.values()].map((g) => {
        const to = Math.max(ctx.now.getTime(), g.cluster.updatedAt);
        // Customers, not messages: one person writing five times is one voice, not a trend.
        const { customers, messages, first } = membersSince(g.cluster, to - WEEK);
        const week: Week = { customers, messages, to, over: false };
        return { ...g, week, first, fingerprint: clusterKey(sourceId, g.cluster.id) };
      });
      out.push(...(await moreSinceIssue(ctx, conf, sourceId, counted)));
      const ready = counted.filter((g) => g.week.customers >= conf.clusterThreshold);
      const quiet = counted.filter((g) => g.week.customers < conf.clusterThreshold);
      await ctx.state.load(counted.map((g) => toldKey(g.fingerprint)));
      // Too few this week for a card, but a card of an earlier week still waits for a decision:
      // it says who asked since (with their words first), so whoever decides it knows.
      const open = quiet.length > 0 ? await ctx.openCards(quiet.map((g) => g.fingerprint)) : new Map();
      for (const { cluster, signalIds, fingerprint } of quiet) {
        const told = await ctx.state.get<Told>(toldKey(fingerprint));
        if (!open.has(fingerprint) || told?.to === undefined) continue;
        const week = namedWeek(cluster, told, told.to);
        const more = week.since?.customers ?? 0;
        if (more <= (told.more ?? 0)) continue;
        ctx.state.set(toldKey(fingerprint), { ...told, more });
        out.push(await clusterCard(ctx, conf, fingerprint, cluster, signalIds, week, told.pastWhy ?? null));
        // It names its week now: the clock has nothing to add.
        listed.delete(fingerprint);
      }
      // One query for the batch: most clusters are not muted, and those need no more.
      const mutes = await ctx.muted(ready.map((g) => g.fingerprint));
      for (const { cluster, signalIds, week, first, fingerprint } of ready) {
        const told = (await ctx.state.get<Told>(toldKey(fingerprint))) ?? { thisWeek: 0 };
        // Kept before the mute memory was: what the rejected card told is its count.
        if (told.shown === undefined && told.thisWeek > 0) told.shown = told.thisWeek;
        // A cluster whose card was rejected stays quiet — unless it grew far past the count the
        // person rejected (three times, and 10 more): more customers than anyone chose to ignore.
        const { muted, why } = mutes.has(fingerprint)
          ? await newsPastMute(ctx, fingerprint, told, week.customers, (now, shown) =>
              now >= Math.max(3 * shown, shown + 10)
                ? `Its card was rejected when ${shown} customers had asked in a week; now ${now} have`
                : null,
            )
          : { muted: false, why: null };
        if (muted && !why) {
          ctx.state.set(toldKey(fingerprint), told);
          continue;
        }
        ctx.state.set(toldKey(fingerprint), {
          thisWeek: week.customers,
          to: week.to,
          ...(muted ? { shown: told.shown, pastWhy: told.pastWhy } : { shown: week.customers }),
        });
        // Decided is decided (an accepted cluster has its issue), but for growth past a reject.
        out.push({
          ...(await clusterCard(ctx, conf, fingerprint, cluster, signalIds, week, why)),
          reopen: why !== null,
        });
        if (first !== undefined)
          listed.set(fingerprint, { f: fingerprint, sourceId, cluster: cluster.id, due: first + WEEK });
      }
    }
    if (listed.size !== weekly.length || [...listed.values()].some((w, i) => w !== weekly[i]))
      ctx.state.set(WEEKLY_KEY, [...listed.values()].slice(-WEEKLY_MAX));
    out.push(...(await issuesMoved(ctx, batch)));
    return out;
  },
  // "This week" ends by the clock: a card whose customers no longer all wrote in the last seven
  // days names the week it counted ("in the week to Nov 21") instead — nothing else may come.
  async tick(ctx) {
    const weekly = (await ctx.state.get<Weekly[]>(WEEKLY_KEY)) ?? [];
    const now = ctx.now.getTime();
    const due = weekly.filter((w) => w.due <= now);
    if (due.length === 0) return [];
    const cards = await ctx.latestCards(due.map((w) => w.f));
    await ctx.state.load([
      ...due.map((w) => toldKey(w.f)),
      ...new Set(due.map((w) => `clusters:${w.sourceId}`)),
    ]);
    const listed = new Map(weekly.map((w) => [w.f, w]));
    const out: CardUpsert[] = [];
    for (const w of due) {
      const status = cards.get(w.f)?.status;
      const told = await ctx.state.get<Told>(toldKey(w.f));
      const state = await ctx.state.get<ClusterState>(`clusters:${w.sourceId}`);
      const cluster = state?.clusters.find((c) => c.id === w.cluster);
      listed.delete(w.f);
      if ((status !== "pending" && status !== "snoozed") || told?.to === undefined || !cluster) continue;
      // Still all within the week (one who wrote again): due again when the next one is not.
      const left = membersSince(cluster, now - WEEK, told.to);
      if (left.customers >= told.thisWeek && left.first !== undefined) {
        listed.set(w.f, { ...w, due: left.first + WEEK });
        continue;
      }
      const week = namedWeek(cluster, told, told.to);
      out.push(
        await clusterCard(
          ctx,
          await settingsOf(ctx, w.sourceId),
          w.f,
          cluster,
          [],
          week,
          told.pastWhy ?? null,
        ),
      );
    }
    ctx.state.set(WEEKLY_KEY, [...listed.values()]);
    return out;
  },
});

async function settingsOf(ctx: AgentContext, sourceId: string): Promise<FeedbackSettings> {
  const parsed = feedbackSourceSettings.safeParse(await ctx.sourceSettings(sourceId));
  return parsed.success ? parsed.data : feedbackSourceSettings.parse({});
}
