import {
  type Deploying,
  type Source,
  type SourceKind,
  type SourceMetrics,
  webhookMappingSchema,
} from "@flick/shared";
import { and, asc, eq, getTableColumns, sql } from "drizzle-orm";
import type { z } from "zod";
import { type Deploy, deploysAgent, RECENT_DEPLOYS_KEY } from "../../agents/builtin/deploys.ts";
import {
  MAX_SOURCE_METRICS,
  metricsAgent,
  sourceMetricsKey,
  watchedKey,
} from "../../agents/builtin/metrics.ts";
import { perReplica } from "../../agents/builtin/replicas.ts";
import { agentSourceSettings } from "../../agents/source-settings.ts";
import { stateAgent } from "../../agents/state.ts";
import type { Queryable } from "../../db/client.ts";
import { agentStates, signals, sourceRefusals, sources } from "../../db/schema/index.ts";
import { parsePath } from "../../ingest/jsonpath.ts";
import { randomSecret } from "../../lib/crypto.ts";
import { isUniqueViolation } from "../../lib/db-errors.ts";
import { AppError, validationError } from "../../lib/errors.ts";
import { newId } from "../../lib/ids.ts";
import { TEST_SIGNAL_KIND } from "./test-signal.ts";

type Row = typeof sources.$inferSelect;

type Listed = Row & {
  lastSignalAt?: Date | null;
  refusedAt?: Date | null;
  refusedStatus?: number | null;
  refusedMessage?: string | null;
};

export function toSource(row: Listed, origin: string): Source {
  const url = new URL(origin);
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    enabled: row.enabled,
    settings: row.settings,
    demo: row.demo,
    createdAt: row.createdAt.toISOString(),
    ingestUrl: `${url.origin}/ingest/${row.id}`,
    secret: row.secret,
    sentryDsn: row.kind === "sentry" ? `${url.protocol}//${row.secret}@${url.host}/${row.number}` : null,
    ...(row.lastSignalAt !== undefined ? { lastSignalAt: row.lastSignalAt?.toISOString() ?? null } : {}),
    ...(row.refusedAt !== undefined
      ? {
          lastRefusal: row.refusedAt
            ? {
                at: row.refusedAt.toISOString(),
                status: row.refusedStatus ?? 400,
                message: row.refusedMessage ?? "",
              }
            : null,
        }
      : {}),
  };
}

function settingsError(error: z.ZodError): never {
  throw validationError(
    error.issues.map((i) => ({
      path: ["settings", ...i.path.map(String)].join("."),
      message: i.message,
    })),
  );
}

export function checkSettings(kind: SourceKind, settings: Record<string, unknown>): Record<string, unknown> {
  if (kind !== "webhook") {
    const schema = agentSourceSettings[kind];
    const checked = schema?.safeParse(settings);
    if (checked && !checked.success) settingsError(checked.error);
    // Stored as given: defaults stay defaults, so a better default later applies here too.
    return settings;
  }
  const parsed = webhookMappingSchema.safeParse(settings);
  if (!parsed.success) settingsError(parsed.error);
  for (const key of ["titlePath", "idPath", "fingerprintPath", "summaryPath", "urlPath"] as const) {
    const path = parsed.data[key];
    if (!path) continue;
    try {
      parsePath(path);
    } catch (err) {
      throw validationError([{ path: `settings.${key}`, message: (err as Error).message }]);
    }
  }
  return parsed.data;
}

function nameTaken(err: unknown, name: string): never {
  if (isUniqueViolation(err)) throw new AppError("conflict", `a source named "${name}" already exists`);
  throw err;
}

export async function createSource(
  db: Queryable,
  p: { kind: SourceKind; name: string; settings: Record<string, unknown>; now: Date; demo?: boolean },
): Promise<Row> {
  const settings = checkSettings(p.kind, p.settings);
  try {
    const [row] = await db
      .insert(sources)
      .values({
        id: newId("source"),
        kind: p.kind,
        name: p.name,
        secret: randomSecret(),
        settings,
        demo: p.demo ?? false,
        createdAt: p.now,
        updatedAt: p.now,
      })
      .returning();
    if (!row) throw new Error("source insert returned no row");
    return row;
  } catch (err) {
    nameTaken(err, p.name);
  }
}

/**
 * When the source of the row being selected last sent a signal (test signals aside): one index probe
 * per source (signal_source_received_idx), not a scan of the signals. The outer source is named in
 * full: drizzle writes a lone table's columns unqualified, which inside the subquery would mean the
 * signal's own id.
 */
const lastSignalAt = () =>
  sql`(select max(${signals.receivedAt}) from ${signals}
    where ${signals.sourceId} = ${sql.identifier("source")}.${sql.identifier("id")}
    and ${signals.kind} <> ${TEST_SIGNAL_KIND})`.mapWith(signals.receivedAt);

/**
 * Every source (or the team's own of one kind: not the demo's), oldest first, with when its latest
 * signal arrived (test signals aside) and the last request it refused.
 */
export async function listSources(db: Queryable, only?: { kind: SourceKind }): Promise<Listed[]> {
  // Sources made in one transaction share a time: then in the order they were made.
  return db
    .select({
      ...getTableColumns(sources),
      lastSignalAt: lastSignalAt(),
      refusedAt: sourceRefusals.at,
      refusedStatus: sourceRefusals.status,
      refusedMessage: sourceRefusals.message,
    })
    .from(sources)
    .leftJoin(sourceRefusals, eq(sourceRefusals.sourceId, sources.id))
    .where(only ? and(eq(sources.kind, only.kind), eq(sources.demo, false)) : undefined)
    .orderBy(asc(sources.createdAt), asc(sources.number));
}

export async function getSource(db: Queryable, id: string): Promise<Row> {
  const [row] = await db.select().from(sources).where(eq(sources.id, id)).limit(1);
  if (!row) throw new AppError("not_found", "source not found");
  return row;
}

export async function updateSource(
  db: Queryable,
  p: {
    id: string;
    name?: string;
    settings?: Record<string, unknown>;
    enabled?: boolean;
    rotateSecret?: boolean;
    now: Date;
  },
): Promise<Row> {
  const current = await getSource(db, p.id);
  const settings = p.settings === undefined ? undefined : checkSettings(current.kind, p.settings);
  try {
    const [row] = await db
      .update(sources)
      .set({
        ...(p.name !== undefined ? { name: p.name } : {}),
        ...(settings !== undefined ? { settings } : {}),
        ...(p.enabled !== undefined ? { enabled: p.enabled } : {}),
        ...(p.rotateSecret ? { secret: randomSecret() } : {}),
        updatedAt: p.now,
      })
      .where(eq(sources.id, p.id))
      .returning();
    if (!row) throw new AppError("not_found", "source not found");
    return row;
  } catch (err) {
    nameTaken(err, p.name ?? current.name);
  }
}

export async function deleteSource(db: Queryable, id: string): Promise<void> {
  const deleted = await db.delete(sources).where(eq(sources.id, id)).returning({ id: sources.id });
  if (deleted.length === 0) throw new AppError("not_found", "source not found");
}

/** What an agent keeps under `key` (undefined when nothing is kept), as committed. */
async function agentState(db: Queryable, agent: string, key: string): Promise<unknown> {
  const [row] = await db
    .select({ state: agentStates.state })
    .from(agentStates)
    .where(and(eq(agentStates.agent, agent), eq(agentStates.key, key)))
    .limit(1);
  return row?.state;
}

/**
 * The repositories the deploys agent saw deploy (its recent deploys, the team's: not the demo's),
 * each once, the latest deploy first.
 */
export async function deployingRepositories(db: Queryable): Promise<Deploying> {
  const stored = await agentState(db, deploysAgent.name, RECENT_DEPLOYS_KEY);
  const recent = Array.isArray(stored) ? (stored as Deploy[]) : [];
  const latest = new Map<string, number>();
  for (const d of recent) {
    if (typeof d?.repository !== "string" || typeof d.at !== "number") continue;
    latest.set(d.repository, Math.max(latest.get(d.repository) ?? 0, d.at));
  }
  return {
    repositories: [...latest]
      .sort((a, b) => b[1] - a[1])
      .map(([name, at]) => ({ name, lastDeployAt: new Date(at).toISOString() })),
  };
}

/**
 * The metric names a source has sent, sorted; `complete` is false once the metrics agent stopped
 * adding names (MAX_SOURCE_METRICS). Empty before any point arrived.
 */
export async function metricNamesOf(db: Queryable, id: string): Promise<SourceMetrics> {
  const source = await getSource(db, id);
  // A demo source's names are in the demo's own state.
  const stored = await agentState(
    db,
    stateAgent(metricsAgent.name, source.demo),
    sourceMetricsKey(source.id),
  );
  const names = Array.isArray(stored) ? stored.filter((n): n is string => typeof n === "string") : [];
  const watched = await agentState(db, stateAgent(metricsAgent.name, source.demo), watchedKey(source.id));
  return {
    names: names.sort(),
    complete: names.length < MAX_SOURCE_METRICS,
    perReplica: perReplica(
      Array.isArray(watched)
        ? watched.filter(
            (w): w is { name: string; labels: Record<string, string> } =>
              typeof w?.name === "string" && typeof w?.labels === "object" && w.labels !== null,
          )
        : [],
    ),
  };
}
