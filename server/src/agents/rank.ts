import { ACCEPT_RATE_DECISIONS } from "@flick/shared";
/**
 * Every built-in card's priority comes from the same stated factors, each 0..1, stored on the card
 * and shown with it. Weights sum to 1, so the priority is 0..1 too.
 */
export interface RankFactors {
  /** How bad it is if true (a failed deploy, a 40% drop) … */
  severity: number;
  /** … for how many: users, events, customers. */
  blastRadius: number;
  /** How sure the agent is that this is real and that the proposed change is right. */
  confidence: number;
  /** 1 when it is happening now, falling with a 6-hour half-life. */
  recency: number;
  /** How often the team accepted this agent's cards of this family (0.5 with no history). */
  acceptRate: number;
}

/** The team's accept rate for a family of cards, and how many decisions it rests on. */
export interface AcceptRate {
  rate: number;
  decided: number;
}

export const WEIGHTS: RankFactors = {
  severity: 0.35,
  blastRadius: 0.15,
  confidence: 0.2,
  recency: 0.1,
  acceptRate: 0.2,
};

const clamp = (x: number) => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);

export function rank(f: Omit<RankFactors, "acceptRate"> & { acceptRate: number | AcceptRate }): {
  priority: number;
  priorityFactors: Record<string, number>;
} {
  const { acceptRate, ...rest } = f;
  const rate = typeof acceptRate === "number" ? acceptRate : acceptRate.rate;
  const factors = Object.fromEntries(
    Object.entries({ ...rest, acceptRate: rate }).map(([k, v]) => [k, Math.round(clamp(v) * 1000) / 1000]),
  ) as unknown as RankFactors;
  let priority = 0;
  for (const k of Object.keys(WEIGHTS) as (keyof RankFactors)[]) priority += WEIGHTS[k] * factors[k];
  return {
    priority: Math.round(priority * 1000) / 1000,
    priorityFactors: {
      ...factors,
      ...(typeof acceptRate === "number" ? {} : { [ACCEPT_RATE_DECISIONS]: acceptRate.decided }),
    },
  };
}

/**
 * A card's stored factors (rank's `priorityFactors`) ranked again with some of them changed: the
 * accept rate keeps the number of decisions it rests on, which is no factor of its own.
 */
export function rerank(
  stored: Record<string, number>,
  change: Partial<RankFactors>,
): ReturnType<typeof rank> {
  const { [ACCEPT_RATE_DECISIONS]: decided, ...factors } = stored;
  const f = { ...(factors as unknown as RankFactors), ...change };
  return rank({ ...f, acceptRate: decided === undefined ? f.acceptRate : { rate: f.acceptRate, decided } });
}

/** Hours for the recency factor to halve. */
export const RECENCY_HALF_LIFE_HOURS = 6;

/** 1 → now; 0.5 → six hours ago. */
export function recency(lastSeen: Date, now: Date): number {
  const hours = Math.max(0, (now.getTime() - lastSeen.getTime()) / 3_600_000);
  return 0.5 ** (hours / RECENCY_HALF_LIFE_HOURS);
}

/** Counts to 0..1 on a log scale: 1 → 0.1, 10 → 0.37, 100 → 0.67, 1000+ → 1. */
export function blast(count: number): number {
  return clamp(Math.log10(1 + Math.max(0, count)) / 3);
}
