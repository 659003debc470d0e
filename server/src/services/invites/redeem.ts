import { and, count, eq, gt, isNull } from "drizzle-orm";
import type { Database, Queryable } from "../../db/client.ts";
import { invites, users } from "../../db/schema/index.ts";
import type { AuthUser } from "../../env.ts";
import { hashPassword, sha256 } from "../../lib/crypto.ts";
import { AppError } from "../../lib/errors.ts";
import { newId } from "../../lib/ids.ts";
import { createSession, type NewSession } from "../auth/sessions.ts";

type Purpose = "setup" | "invite";

export interface LinkInfo {
  purpose: Purpose;
  role: "admin" | "reviewer";
  email: string | null;
  expiresAt: Date;
}

async function findUsableLink(db: Queryable, token: string, now: Date) {
  const [row] = await db
    .select()
    .from(invites)
    .where(and(eq(invites.tokenHash, sha256(token)), isNull(invites.usedAt), gt(invites.expiresAt, now)))
    .limit(1);
  return row;
}

export async function userCount(db: Queryable): Promise<number> {
  const [row] = await db.select({ n: count() }).from(users);
  return row?.n ?? 0;
}

/** Tells the web app what a link is for before the person fills the form. */
export async function lookupLink(db: Queryable, token: string, now: Date): Promise<LinkInfo> {
  const row = await findUsableLink(db, token, now);
  if (!row) throw new AppError("not_found", "this link is unknown, used or expired");
  return { purpose: row.purpose, role: row.role, email: row.email, expiresAt: row.expiresAt };
}

export interface RedeemParams {
  token: string;
  purpose: Purpose;
  email: string;
  name: string;
  password: string;
  now: Date;
  ttlHours: number;
  userAgent?: string;
  ip?: string;
}

/**
 * Creates the account a setup or invite link promises and signs it in. The link is claimed with a
 * conditional update inside the transaction, so two people racing for one link get one account.
 */
export async function redeemLink(
  db: Database,
  p: RedeemParams,
): Promise<{ user: AuthUser; session: NewSession }> {
  const link = await findUsableLink(db, p.token, p.now);
  if (!link || link.purpose !== p.purpose) {
    throw new AppError("not_found", `this ${p.purpose} link is unknown, used or expired`);
  }
  if (link.email !== null && link.email !== p.email) {
    throw new AppError("forbidden", `this invitation is for ${link.email}`);
  }
  const passwordHash = await hashPassword(p.password);

  return db.transaction(async (tx) => {
    if (p.purpose === "setup" && (await userCount(tx)) > 0) {
      throw new AppError("conflict", "setup is already done; sign in instead");
    }
    const claimed = await tx
      .update(invites)
      .set({ usedAt: p.now })
      .where(and(eq(invites.id, link.id), isNull(invites.usedAt)))
      .returning({ id: invites.id });
    if (claimed.length === 0) throw new AppError("not_found", `this ${p.purpose} link was just used`);

    const [existing] = await tx.select({ id: users.id }).from(users).where(eq(users.email, p.email)).limit(1);
    if (existing) throw new AppError("conflict", `an account for ${p.email} already exists`);

    const user: AuthUser = { id: newId("user"), email: p.email, name: p.name, role: link.role };
    await tx.insert(users).values({ ...user, passwordHash, createdAt: p.now, updatedAt: p.now });
    await tx.update(invites).set({ usedBy: user.id }).where(eq(invites.id, link.id));
    const session = await createSession(tx, {
      userId: user.id,
      now: p.now,
      ttlHours: p.ttlHours,
      userAgent: p.userAgent,
      ip: p.ip,
    });
    return { user, session };
  });
}
