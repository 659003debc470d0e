import { and, eq, gt, isNull, lt } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { sessions, users } from "../../db/schema/index.ts";
import type { AuthUser } from "../../env.ts";
import { randomToken, sha256 } from "../../lib/crypto.ts";

/** Sliding expiry is written at most this often, so a busy client does not write on every request. */
const TOUCH_EVERY_MS = 60 * 60 * 1000;

export interface NewSession {
  token: string;
  sessionId: string;
  expiresAt: Date;
}

export async function createSession(
  db: Queryable,
  params: { userId: string; now: Date; ttlHours: number; userAgent?: string; ip?: string },
): Promise<NewSession> {
  const token = randomToken(32);
  const sessionId = sha256(token);
  const expiresAt = new Date(params.now.getTime() + params.ttlHours * 3600_000);
  await db.insert(sessions).values({
    id: sessionId,
    userId: params.userId,
    createdAt: params.now,
    lastSeenAt: params.now,
    expiresAt,
    userAgent: params.userAgent?.slice(0, 300) ?? null,
    ip: params.ip ?? null,
  });
  return { token, sessionId, expiresAt };
}

export async function resolveSession(
  db: Queryable,
  params: { token: string; now: Date; ttlHours: number },
): Promise<{ user: AuthUser; sessionId: string } | null> {
  const sessionId = sha256(params.token);
  const [row] = await db
    .select({
      lastSeenAt: sessions.lastSeenAt,
      id: users.id,
      email: users.email,
      name: users.name,
      role: users.role,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.id, sessionId), gt(sessions.expiresAt, params.now), isNull(users.disabledAt)))
    .limit(1);
  if (!row) return null;
  if (params.now.getTime() - row.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
    await db
      .update(sessions)
      .set({ lastSeenAt: params.now, expiresAt: new Date(params.now.getTime() + params.ttlHours * 3600_000) })
      .where(eq(sessions.id, sessionId));
  }
  const { lastSeenAt: _, ...user } = row;
  return { user, sessionId };
}

export async function deleteSession(db: Queryable, sessionId: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.id, sessionId));
}

export async function deleteUserSessions(db: Queryable, userId: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.userId, userId));
}

export async function sweepExpiredSessions(db: Queryable, now: Date): Promise<void> {
  await db.delete(sessions).where(lt(sessions.expiresAt, now));
}
