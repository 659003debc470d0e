import { defineAgent } from "../define.ts";

/** Test signals from Settings become a low-priority card: the pipeline from source to feed works. */
export const testSignalAgent = defineAgent({
  name: "test-signal",
  reads: ["flick.test"],
  run(_ctx, batch) {
    return batch.map((s) => {
      const p = s.payload as { source: string; sourceKind: string };
      return {
        fingerprint: s.fingerprint,
        kind: "insight" as const,
        title: `Test signal from “${p.source}” arrived — the way from source to feed works`,
        summary: `Sent from Settings at ${s.occurredAt.toISOString().slice(11, 19)} UTC. Reject or accept it to clear it; nothing happens either way.`,
        priority: 0.2,
        priorityFactors: { test: 1 },
        change: { type: "none" as const },
        evidence: {
          signalIds: [s.id],
          firstSeen: s.occurredAt,
          lastSeen: s.occurredAt,
          facts: { source: p.source, kind: p.sourceKind },
        },
        reopen: true,
      };
    });
  },
});
