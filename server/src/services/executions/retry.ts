import { eq } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import { executions } from "../../db/schema/index.ts";
import { AppError } from "../../lib/errors.ts";
import { toExecution } from "../decisions/view.ts";

/** The retry button on a failed card: the same execution runs again now, with fresh attempts. */
export async function retryExecution(db: Database, p: { id: string; now: Date }) {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(executions).where(eq(executions.id, p.id)).limit(1).for("update");
    if (!row) throw new AppError("not_found", "execution not found");
    if (row.state !== "failed")
      throw new AppError("conflict", `only a failed execution can be retried; this one is ${row.state}`);
    const [updated] = await tx
      .update(executions)
      .set({
        state: "scheduled",
        attempts: 0,
        runAfter: p.now,
        error: null,
        finishedAt: null,
        updatedAt: p.now,
        log: `${row.log}${p.now.toISOString()} retry requested\n`,
      })
      .where(eq(executions.id, p.id))
      .returning();
    if (!updated) throw new AppError("not_found", "execution not found");
    return toExecution(updated);
  });
}
