import type { Action, ActionInput } from "@flick/shared";
import { asc, eq } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { actions } from "../../db/schema/index.ts";
import { randomSecret } from "../../lib/crypto.ts";
import { isUniqueViolation } from "../../lib/db-errors.ts";
import { AppError } from "../../lib/errors.ts";
import { newId } from "../../lib/ids.ts";

type Row = typeof actions.$inferSelect;

export function toAction(r: Row): Action {
  return {
    id: r.id,
    name: r.name,
    url: r.url,
    method: r.method,
    headers: r.headers,
    bodyTemplate: r.bodyTemplate,
    secret: r.secret,
    timeoutMs: r.timeoutMs,
    maxAttempts: r.maxAttempts,
    enabled: r.enabled,
  };
}

function taken(err: unknown, name: string | undefined): never {
  if (isUniqueViolation(err)) throw new AppError("conflict", `an action named "${name}" already exists`);
  throw err;
}

export async function listActions(db: Queryable): Promise<Action[]> {
  return (await db.select().from(actions).orderBy(asc(actions.name))).map(toAction);
}

export async function createAction(db: Queryable, input: Required<ActionInput>, now: Date): Promise<Action> {
  try {
    const [row] = await db
      .insert(actions)
      .values({
        id: newId("action"),
        ...input,
        secret: randomSecret(),
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    if (!row) throw new Error("action insert returned no row");
    return toAction(row);
  } catch (err) {
    taken(err, input.name);
  }
}

export async function updateAction(
  db: Queryable,
  id: string,
  input: Partial<ActionInput>,
  now: Date,
): Promise<Action> {
  try {
    const [row] = await db
      .update(actions)
      .set({ ...input, updatedAt: now })
      .where(eq(actions.id, id))
      .returning();
    if (!row) throw new AppError("not_found", "action not found");
    return toAction(row);
  } catch (err) {
    taken(err, input.name);
  }
}

export async function deleteAction(db: Queryable, id: string): Promise<void> {
  const deleted = await db.delete(actions).where(eq(actions.id, id)).returning({ id: actions.id });
  if (deleted.length === 0) throw new AppError("not_found", "action not found");
}
