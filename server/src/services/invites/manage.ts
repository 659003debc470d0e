import type { Invite, Role } from "@flick/shared";
import { and, count, desc, eq, isNull } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { invites, users } from "../../db/schema/index.ts";
import { randomToken, sha256 } from "../../lib/crypto.ts";
import { AppError } from "../../lib/errors.ts";
import { newId } from "../../lib/ids.ts";

const SETUP_LINK_HOURS = 24;

function toInvite(row: typeof invites.$inferSelect): Invite {
  return {
    id: row.id,
    role: row.role,
    email: row.email,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    usedAt: row.usedAt?.toISOString() ?? null,
  };
}

/**
 * On a start with no users, makes a fresh setup link and returns its token (shown once on the
 * console). Earlier links stay valid until they expire: several processes starting together on
 * one PostgreSQL each print one, and any of them works. Returns null when setup is already done.
 */
export async function ensureSetupLink(db: Queryable, now: Date): Promise<string | null> {
  const [row] = await db.select({ n: count() }).from(users);
  if ((row?.n ?? 0) > 0) return null;
  const token = randomToken(24);
  await db.insert(invites).values({
    id: newId("invite"),
    tokenHash: sha256(token),
    purpose: "setup",
    role: "admin",
    createdAt: now,
    expiresAt: new Date(now.getTime() + SETUP_LINK_HOURS * 3600_000),
  });
  return token;
}

export async function createInvite(
  db: Queryable,
  p: { createdBy: string; role: Role; email?: string; expiresInHours: number; now: Date },
): Promise<{ invite: Invite; token: string }> {
  if (p.email) {
    const [existing] = await db.select({ id: users.id }).from(users).where(eq(users.email, p.email)).limit(1);
    if (existing) throw new AppError("conflict", `an account for ${p.email} already exists`);
  }
  const token = randomToken(24);
  const [row] = await db
    .insert(invites)
    .values({
      id: newId("invite"),
      tokenHash: sha256(token),
      purpose: "invite",
      role: p.role,
      email: p.email ?? null,
      createdBy: p.createdBy,
      createdAt: p.now,
      expiresAt: new Date(p.now.getTime() + p.expiresInHours * 3600_000),
    })
    .returning();
  if (!row) throw new Error("invite insert returned no row");
  return { invite: toInvite(row), token };
}

export async function listInvites(db: Queryable): Promise<Invite[]> {
  const rows = await db
    .select()
    .from(invites)
    .where(eq(invites.purpose, "invite"))
    .orderBy(desc(invites.createdAt))
    .limit(200);
  return rows.map(toInvite);
}

export async function revokeInvite(db: Queryable, id: string): Promise<void> {
  const deleted = await db
    .delete(invites)
    .where(and(eq(invites.id, id), eq(invites.purpose, "invite"), isNull(invites.usedAt)))
    .returning({ id: invites.id });
  if (deleted.length === 0) throw new AppError("not_found", "invite not found or already used");
}
