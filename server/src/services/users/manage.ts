import type { User, UserUpdate } from "@flick/shared";
import { and, asc, eq, isNull, ne } from "drizzle-orm";
import type { Database, Queryable } from "../../db/client.ts";
import { users } from "../../db/schema/index.ts";
import { AppError } from "../../lib/errors.ts";
import { deleteUserSessions } from "../auth/sessions.ts";

export function toUser(row: typeof users.$inferSelect): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    createdAt: row.createdAt.toISOString(),
    disabled: row.disabledAt !== null,
  };
}

export async function getUser(db: Queryable, id: string): Promise<User> {
  const [row] = await db.select().from(users).where(eq(users.id, id)).limit(1);
  if (!row) throw new AppError("not_found", "user not found");
  return toUser(row);
}

export async function listUsers(db: Queryable): Promise<User[]> {
  const rows = await db.select().from(users).orderBy(asc(users.createdAt)).limit(1000);
  return rows.map(toUser);
}

/**
 * Changes a user's role or disables them. The team always keeps one active admin, and a disabled
 * user's sessions end at once.
 */
export async function updateUser(
  db: Database,
  p: { id: string; change: UserUpdate; now: Date },
): Promise<User> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(users).where(eq(users.id, p.id)).limit(1).for("update");
    if (!row) throw new AppError("not_found", "user not found");
    const losesAdmin =
      row.role === "admin" &&
      row.disabledAt === null &&
      (p.change.role === "reviewer" || p.change.disabled === true);
    if (losesAdmin) {
      // Lock the other admins' rows so two demotions cannot race past this check.
      const others = await tx
        .select({ id: users.id })
        .from(users)
        .where(and(eq(users.role, "admin"), isNull(users.disabledAt), ne(users.id, p.id)))
        .for("update");
      if (others.length === 0) throw new AppError("conflict", "the team needs at least one active admin");
    }
    const [updated] = await tx
      .update(users)
      .set({
        ...(p.change.role !== undefined ? { role: p.change.role } : {}),
        ...(p.change.disabled !== undefined ? { disabledAt: p.change.disabled ? p.now : null } : {}),
        updatedAt: p.now,
      })
      .where(eq(users.id, p.id))
      .returning();
    if (!updated) throw new AppError("not_found", "user not found");
    if (p.change.disabled === true) await deleteUserSessions(tx, p.id);
    return toUser(updated);
  });
}
