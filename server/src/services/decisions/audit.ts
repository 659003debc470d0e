import type { Decision, Execution, Mute } from "@flick/shared";
import { and, asc, desc, eq, gt, gte, lte, sql } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { decisions, executions, mutes, users } from "../../db/schema/index.ts";
import { AppError } from "../../lib/errors.ts";
import { toDecision, toExecution } from "./view.ts";

export interface AuditFilter {
  userId?: string;
  cardId?: string;
  verdict?: "accept" | "reject" | "snooze" | "undo";
  since?: string;
  until?: string;
  cursor?: string;
  limit: number;
}

/** The audit log, newest first, filtered and keyset-paginated on (created_at, id). */
export async function auditLog(
  db: Queryable,
  f: AuditFilter,
  undoWindowMs: number,
): Promise<{ decisions: Decision[]; nextCursor: string | null }> {
  let after: { t: string; i: string } | null = null;
  if (f.cursor) {
    try {
      after = JSON.parse(Buffer.from(f.cursor, "base64url").toString()) as { t: string; i: string };
      if (typeof after.t !== "string" || typeof after.i !== "string" || Number.isNaN(Date.parse(after.t)))
        throw new Error();
    } catch {
      throw new AppError("validation_failed", "cursor: is not a cursor this server made");
    }
  }
  const rows = await db
    .select({ decision: decisions, userName: users.name })
    .from(decisions)
    .leftJoin(users, eq(users.id, decisions.userId))
    .where(
      and(
        f.userId ? eq(decisions.userId, f.userId) : undefined,
        f.cardId ? eq(decisions.cardId, f.cardId) : undefined,
        f.verdict ? eq(decisions.verdict, f.verdict) : undefined,
        f.since ? gte(decisions.createdAt, new Date(f.since)) : undefined,
        f.until ? lte(decisions.createdAt, new Date(f.until)) : undefined,
        after
          ? sql`(${decisions.createdAt}, ${decisions.id}) < (${after.t}::timestamptz, ${after.i}::text)`
          : undefined,
      ),
    )
    .orderBy(desc(decisions.createdAt), desc(decisions.id))
    .limit(f.limit + 1);
  const page = rows.slice(0, f.limit);
  const last = page[page.length - 1];
  return {
    decisions: page.map((r) => toDecision(r.decision, r.userName, undoWindowMs)),
    nextCursor:
      rows.length > f.limit && last
        ? Buffer.from(
            JSON.stringify({ t: last.decision.createdAt.toISOString(), i: last.decision.id }),
          ).toString("base64url")
        : null,
  };
}

/** A card's story: every decision on it and what its accepts did. */
export async function cardHistory(
  db: Queryable,
  cardId: string,
  undoWindowMs: number,
): Promise<{ decisions: Decision[]; executions: Execution[] }> {
  const rows = await db
    .select({ decision: decisions, userName: users.name })
    .from(decisions)
    .leftJoin(users, eq(users.id, decisions.userId))
    .where(eq(decisions.cardId, cardId))
    .orderBy(asc(decisions.createdAt), asc(decisions.id));
  const runs = await db
    .select()
    .from(executions)
    .where(eq(executions.cardId, cardId))
    .orderBy(asc(executions.createdAt));
  return {
    decisions: rows.map((r) => toDecision(r.decision, r.userName, undoWindowMs)),
    executions: runs.map(toExecution),
  };
}

export async function activeMutes(db: Queryable, now: Date): Promise<Mute[]> {
  const rows = await db
    .select()
    .from(mutes)
    .where(gt(mutes.until, now))
    .orderBy(desc(mutes.createdAt))
    .limit(1000);
  return rows.map((m) => ({
    id: m.id,
    fingerprint: m.fingerprint,
    reason: m.reason,
    createdBy: m.createdBy,
    createdAt: m.createdAt.toISOString(),
    until: m.until.toISOString(),
  }));
}

export async function unmute(db: Queryable, id: string): Promise<void> {
  const deleted = await db.delete(mutes).where(eq(mutes.id, id)).returning({ id: mutes.id });
  if (deleted.length === 0) throw new AppError("not_found", "mute not found");
}
