import type { Verification } from "@flick/shared";
import type { RevertVerdict } from "../../executors/github.ts";
import type { AgentContext } from "../define.ts";

/**
 * A revert a card is about to propose, as GitHub's state says it would go (see
 * GitHubReads.checkRevert): as proposed; `wide` — later commits changed the same files, so
 * everything after the commit before it (`parent`) up to the branch's tip goes back instead;
 * `refused` — not even that, and why. `asked` is null when GitHub was not asked.
 */
export interface CheckedRevert {
  asked: RevertVerdict | null;
  wide: { tip: string; parent: string; commits: number; touched: string[] } | null;
  refused: string | null;
}

export async function checkedRevert(
  ctx: AgentContext,
  repository: string,
  p: { sha: string; since?: string; branch: string },
): Promise<CheckedRevert> {
  const check = ctx.github?.checkRevert;
  const asked = check ? await check(repository, p) : null;
  if (!check || asked?.ok !== false) return { asked, wide: null, refused: null };
  if (!asked.movedPast) return { asked, wide: null, refused: asked.reason };
  const whole = await check(repository, {
    sha: asked.movedPast.tip,
    since: asked.movedPast.parent,
    branch: p.branch,
  });
  if (whole.ok) return { asked, wide: { ...asked.movedPast, commits: whole.commits }, refused: null };
  return { asked, wide: null, refused: whole.ok === false ? whole.reason : asked.reason };
}

/** The files later commits changed too, for a sentence: the first three, the rest counted. */
export function laterFiles(r: CheckedRevert): string {
  const touched = r.wide?.touched ?? [];
  return touched.slice(0, 3).join(", ") + (touched.length > 3 ? ` and ${touched.length - 3} more` : "");
}

/** The card's check of what GitHub said of its revert onto `branch`. */
export function revertCheck(r: CheckedRevert, branch: string): Verification[number] {
  const check = `the revert goes onto ${branch}'s tip`;
  if (r.refused) return { check, status: "failed", detail: r.refused };
  if (r.wide)
    return {
      check,
      status: "passed",
      detail: `with the ${r.wide.commits} commits after ${r.wide.parent.slice(0, 7)} reverted together (later commits changed ${laterFiles(r)})`,
    };
  if (r.asked?.ok)
    return {
      check,
      status: "passed",
      detail: `no later commit changed its files (${branch} is at ${r.asked.tip.slice(0, 7)})`,
    };
  return {
    check,
    status: "skipped",
    detail: r.asked ? `not known: ${r.asked.reason}` : "not asked: GITHUB_TOKEN is not set",
  };
}
