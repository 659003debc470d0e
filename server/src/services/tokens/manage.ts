import type { ApiToken, Role } from "@flick/shared";
import { and, desc, eq, isNull } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { apiTokens, users } from "../../db/schema/index.ts";
import type { AuthUser } from "../../env.ts";
import { randomToken, sha256 } from "../../lib/crypto.ts";
import { AppError } from "../../lib/errors.ts";
import { newId } from "../../lib/ids.ts";

const TOKEN_PREFIX = "flk_";
/** last_used_at is written at most this often per token. */
const TOUCH_EVERY_MS = 5 * 60 * 1000;

function toApiToken(row: typeof apiTokens.$inferSelect): ApiToken {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    role: row.role,
    userId: row.userId,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

/** Makes a token for the caller; it can never carry more rights than the person who made it. */
export async function createApiToken(
  db: Queryable,
  p: { owner: AuthUser; name: string; role?: Role; expiresInDays?: number; now: Date },
): Promise<{ token: string; apiToken: ApiToken }> {
  const role = p.role ?? p.owner.role;
  if (role === "admin" && p.owner.role !== "admin") {
    throw new AppError("forbidden", "only admins can make admin tokens");
  }
  const token = `${TOKEN_PREFIX}${randomToken(32)}`;
  const [row] = await db
    .insert(apiTokens)
    .values({
      id: newId("apiToken"),
      name: p.name,
      tokenHash: sha256(token),
      prefix: token.slice(0, TOKEN_PREFIX.length + 6),
      userId: p.owner.id,
      role,
      createdAt: p.now,
      expiresAt: p.expiresInDays ? new Date(p.now.getTime() + p.expiresInDays * 86400_000) : null,
    })
    .returning();
  if (!row) throw new Error("token insert returned no row");
  return { token, apiToken: toApiToken(row) };
}

export async function listApiTokens(db: Queryable, viewer: AuthUser): Promise<ApiToken[]> {
  const rows = await db
    .select()
    .from(apiTokens)
    .where(viewer.role === "admin" ? undefined : eq(apiTokens.userId, viewer.id))
    .orderBy(desc(apiTokens.createdAt))
    .limit(500);
  return rows.map(toApiToken);
}

export async function revokeApiToken(
  db: Queryable,
  p: { id: string; viewer: AuthUser; now: Date },
): Promise<ApiToken> {
  const [row] = await db.select().from(apiTokens).where(eq(apiTokens.id, p.id)).limit(1);
  // Someone else's token is reported as missing, not forbidden, so ids cannot be probed.
  if (!row || (p.viewer.role !== "admin" && row.userId !== p.viewer.id)) {
    throw new AppError("not_found", "API token not found");
  }
  if (row.revokedAt) return toApiToken(row);
  const [updated] = await db
    .update(apiTokens)
    .set({ revokedAt: p.now })
    .where(eq(apiTokens.id, p.id))
    .returning();
  if (!updated) throw new AppError("not_found", "API token not found");
  return toApiToken(updated);
}

export async function resolveApiToken(
  db: Queryable,
  p: { token: string; now: Date },
): Promise<{ user: AuthUser; tokenId: string } | null> {
  const [row] = await db
    .select({
      tokenId: apiTokens.id,
      role: apiTokens.role,
      expiresAt: apiTokens.expiresAt,
      revokedAt: apiTokens.revokedAt,
      lastUsedAt: apiTokens.lastUsedAt,
      id: users.id,
      email: users.email,
      name: users.name,
      userRole: users.role,
    })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(and(eq(apiTokens.tokenHash, sha256(p.token)), isNull(users.disabledAt)))
    .limit(1);
  if (!row || row.revokedAt || (row.expiresAt && row.expiresAt <= p.now)) return null;
  if (!row.lastUsedAt || p.now.getTime() - row.lastUsedAt.getTime() > TOUCH_EVERY_MS) {
    await db.update(apiTokens).set({ lastUsedAt: p.now }).where(eq(apiTokens.id, row.tokenId));
  }
  // A token never outranks its owner, even if the owner was demoted after making it.
  const role: Role = row.userRole === "admin" ? row.role : "reviewer";
  return { tokenId: row.tokenId, user: { id: row.id, email: row.email, name: row.name, role } };
}
