import { labelKey } from "../../ingest/common.ts";
import { median } from "../metrics/detector.ts";

/**
 * Labels that say which copy of a service sent a series (a pod, an instance, a container's id, the
 * machine), not what is measured: a deploy or a rescheduling changes them.
 */
export const REPLICA_LABELS = new Set([
  "pod",
  "pod_name",
  "kubernetes_pod_name",
  "pod_uid",
  "instance",
  "container_id",
  "id",
  "uid",
  "host",
  "hostname",
  "node",
  "nodename",
  "replica",
  "task_id",
  "alloc_id",
]);

/** The replica labels among these label names, in REPLICA_LABELS' order ("pod" before "instance"). */
export function replicaLabelsOf(names: Iterable<string>): string[] {
  const have = new Set(names);
  return [...REPLICA_LABELS].filter((k) => have.has(k));
}

/**
 * The mapped metrics a source sends one series per replica (pod, instance…), with those labels:
 * each new pod's series starts unlearned, so Settings suggests sending them summed.
 */
export function perReplica(
  watched: { name: string; labels: Record<string, string> }[],
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const { name, labels } of watched) {
    const replicas = replicaLabelsOf(Object.keys(labels));
    if (replicas.length > 0) out[name] = replicaLabelsOf([...(out[name] ?? []), ...replicas]);
  }
  return out;
}

/** The metric a series sent by one replica is of: its key, its labels without the replica ones. */
export interface ReplicaGroup {
  /** `metric:name{labels}` without the replica labels. */
  key: string;
  labels: Record<string, string>;
  /** The replica labels the series carries ("pod", "instance"). */
  replicas: string[];
}

/** The replica group of a series, or null for a series with no replica label (a group of its own). */
export function replicaGroupOf(name: string, labels: Record<string, string>): ReplicaGroup | null {
  const replicas = replicaLabelsOf(Object.keys(labels));
  if (replicas.length === 0) return null;
  const kept = Object.fromEntries(Object.entries(labels).filter(([k]) => !REPLICA_LABELS.has(k)));
  return { key: `metric:${name}{${labelKey(kept)}}`, labels: kept, replicas };
}

/**
 * Who sent a metric lately, replica by replica: each series' first and latest point (times as
 * epoch ms, of the points themselves, so a batch of an hour's points reads the same as sixty).
 */
export type Members = Record<string, [first: number, last: number]>;

export const membersKey = (group: string) => `members:${group}`;
/** Replicas remembered per metric; the ones that sent last are kept. */
const MAX_MEMBERS = 50;
/** A replica that sent nothing for this long before the metric's latest point is forgotten. */
const MEMBER_GONE_MS = 86_400_000;

/**
 * The members with these series' points added (`spans`: series → [first, last] of the batch's
 * points, a loaded past's too); the ones gone a day before the latest point are dropped.
 */
export function withMembers(members: Members, spans: Map<string, [number, number]>): Members {
  const out: Members = { ...members };
  for (const [series, [first, last]] of spans) {
    const had = out[series];
    out[series] = had ? [Math.min(had[0], first), Math.max(had[1], last)] : [first, last];
  }
  const latest = Math.max(...Object.values(out).map(([, last]) => last));
  const kept = Object.entries(out)
    .filter(([, [, last]]) => last >= latest - MEMBER_GONE_MS)
    .sort(([, a], [, b]) => b[1] - a[1])
    .slice(0, MAX_MEMBERS);
  return Object.fromEntries(kept);
}

/**
 * How far a replica's latest point may run past the one its metric's stored list has before the
 * list is written again (its own state keeps it exactly): with one small write per metric per
 * batch, `pnpm bench agents --pods` ran up to a sixth slower (a noisy measure); without, as before.
 */
export const MEMBERS_LAG_MS = 30 * 60_000;

/** Whether the list is worth writing: a replica came or went, or one's latest point is MEMBERS_LAG_MS past the stored one. */
export function membersMoved(stored: Members, now: Members): boolean {
  if (Object.keys(stored).length !== Object.keys(now).length) return true;
  for (const [series, [first, last]] of Object.entries(now)) {
    const had = stored[series];
    if (!had || had[0] !== first || last - had[1] >= MEMBERS_LAG_MS) return true;
  }
  return false;
}

/**
 * How long after the replicas sending a metric changed their per-replica values are not news: a
 * rolling update starts new pods (each old one's share of the traffic shrinks), drains old ones
 * (their rate falls to nothing) and ends them (the rest take their share).
 */
export const REPLICAS_SETTLE_MS = 15 * 60_000;

/**
 * Whether the replicas sending a metric changed between `from` and `to` (epoch ms): one began (the
 * series itself included: a new pod's first points), or one that sent in the window stopped — had
 * sent nothing for a step and a half of the series by `to`.
 */
export function replicasChanged(members: Members, from: number, to: number, step: number): boolean {
  for (const [first, last] of Object.values(members)) {
    if (first > from && first <= to) return true;
    if (last >= from && stoppedBy(last, to, step)) return true;
  }
  return false;
}

/** Whether a replica whose latest point was at `last` had stopped by `at`: nothing for a step and a half. */
function stoppedBy(last: number, at: number, step: number): boolean {
  return last < at - 1.5 * step;
}

/** The replica of the metric that sent last, other than `series` (to start a new pod's series from). */
export function latestSibling(members: Members, series: string): string | undefined {
  let best: [string, number] | undefined;
  for (const [key, [, last]] of Object.entries(members))
    if (key !== series && (!best || last > best[1])) best = [key, last];
  return best?.[0];
}

/** How many replicas were sending the metric at `at` (epoch ms): begun by then, not stopped a step and a half before. */
export function replicasAt(members: Members, at: number, step: number): number {
  let n = 0;
  for (const [first, last] of Object.values(members)) if (first <= at && !stoppedBy(last, at, step)) n++;
  return n;
}

/**
 * A replica's break heard while its metric's replicas changed, judged once they settled (see
 * settledBreak): what was expected before, the value that surprised, and how many replicas sent
 * the metric before the change. Times as epoch ms.
 */
export interface Unsettled {
  at: number;
  normal: number;
  value: number;
  replicas: number;
}

/** Points of a replica's latest that tell where it settled (their median). */
const SETTLED_POINTS = 5;

/** Where a replica settled once its metric's replicas stopped changing (see settledBreak). */
export interface Settled {
  /** The median of its latest points. */
  level: number;
  /** How far from a level counts as away from it: half what first surprised. */
  far: number;
  /** Whether that is a break: away from the level before, and not what its share explains. */
  news: boolean;
}

/**
 * Where a replica settled once its metric's replicas stopped changing, and whether that is a break:
 * away from the level expected before by at least half what first surprised, and not what the
 * replica's share alone explains — a pod's request rate with two pods where there were three is
 * half again what it was, and that is the new pod count, not news. A value the change left as it
 * was (a success ratio) is judged against the level before as it is. Null until it has sent a few
 * points.
 */
export function settledBreak(u: Unsettled, tail: [number, number][], replicasNow: number): Settled | null {
  const recent = tail
    .slice(-SETTLED_POINTS)
    .map(([, v]) => v)
    .sort((a, b) => a - b);
  if (recent.length < SETTLED_POINTS || replicasNow === 0) return null;
  const level = median(recent);
  const far = 0.5 * Math.abs(u.value - u.normal);
  const asShare = (u.normal * u.replicas) / replicasNow;
  return { level, far, news: Math.abs(level - u.normal) >= far && Math.abs(level - asShare) >= far };
}

/**
 * How long after its replicas settled a replica's alarms at the level they settled at are no news:
 * the detector, which learned the level before, takes a while to learn the new one.
 */
export const SETTLED_QUIET_MS = 60 * 60_000;
