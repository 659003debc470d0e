import type { Change } from "@flick/shared";
import { z } from "zod";
import { type CardUpsert, defineAgent } from "../define.ts";
import {
  addToClusters,
  type Cluster,
  type ClusterState,
  clusterConcept,
  DEFAULT_SIMILARITY,
  membersSince,
  newClusterState,
  topic,
} from "../feedback/cluster.ts";
import { classifyFeedback, namesPattern } from "../feedback/text.ts";
import { blast, rank, recency } from "../rank.ts";
import { repositorySetting } from "./settings.ts";
import { day } from "./words.ts";

const WEEK = 7 * 86_400_000;

/** How many this week a cluster's latest card told (while its card is rejected: the rejected count). */
interface Told {
  thisWeek: number;
}
const toldKey = (fingerprint: string) => `told:${fingerprint}`;

/** Feedback source settings: how many similar items in a week make a card, and where issues go. */
export const feedbackSourceSettings = z
  .object({
    clusterThreshold: z.number().int().min(2).max(1000).default(5),
    similarity: z.number().min(0.05).max(0.95).default(DEFAULT_SIMILARITY),
    repository: repositorySetting,
    /** The product's and company's names: every review says them, so they are no topic. */
    names: z.array(z.string().trim().min(1).max(60)).max(50).default([]),
  })
  .passthrough();

interface Item {
  text: string;
  author?: string;
  channel?: string;
  rating?: number;
}

function claim(c: Cluster, n: number): string {
  const t = topic(c);
  if (c.cls === "bug") return `${n} customers report a problem with "${t}" this week`;
  // "asked for "csv export"" but "asked about "heart rate"": a concept is a subject, not a request.
  return clusterConcept(c)
    ? `${n} customers asked about "${t}" this week`
    : `${n} customers asked for "${t}" this week`;
}

/**
 * Feedback clusters: each item is classified (bug / feature / noise; noise is dropped) and joins
 * the nearest cluster of its class (TF-IDF cosine, no model). A cluster that reaches the source's
 * threshold within a week becomes a card proposing an issue with the customers' own words.
 */
export const feedbackAgent = defineAgent({
  name: "feedback",
  reads: ["feedback"],
  async run(ctx, batch) {
    const bySource = new Map<string, typeof batch>();
    for (const s of batch) bySource.set(s.sourceId, [...(bySource.get(s.sourceId) ?? []), s]);
    const out: CardUpsert[] = [];
    for (const [sourceId, signals] of bySource) {
      const parsed = feedbackSourceSettings.safeParse(await ctx.sourceSettings(sourceId));
      const conf = parsed.success ? parsed.data : feedbackSourceSettings.parse({});
      const key = `clusters:${sourceId}`;
      const state = (await ctx.state.get<ClusterState>(key)) ?? newClusterState();
      const grown = new Map<number, { cluster: Cluster; signalIds: string[] }>();
      const names = namesPattern(conf.names);
      for (const s of signals) {
        const item = s.payload as Item;
        const cls = classifyFeedback(item.text, item.rating);
        if (cls === "noise") continue;
        const c = addToClusters(
          state,
          { text: item.text, cls, at: s.occurredAt.getTime(), signalId: s.id, author: item.author },
          conf.similarity,
          names,
        );
        const g = grown.get(c.id) ?? { cluster: c, signalIds: [] };
        g.signalIds.push(s.id);
        grown.set(c.id, g);
      }
      ctx.state.set(key, state);
      const ready = [...grown.values()]
        .map((g) => {
          const now = Math.max(ctx.now.getTime(), g.cluster.updatedAt);
          // Customers, not messages: one person writing five times is one voice, not a trend.
          const { customers: thisWeek, messages } = membersSince(g.cluster, now - WEEK);
          return { ...g, thisWeek, messages, fingerprint: `feedback:cluster:${sourceId}:${g.cluster.id}` };
        })
        .filter((g) => g.thisWeek >= conf.clusterThreshold);
      const latest = await ctx.latestCards(ready.map((g) => g.fingerprint));
      await ctx.state.load(ready.map((g) => toldKey(g.fingerprint)));
      for (const { cluster, signalIds, thisWeek, messages, fingerprint } of ready) {
        // A cluster whose card was rejected stays quiet — unless it grew far past the count the
        // person rejected (three times, and 10 more): more customers than anyone chose to ignore.
        const told = await ctx.state.get<Told>(toldKey(fingerprint));
        let again: string | null = null;
        if (latest.get(fingerprint)?.status === "rejected") {
          if (!told || thisWeek < Math.max(3 * told.thisWeek, told.thisWeek + 10)) continue;
          again = `Its card was rejected at ${told.thisWeek} this week; now ${thisWeek}, so it is here again.`;
        }
        ctx.state.set(toldKey(fingerprint), { thisWeek });
        const title = claim(cluster, thisWeek);
        const quotes = cluster.recent
          .slice(-5)
          .reverse()
          .map((r) => `> ${r.quote}`);
        const change: Change = conf.repository
          ? {
              type: "github",
              operation: "create_issue",
              repository: conf.repository,
              params: {
                title:
                  cluster.cls === "bug"
                    ? `Customers report: ${topic(cluster)}`
                    : `Feature request: ${topic(cluster)}`,
                body: `${thisWeek} customers this week${messages > thisWeek ? `, in ${messages} messages` : ""} (${cluster.size} in all).\n\n${quotes.join("\n\n")}`,
                labels: [cluster.cls === "bug" ? "bug" : "enhancement", "customer-feedback"],
              },
            }
          : { type: "none" };
        out.push({
          fingerprint,
          kind: conf.repository ? "issue" : "insight",
          title,
          // The preview quotes them; the summary says how many, since when, and what accept does.
          summary: `${
            messages > thisWeek
              ? `${thisWeek} customers this week in ${messages} messages (one who wrote again counts once), ${cluster.size} messages`
              : `${thisWeek} this week, ${cluster.size}`
          } in all since ${day(new Date(cluster.times[0] ?? cluster.updatedAt), ctx.now)}.${again ? ` ${again}` : ""} ${conf.repository ? `Accept opens an issue in ${conf.repository} quoting the ${quotes.length} latest.` : "Set a repository in the source's settings to get an issue proposed."}`,
          ...rank({
            // Second-hand and days old: below a production error or a red default branch of the
            // same reach; a request below a report of something broken.
            severity: cluster.cls === "bug" ? 0.5 : 0.3,
            // The customers who wrote, not a guess at the ones who did not.
            blastRadius: blast(thisWeek),
            // Card-sized clusters are ~60% one topic (`pnpm bench quality`): no surer than that.
            confidence: Math.min(0.6, 0.3 + thisWeek / 50),
            recency: recency(new Date(cluster.updatedAt), ctx.now),
            acceptRate: await ctx.acceptRate("feedback", "feedback"),
          }),
          preview: {
            type: "text",
            text: cluster.recent
              .slice(-3)
              .reverse()
              .map((r) => `“${r.quote}”`)
              .join("\n\n")
              .slice(0, 4000),
          },
          change,
          evidence: {
            signalIds,
            firstSeen: new Date(cluster.times[0] ?? cluster.updatedAt),
            lastSeen: new Date(cluster.updatedAt),
            facts: { class: cluster.cls, thisWeek, total: cluster.size, topic: topic(cluster) },
          },
          // Decided is decided (an accepted cluster has its issue), but for growth past a reject.
          reopen: again !== null,
          ...(again ? { pastMute: true } : {}),
        });
      }
    }
    return out;
  },
});
