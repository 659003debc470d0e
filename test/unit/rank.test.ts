import { rank, rerank } from "@flick/server/rank";
import { describe, expect, it } from "vitest";

describe("ranking a card again", () => {
  const first = rank({
    severity: 0.8,
    blastRadius: 0.4,
    confidence: 0.9,
    recency: 1,
    acceptRate: { rate: 0.7, decided: 12 },
  });

  it("changes the factors named and keeps how many decisions the accept rate rests on", () => {
    const again = rerank(first.priorityFactors, { severity: 0.4 });
    expect(again).toEqual(
      rank({
        severity: 0.4,
        blastRadius: 0.4,
        confidence: 0.9,
        recency: 1,
        acceptRate: { rate: 0.7, decided: 12 },
      }),
    );
    expect(again.priorityFactors.acceptRateDecisions).toBe(12);
    expect(again.priority).toBeLessThan(first.priority);
  });

  it("keeps a rate with no decisions as such (the card says it counts as 50)", () => {
    const none = rank({
      severity: 0.5,
      blastRadius: 0.5,
      confidence: 0.5,
      recency: 1,
      acceptRate: { rate: 0.5, decided: 0 },
    });
    expect(rerank(none.priorityFactors, { recency: 0.5 }).priorityFactors.acceptRateDecisions).toBe(0);
  });
});
