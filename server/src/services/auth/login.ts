import { and, count, eq, gt, lt, or } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import { loginFailures, users } from "../../db/schema/index.ts";
import type { AuthUser } from "../../env.ts";
import { dummyPasswordHash, verifyPassword } from "../../lib/crypto.ts";
import { AppError } from "../../lib/errors.ts";
import { createSession, type NewSession } from "./sessions.ts";

const WINDOW_MS = 15 * 60 * 1000;

export interface LoginParams {
  email: string;
  password: string;
  ip: string;
  userAgent?: string;
  now: Date;
  maxFailures: number;
  ttlHours: number;
}

/**
 * Checks the password and opens a session. Failures are counted per email and per IP in the
 * database, so every server process enforces the same limit; past it the caller gets 429.
 */
export async function login(db: Database, p: LoginParams): Promise<{ user: AuthUser; session: NewSession }> {
  const since = new Date(p.now.getTime() - WINDOW_MS);
  const [recent] = await db
    .select({ n: count() })
    .from(loginFailures)
    .where(
      and(gt(loginFailures.at, since), or(eq(loginFailures.email, p.email), eq(loginFailures.ip, p.ip))),
    );
  if ((recent?.n ?? 0) >= p.maxFailures) {
    throw new AppError(
      "rate_limited",
      "too many failed logins; wait 15 minutes before trying again",
      { retryAfterSeconds: WINDOW_MS / 1000 },
      { "Retry-After": String(WINDOW_MS / 1000) },
    );
  }

  const [user] = await db.select().from(users).where(eq(users.email, p.email)).limit(1);
  // Hash even when the user is unknown, so response time does not reveal which emails exist.
  const ok = await verifyPassword(p.password, user?.passwordHash ?? (await dummyPasswordHash()));
  if (!user || !ok || user.disabledAt !== null) {
    await db.insert(loginFailures).values({ email: p.email, ip: p.ip, at: p.now });
    // Keep the table small: failures older than the window no longer count.
    await db.delete(loginFailures).where(lt(loginFailures.at, since));
    throw new AppError("invalid_credentials", "email or password is wrong");
  }

  return db.transaction(async (tx) => {
    await tx.delete(loginFailures).where(eq(loginFailures.email, p.email));
    const session = await createSession(tx, {
      userId: user.id,
      now: p.now,
      ttlHours: p.ttlHours,
      userAgent: p.userAgent,
      ip: p.ip,
    });
    return { user: { id: user.id, email: user.email, name: user.name, role: user.role }, session };
  });
}
