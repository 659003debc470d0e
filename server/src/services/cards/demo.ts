import { DEMO_AGENT } from "@flick/shared";
import { sql } from "drizzle-orm";
import { blast, rank } from "../../agents/rank.ts";
import type { Database } from "../../db/client.ts";
import { cards } from "../../db/schema/index.ts";
import { type AgentUpsert, applyCardUpserts } from "./upsert.ts";

/**
 * A demo card, in SQL (isDemoCard's twin): a hand-written sample, or a card the agents made from
 * sample signals. Never NULL, so `not(demoCardSql)` is a plain filter.
 */
export const demoCardSql = sql`(${cards.agent} = ${DEMO_AGENT} or coalesce(${cards.evidence}->>'demo', '') = 'true')`;

const minute = 60_000;

function series(now: Date, points: number, f: (i: number) => number): [number, number][] {
  return Array.from({ length: points }, (_, i) => [
    now.getTime() - (points - 1 - i) * minute,
    Math.round(f(i) * 1000) / 1000,
  ]);
}

const diff = `diff --git a/src/cart/total.ts b/src/cart/total.ts
--- a/src/cart/total.ts
+++ b/src/cart/total.ts
@@ -3,7 +3,9 @@ import type { Item } from "./item";
 export function cartTotal(items: Item[]): number {
-  return items.reduce((sum, item) => sum + item.price, 0);
+  return items.reduce((sum, item) => sum + item.price * (item.quantity ?? 1), 0);
 }
+
+export const MAX_ITEMS = 100;
`;

/**
 * A handful of realistic cards so a new team sees what Flick does before connecting anything.
 * Fixed fingerprints: loading twice refreshes the same cards (and reopens decided ones). Accepting
 * one rehearses its change (see the execution runtime): nothing outside Flick is touched.
 */
export function demoCards(now: Date): AgentUpsert[] {
  const ev = (
    facts: Record<string, string | number | boolean>,
    links: { label: string; url: string }[] = [],
  ) => ({
    signalIds: [],
    firstSeen: new Date(now.getTime() - 42 * minute),
    lastSeen: now,
    facts,
    links,
  });
  return [
    {
      agent: DEMO_AGENT,
      fingerprint: "demo:rollback-checkout",
      kind: "action",
      title: "Checkout errors ×40 since deploy a1b2c3 — roll back?",
      summary:
        "Deploy **a1b2c3** reached checkout 24 minutes ago. Since then:\n- `TypeError: cannot read properties of undefined (reading 'price')` ×40, starting 2 minutes after it\n- checkout success fell from 98% to 61%\nThe previous release had neither.",
      // The same stated factors as the built-in agents' cards, so "why" reads the same.
      ...rank({ severity: 1, blastRadius: blast(400), confidence: 0.9, recency: 1, acceptRate: 0.5 }),
      preview: {
        type: "series",
        label: "checkout_success",
        unit: "%",
        points: series(now, 60, (i) => (i < 38 ? 98 + Math.sin(i / 3) : 61 + Math.sin(i) * 2)),
        marks: [38],
        span: [38, 59],
      },
      change: { type: "webhook", action: "rollback", params: { service: "checkout", to: "9f8e7d" } },
      evidence: ev({ errors: 40, usersAffected: 31, deploy: "a1b2c3", previous: "9f8e7d" }),
      // The checks a real rollback card makes (see rollbackCard in the deploys agent).
      verification: [
        {
          check: "the trouble started after the deploy, not before",
          status: "passed",
          detail: "2 min after it",
        },
        {
          check: "the rollback action for acme/checkout worked before",
          status: "passed",
          detail: "3 of 3 in the last 90 days",
        },
        {
          check: "earlier rollbacks of acme/checkout ended the trouble they were for within an hour",
          status: "passed",
          detail: "3 of 3 in the last 90 days",
        },
      ],
      reopen: true,
    },
    {
      agent: DEMO_AGENT,
      fingerprint: "demo:patch-cart-total",
      kind: "patch",
      title: "Cart total ignores quantity — patch ready, tests pass",
      summary:
        "Customers with 2+ of an item are charged for one. The fix multiplies by `quantity`; the cart tests pass.",
      ...rank({ severity: 0.7, blastRadius: blast(60), confidence: 0.95, recency: 1, acceptRate: 0.5 }),
      preview: { type: "diffstat", files: [{ path: "src/cart/total.ts", added: 3, removed: 1 }] },
      change: { type: "patch", repository: "shop", diff, message: "Count quantities in the cart total" },
      evidence: ev({ reports: 7, channel: "support" }),
      verification: [
        { check: "patch applies to main", status: "passed" },
        { check: "pnpm test src/cart", status: "passed", detail: "41 passed" },
      ],
      reopen: true,
    },
    {
      agent: DEMO_AGENT,
      fingerprint: "demo:merge-deps",
      kind: "action",
      title: "Merge #412: bump postgres from 3.4.8 to 3.4.9 (checks green)",
      summary: "A patch release from Dependabot. All 14 checks passed; no breaking changes in the changelog.",
      ...rank({ severity: 0.3, blastRadius: 0.2, confidence: 0.95, recency: 1, acceptRate: 0.5 }),
      preview: {
        type: "diffstat",
        files: [
          { path: "pnpm-lock.yaml", added: 6, removed: 6 },
          { path: "package.json", added: 1, removed: 1 },
        ],
      },
      change: {
        type: "github",
        operation: "merge_pr",
        repository: "acme/shop",
        params: { number: 412, method: "squash" },
      },
      evidence: ev({ checks: 14, reviews: 0, author: "dependabot" }, [
        { label: "PR #412", url: "https://github.com/acme/shop/pull/412" },
      ]),
      verification: [{ check: "all required checks green", status: "passed" }],
      reopen: true,
    },
    {
      agent: DEMO_AGENT,
      fingerprint: "demo:feedback-sync",
      kind: "issue",
      title: "12 people this week: watch stops syncing after the update",
      summary:
        "Twelve Play Store reviews describe the same problem since version 4.12. Proposed: open an issue with the quotes.",
      ...rank({ severity: 0.5, blastRadius: blast(12), confidence: 0.6, recency: 1, acceptRate: 0.5 }),
      preview: {
        type: "text",
        text: "“Since the last update my watch won't sync anymore.” — ★☆☆☆☆\n“Watch stopped syncing after 4.12, steps are missing since Monday.” — ★★☆☆☆",
      },
      change: {
        type: "github",
        operation: "create_issue",
        repository: "acme/app",
        params: {
          title: "Watch sync fails after 4.12",
          body: "12 reports this week (Play Store), since 4.12.\n\n> Since the last update my watch won't sync anymore.\n\n> Watch stopped syncing after 4.12, steps are missing since Monday.",
          labels: ["bug", "sync"],
        },
      },
      evidence: ev({ reviews: 12, store: "Play Store", since: "4.12" }),
      reopen: true,
    },
  ];
}

export async function loadDemoCards(db: Database, now: Date) {
  return db.transaction((tx) => applyCardUpserts(tx, demoCards(now), now));
}
