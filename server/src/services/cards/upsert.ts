import { isDeepStrictEqual } from "node:util";
import { isSetAside, type Preview, type Verification } from "@flick/shared";
import { and, desc, eq, exists, gt, inArray, isNull, or, sql } from "drizzle-orm";
import { type CardUpsert, SET_ASIDE_MS, TITLE_MAX } from "../../agents/define.ts";
import type { Tx } from "../../db/client.ts";
import { cards, executions, mutes } from "../../db/schema/index.ts";
import { newId } from "../../lib/ids.ts";
import { storableText } from "../../lib/storable-text.ts";
import { appendCardEvents, type NewCardEvent } from "./events.ts";

const MAX_SIGNAL_IDS = 100;
const MAX_LINKS = 20;
/** Fingerprints a card tells the news of, kept (and muted with it) at most. */
const MAX_TELLS = 50;

interface StoredEvidence {
  signalIds: string[];
  count: number;
  firstSeen: string;
  lastSeen: string;
  links: { label: string; url: string }[];
  facts: Record<string, string | number | boolean>;
  /** Cards this one stands for (see CardUpsert.evidence.standsFor). */
  standsFor?: string[];
  /** Fingerprints this card tells the news of (see CardUpsert.evidence.tells). */
  tells?: string[];
  /** An agent set the card aside (another card stands for it); a person's snooze does not set it. */
  setAside?: boolean;
  /** The id of the card that stands (or stood) for this one when its agent set it aside. */
  standIn?: string;
  /** The source whose settings chose the proposal (see CardUpsert.evidence.settingsSource). */
  settingsSource?: string;
  /** Made from a demo source's samples (see CardUpsert.evidence.demo). */
  demo?: boolean;
  /** Every agent that wrote the card, when more than one did (a deploy's rollback card). */
  agents?: string[];
  /** What carrying out its accepted change did (see Evidence.outcome): kept through rewrites. */
  outcome?: { text: string; url?: string };
}

function clampPriority(p: number): number {
  return Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 0;
}

/**
 * The agents that wrote a card, when another agent than the one that wrote it last adds its part
 * (a deploy's rollback card: errors and metrics): the feed narrowed to either agent shows it.
 */
function writers(
  old: StoredEvidence | null,
  previous: string | undefined,
  agent: string,
): string[] | undefined {
  const before = old?.agents ?? (previous ? [previous] : []);
  const all = before.includes(agent) ? before : [...before, agent];
  return all.length > 1 ? all : undefined;
}

function mergeEvidence(old: StoredEvidence | null, u: CardUpsert["evidence"]): StoredEvidence {
  const known = new Set(old?.signalIds ?? []);
  const fresh = u.signalIds.filter((id) => !known.has(id));
  const links = [...(old?.links ?? [])];
  for (const link of u.links ?? []) if (!links.some((l) => l.url === link.url)) links.push(link);
  const first = old && new Date(old.firstSeen) < u.firstSeen ? old.firstSeen : u.firstSeen.toISOString();
  const last = old && new Date(old.lastSeen) > u.lastSeen ? old.lastSeen : u.lastSeen.toISOString();
  return {
    signalIds: [...(old?.signalIds ?? []), ...fresh].slice(-MAX_SIGNAL_IDS),
    count: (old?.count ?? 0) + fresh.length,
    firstSeen: first,
    lastSeen: last,
    links: links.slice(0, MAX_LINKS),
    facts: u.replaceFacts ? { ...(u.facts ?? {}) } : { ...(old?.facts ?? {}), ...(u.facts ?? {}) },
    ...(u.standsFor
      ? { standsFor: u.standsFor.slice(0, 20) }
      : old?.standsFor
        ? { standsFor: old.standsFor }
        : {}),
    ...(u.tells ? { tells: u.tells.slice(0, MAX_TELLS) } : old?.tells ? { tells: old.tells } : {}),
    ...(old?.standIn ? { standIn: old.standIn } : {}),
    ...(u.settingsSource
      ? { settingsSource: u.settingsSource }
      : old?.settingsSource
        ? { settingsSource: old.settingsSource }
        : {}),
    ...(u.demo || old?.demo ? { demo: true } : {}),
    ...(old?.outcome ? { outcome: old.outcome } : {}),
  };
}

/** The evidence of `card` with this proposal's merged in, and its writers when there are several. */
function mergedInto(card: { evidence?: unknown; agent: string }, u: AgentUpsert): StoredEvidence {
  const old = (card.evidence ?? null) as StoredEvidence | null;
  const agents = writers(old, card.agent, u.agent);
  return { ...mergeEvidence(old, u.evidence), ...(agents ? { agents } : {}) };
}

interface Place {
  status: "pending" | "snoozed";
  snoozedUntil: Date | null;
  /** Set aside by an agent (marked in the evidence), not snoozed by a person. */
  aside: boolean;
  /** Set aside for this card (its id), named in the evidence. */
  standIn?: string;
}

const IN_FEED: Place = { status: "pending", snoozedUntil: null, aside: false };

/** Set aside (for the card `standIn`, when known): snoozed for SET_ASIDE_MS. */
function aside(now: Date, standIn?: string): Place {
  return {
    status: "snoozed",
    snoozedUntil: new Date(now.getTime() + SET_ASIDE_MS),
    aside: true,
    ...(standIn ? { standIn } : {}),
  };
}

/**
 * Where a proposal puts its card: still aside when an agent had set it aside and this is no news
 * (not `reopen`: one more event of an error whose fix waits); else in the feed — but a card a
 * person snoozed wakes only for a signal it had not seen (or its snooze's end). An agent asking
 * again by the clock (a pull request GitHub had not worked out) rewrites its card from what it
 * already had, even as `reopen`, and that must not undo the person's "later".
 */
function placement(
  u: AgentUpsert,
  current: { status?: string | null; snoozedUntil?: Date | null; evidence?: unknown } | null,
): Place {
  if (current?.status !== "snoozed") return IN_FEED;
  const evidence = current.evidence as StoredEvidence | null;
  const snoozedUntil = current.snoozedUntil ?? null;
  if (isSetAside(current)) return u.reopen ? IN_FEED : { status: "snoozed", snoozedUntil, aside: true };
  const seen = new Set(evidence?.signalIds ?? []);
  return u.evidence.signalIds.some((id) => !seen.has(id))
    ? IN_FEED
    : { status: "snoozed", snoozedUntil, aside: false };
}

/** The same as JSON (the database gives jsonb's keys in its own order, drops undefined). */
function sameJson(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(a ?? null)), JSON.parse(JSON.stringify(b ?? null)));
}

/**
 * What a person decides on and where the card sits: a rewrite changing none of it is no new
 * version (its rank apart, see applyCardUpserts).
 */
const SEEN = [
  "agent",
  "kind",
  "title",
  "summary",
  "preview",
  "change",
  "verification",
  "evidence",
  "status",
  "snoozedUntil",
] as const;

/** The columns a place sets, the evidence marked (or unmarked) as set aside. */
function placed(evidence: unknown, p: Place) {
  const { setAside: _, ...rest } = (evidence ?? {}) as StoredEvidence;
  return {
    status: p.status,
    snoozedUntil: p.snoozedUntil,
    evidence: (p.aside
      ? { ...rest, setAside: true, ...(p.standIn ? { standIn: p.standIn } : {}) }
      : rest) as StoredEvidence,
  };
}

export interface UpsertOutcome {
  created: number;
  updated: number;
  muted: number;
  dropped: number;
  withdrawn: number;
}

/**
 * Writes agents' proposals: one open card per fingerprint gets updated (evidence merged, version
 * up, a snoozed card woken); a muted fingerprint makes nothing (unless the agent says the news is
 * far past what was rejected: `pastMute`); a decided fingerprint opens a new
 * card only when the agent says the situation is new. Runs inside the caller's transaction.
 */
export type AgentUpsert = CardUpsert & { agent: string };

/** Another transaction opened a card for one of these fingerprints meanwhile; retry the batch. */
export class ConcurrentCardWrite extends Error {
  override name = "ConcurrentCardWrite";
}

export async function applyCardUpserts(tx: Tx, asked: AgentUpsert[], now: Date): Promise<UpsertOutcome> {
  // An agent's text from outside (a sender's JSON, a CI log, GitHub's titles) may hold what the
  // database refuses: a NUL, half a surrogate pair.
  const proposed = storableText(asked);
  const outcome: UpsertOutcome = { created: 0, updated: 0, muted: 0, dropped: 0, withdrawn: 0 };
  // What came of carried-out cards: written to those, apart from the open cards' upserts.
  outcome.updated += await writeOutcomes(
    tx,
    proposed.filter((u) => u.outcome),
    now,
  );
  const upserts = proposed.filter((u) => !u.outcome);
  if (upserts.length === 0) return outcome;
  const fingerprints = [...new Set(upserts.map((u) => u.fingerprint))];

  // Set-based: one query each for mutes, open cards (locked) and decided fingerprints, whatever
  // the batch size; each query is a round trip, and on the embedded database a slice of the CPU.
  const activeMutes = await tx
    .select({ fingerprint: mutes.fingerprint })
    .from(mutes)
    .where(and(inArray(mutes.fingerprint, fingerprints), gt(mutes.until, now), isNull(mutes.userId)));
  const muted = new Set(activeMutes.map((m) => m.fingerprint));
  // A muted fingerprint is written only where its agent says the news is past the mute.
  const pastMute = new Set(upserts.filter((u) => u.pastMute).map((u) => u.fingerprint));
  const live = fingerprints.filter((f) => !muted.has(f) || pastMute.has(f));
  const openRows =
    live.length === 0
      ? []
      : await tx
          .select()
          .from(cards)
          .where(
            and(
              inArray(cards.fingerprint, live),
              or(eq(cards.status, "pending"), eq(cards.status, "snoozed")),
            ),
          )
          .for("update");
  const open = new Map(openRows.map((r) => [r.fingerprint, r]));
  const closedCandidates = live.filter((f) => !open.has(f));
  const decidedRows =
    closedCandidates.length === 0
      ? []
      : await tx
          .selectDistinct({ fingerprint: cards.fingerprint, status: cards.status })
          .from(cards)
          .where(inArray(cards.fingerprint, closedCandidates));
  // Each statement sees the data committed when it starts: an open card another worker committed
  // after the query above would look "decided" here and its evidence would be dropped. Start over.
  if (decidedRows.some((r) => r.status === "pending" || r.status === "snoozed")) {
    throw new ConcurrentCardWrite();
  }
  const decided = new Set(decidedRows.map((r) => r.fingerprint));

  const events: NewCardEvent[] = [];
  const inserts = new Map<string, typeof cards.$inferInsert>();
  const updates = new Map<string, { row: typeof cards.$inferSelect; wasSnoozed: boolean }>();
  const withdrawn = new Map<string, typeof cards.$inferSelect>();
  /** The open card as this batch has left it so far (none once withdrawn). */
  const openNow = (fingerprint: string) =>
    withdrawn.has(fingerprint) ? undefined : (updates.get(fingerprint)?.row ?? open.get(fingerprint));
  // Moves last: where a card sits is decided by whoever stands for it, after every agent's word on
  // its content in this batch (an alert's own notification would otherwise bring back the card
  // another agent set aside in the same batch, or a move would miss a card the batch creates).
  for (const u of [...upserts.filter((x) => !x.place), ...upserts.filter((x) => x.place)]) {
    if (u.withdraw) {
      // The situation went away (checks turned red, the job passed again): take the open card back.
      inserts.delete(u.fingerprint);
      const open_ = openNow(u.fingerprint);
      updates.delete(u.fingerprint);
      if (open_) withdrawn.set(u.fingerprint, open_);
      continue;
    }
    if (u.place) {
      // Only where the card sits: aside (snoozed) or back in the feed; its content stays. Moves come
      // after the batch's content, so the card standing for this one is written by now (new or open).
      const by = u.asideFor ? (inserts.get(u.asideFor)?.id ?? openNow(u.asideFor)?.id) : undefined;
      const pendingInsert = inserts.get(u.fingerprint);
      if (pendingInsert) {
        if (u.place === "aside") Object.assign(pendingInsert, placed(pendingInsert.evidence, aside(now, by)));
        continue;
      }
      const card = openNow(u.fingerprint);
      // Back: a card an agent set aside, not one a person snoozed (their "later" holds).
      if (!card || (u.place === "back" && !isSetAside(card))) continue;
      updates.set(u.fingerprint, {
        row: {
          ...card,
          ...placed(card.evidence, u.place === "aside" ? aside(now, by) : IN_FEED),
          updatedAt: now,
        },
        wasSnoozed: updates.get(u.fingerprint)?.wasSnoozed ?? card.status === "snoozed",
      });
      continue;
    }
    if (u.annotate) {
      // Another agent's word on an open card (a deploy that came after a rollback card's): it joins
      // the card's evidence, the card's own composer writes it again, and the card stays its
      // writer's, where it was.
      const card = inserts.get(u.fingerprint) ? undefined : openNow(u.fingerprint);
      if (!card || !u.compose) continue;
      const old = (card.evidence ?? null) as StoredEvidence | null;
      const evidence = { ...mergeEvidence(old, u.evidence), ...(old?.agents ? { agents: old.agents } : {}) };
      const row = { ...card, ...composed(u, evidence, card.priorityFactors, card.preview), updatedAt: now };
      const { setAside: _, ...rest } = evidence;
      row.evidence = (old?.setAside ? { ...rest, setAside: true } : rest) as StoredEvidence;
      updates.set(u.fingerprint, {
        row,
        wasSnoozed: updates.get(u.fingerprint)?.wasSnoozed ?? card.status === "snoozed",
      });
      continue;
    }
    if (muted.has(u.fingerprint) && !u.pastMute) {
      outcome.muted++;
      continue;
    }
    const pendingInsert = inserts.get(u.fingerprint);
    if (pendingInsert) {
      // A second proposal for a card this batch creates: fold it into the insert.
      const evidence = mergedInto(pendingInsert, u);
      Object.assign(
        pendingInsert,
        fields(u, pendingInsert),
        composed(u, evidence, pendingInsert.priorityFactors, pendingInsert.preview),
        placed(evidence, placement(u, pendingInsert)),
      );
      continue;
    }
    const current = openNow(u.fingerprint);
    if (current) {
      const evidence = mergedInto(current, u);
      const row = {
        ...current,
        ...fields(u, current),
        ...composed(u, evidence, current.priorityFactors, current.preview),
        ...placed(evidence, placement(u, current)),
        updatedAt: now,
      };
      updates.set(u.fingerprint, {
        row,
        wasSnoozed: updates.get(u.fingerprint)?.wasSnoozed ?? current.status === "snoozed",
      });
      continue;
    }
    if (!u.reopen && decided.has(u.fingerprint)) {
      outcome.dropped++;
      continue;
    }
    const evidence = mergeEvidence(null, u.evidence);
    inserts.set(u.fingerprint, {
      id: newId("card", now.getTime()),
      fingerprint: u.fingerprint,
      ...fields(u, null),
      ...composed(u, evidence),
      ...placed(evidence, IN_FEED),
      version: 1,
      createdAt: now,
      updatedAt: now,
    });
  }

  // Withdrawals first: a batch that takes a card back and then opens a new one for the same
  // fingerprint (a job green, then red at the next commit) must free the open slot before the insert.
  for (const row of withdrawn.values()) {
    const version = (open.get(row.fingerprint)?.version ?? row.version) + 1;
    await tx.update(cards).set({ status: "expired", version, updatedAt: now }).where(eq(cards.id, row.id));
    events.push({ cardId: row.id, type: "card.removed", version });
    outcome.withdrawn++;
  }
  if (inserts.size > 0) {
    const rows = [...inserts.values()];
    await tx.insert(cards).values(rows);
    // A card set aside from the start is not news to the feed yet.
    for (const r of rows)
      if (r.status !== "snoozed") events.push({ cardId: r.id, type: "card.created", version: 1 });
    outcome.created = rows.length;
  }
  for (const { row, wasSnoozed } of updates.values()) {
    const was = open.get(row.fingerprint);
    if (was && SEEN.every((k) => sameJson(was[k], row[k]))) {
      // The same proposal again (an agent asking GitHub again by the clock): no new version a swipe
      // on the card would be refused for, no move up the feed. Only its rank may have moved (its
      // recency aged): that is written as the hourly re-rank writes it, version and time kept.
      if (sameJson(was.priority, row.priority) && sameJson(was.priorityFactors, row.priorityFactors))
        continue;
      await tx
        .update(cards)
        .set({ priority: row.priority, priorityFactors: row.priorityFactors })
        .where(eq(cards.id, was.id));
      events.push({ cardId: was.id, type: "card.updated", version: was.version });
      continue;
    }
    const version = (was?.version ?? row.version) + 1;
    const { id, createdAt: _c, ...rest } = row;
    await tx
      .update(cards)
      .set({ ...rest, version })
      .where(eq(cards.id, id));
    // A woken card re-enters the feed, so clients see it as new; one set aside leaves it.
    const type = row.status === "snoozed" ? "card.removed" : wasSnoozed ? "card.created" : "card.updated";
    events.push({ cardId: id, type, version });
    outcome.updated++;
  }
  await appendCardEvents(tx, events, now);
  return outcome;
}

/**
 * Adds each outcome check to the latest card of its fingerprint that was really carried out (an
 * execution succeeded, not a rehearsal), replacing its check of the same name: a new version, an
 * update event, the card's status and time unchanged (the time says when it was carried out).
 * Returns how many cards changed.
 */
async function writeOutcomes(tx: Tx, upserts: AgentUpsert[], now: Date): Promise<number> {
  if (upserts.length === 0) return 0;
  const rows = await tx
    .select({
      id: cards.id,
      fingerprint: cards.fingerprint,
      verification: cards.verification,
      version: cards.version,
    })
    .from(cards)
    .where(
      and(
        inArray(cards.fingerprint, [...new Set(upserts.map((u) => u.fingerprint))]),
        eq(cards.status, "applied"),
        exists(
          tx
            .select({ one: sql`1` })
            .from(executions)
            .where(
              and(
                eq(executions.cardId, cards.id),
                eq(executions.state, "succeeded"),
                eq(executions.dryRun, false),
              ),
            ),
        ),
      ),
    )
    .orderBy(desc(cards.createdAt))
    .for("update");
  const latest = new Map<string, (typeof rows)[number]>();
  for (const r of rows) if (!latest.has(r.fingerprint)) latest.set(r.fingerprint, r);
  const changed = new Map<string, { id: string; version: number; verification: Verification }>();
  for (const u of upserts) {
    const card = latest.get(u.fingerprint);
    const check = u.outcome ? { ...u.outcome, after: true } : undefined;
    if (!card || !check) continue;
    const before = changed.get(card.id)?.verification ?? (card.verification as Verification);
    const same = before.findIndex((c) => c.check === check.check);
    // Field by field: the stored check comes back from jsonb with its keys in another order.
    const was = before[same];
    if (was && was.status === check.status && was.detail === check.detail && was.after) continue;
    const verification = same >= 0 ? before.map((c, i) => (i === same ? check : c)) : [...before, check];
    changed.set(card.id, { id: card.id, version: card.version + 1, verification });
  }
  for (const c of changed.values())
    await tx
      .update(cards)
      .set({ verification: c.verification, version: c.version })
      .where(eq(cards.id, c.id));
  await appendCardEvents(
    tx,
    [...changed.values()].map((c) => ({ cardId: c.id, type: "card.updated", version: c.version })),
    now,
  );
  return changed.size;
}

/**
 * Title, summary and, when the agent ranks them too, priority written from the merged evidence
 * (joined cards), so the last writer does not rank the card by its own part alone. When the agent
 * says which facts the card keeps, `evidence` is changed to keep those (it is placed after this).
 */
function composed(
  u: AgentUpsert,
  evidence: StoredEvidence,
  previousFactors?: unknown,
  previousPreview?: unknown,
): {
  title?: string;
  summary?: string;
  priority?: number;
  priorityFactors?: Record<string, number>;
  preview?: Preview;
  verification?: AgentUpsert["verification"];
  change?: AgentUpsert["change"];
} {
  if (!u.compose) return {};
  const c = u.compose(
    evidence.facts,
    (previousFactors ?? undefined) as Record<string, number> | undefined,
    (previousPreview ?? null) as Preview | null,
  );
  if (c.facts) evidence.facts = c.facts;
  return {
    title: c.title.slice(0, TITLE_MAX),
    summary: c.summary,
    ...(c.preview ? { preview: c.preview } : {}),
    ...(c.verification ? { verification: c.verification } : {}),
    ...(c.change ? { change: c.change } : {}),
    ...(c.priority === undefined
      ? {}
      : { priority: clampPriority(c.priority), priorityFactors: c.priorityFactors ?? {} }),
  };
}

/** The columns an agent's proposal sets; absent optional values keep what the card had. */
function fields(u: AgentUpsert, prev: Partial<typeof cards.$inferSelect> | null) {
  return {
    agent: u.agent,
    kind: u.kind,
    title: u.title.slice(0, TITLE_MAX),
    summary: u.summary ?? prev?.summary ?? "",
    priority: clampPriority(u.priority),
    priorityFactors: u.priorityFactors ?? prev?.priorityFactors ?? {},
    preview: u.preview === undefined ? (prev?.preview ?? null) : u.preview,
    change: u.change === undefined ? (prev?.change ?? null) : u.change,
    verification: u.verification ?? prev?.verification ?? [],
  };
}
