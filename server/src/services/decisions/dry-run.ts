import { type Change, describeChange, isDemoCard } from "@flick/shared";
import { eq } from "drizzle-orm";
import type { Config } from "../../config.ts";
import type { Database } from "../../db/client.ts";
import { cards } from "../../db/schema/index.ts";
import { executors } from "../../executors/index.ts";
import { ExecutorError } from "../../executors/types.ts";
import { AppError } from "../../lib/errors.ts";
import { executorFor } from "./executor-names.ts";

/** What a demo card's accept does instead of running its executor: it says what it would do. */
export function rehearse(change: Change): { rehearsal: true; wouldDo: string } {
  return { rehearsal: true, wouldDo: describeChange(change) };
}

/**
 * What accepting would do, checked without doing it: the executor runs in dry-run mode (the patch
 * is checked with `git apply --check`, the webhook and GitHub requests are built but not sent).
 */
export async function dryRunCard(db: Database, config: Config, cardId: string, now: Date) {
  const [card] = await db.select().from(cards).where(eq(cards.id, cardId)).limit(1);
  if (!card) throw new AppError("not_found", "card not found");
  const change = (card.change ?? null) as Change | null;
  const name = executorFor(change);
  if (!name || !change)
    return {
      executor: null,
      ok: true,
      result: { note: "accepting this card changes nothing outside Flick" },
      log: [],
    };
  if (isDemoCard(card)) return { executor: name, ok: true, result: rehearse(change), log: [] };
  const log: string[] = [];
  try {
    const result = await executors[name].run(
      {
        config,
        db,
        card,
        executionId: `dry-${card.id}`,
        now,
        dryRun: true,
        resumed: false,
        log: (l) => log.push(l),
      },
      change,
    );
    return { executor: name, ok: true, result, log };
  } catch (err) {
    return {
      executor: name,
      ok: false,
      error: err instanceof ExecutorError ? err.message : "the dry run failed",
      log,
    };
  }
}
