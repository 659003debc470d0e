import type { AgentContext } from "../define.ts";

/** What an agent keeps of a card to tell news past its mute. */
export interface MuteMemory<T> {
  /** What the latest card told; while the card's fingerprint is muted, what the rejected card told. */
  shown?: T;
  /** Why a card came although its fingerprint is muted; said again while that card is open. */
  pastWhy?: string;
}

/**
 * A reject mutes the card's fingerprint for a while, so the same proposal does not come back
 * tomorrow; news far past what was rejected is not the same proposal. For a card about to be made
 * of `now`: `muted` when a person rejected the fingerprint's card, and `why` the sentence the card
 * says when it comes all the same — `past(now, shown)` finds it news past the rejected card, or its
 * earlier card past the mute is still open. `now` null: nothing a card would be remembered for
 * (a group resolving, more events). `mutedWith`: fingerprints whose reject mutes this one too (a
 * new pod's series, by the pods it followed). Keeps `memory` up to date.
 */
export async function newsPastMute<T>(
  ctx: AgentContext,
  fingerprint: string,
  memory: MuteMemory<T>,
  now: T | null,
  past: (now: T, shown: T) => string | null,
  mutedWith: string[] = [],
): Promise<{ muted: boolean; why: string | null }> {
  if ((await ctx.muted([fingerprint, ...mutedWith])).size === 0) {
    if (now !== null) memory.shown = now;
    memory.pastWhy = undefined;
    return { muted: false, why: null };
  }
  if (memory.pastWhy && (await ctx.openCards([fingerprint])).size > 0)
    return { muted: true, why: memory.pastWhy };
  const shown = memory.shown;
  // Muted with no record of the card (a state from before this was kept): quiet.
  const why = now !== null && shown !== undefined ? past(now, shown) : null;
  if (why === null || now === null) return { muted: true, why: null };
  memory.shown = now;
  memory.pastWhy = despiteMute(why);
  return { muted: true, why: memory.pastWhy };
}

/** The sentence a card past its mute says: why it is news, then that it comes despite the mute. */
export function despiteMute(why: string): string {
  return `${why}, so it is here despite the mute.`;
}
