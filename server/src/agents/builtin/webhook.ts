import { type WebhookMapping, webhookMappingSchema } from "@flick/shared";
import {
  DEFAULT_WEBHOOK_PRIORITY,
  isWebLink,
  readWebhook,
  webhookFallbackTitle,
} from "../../ingest/webhook-map.ts";
import { type CardUpsert, defineAgent, type SignalRow } from "../define.ts";

/**
 * Generic webhooks become insight cards: one per fingerprint, titled from the source's mapping,
 * with every matching delivery added as evidence.
 */
export function webhookAgent(mappings: (sourceId: string) => Promise<WebhookMapping>) {
  return defineAgent({
    name: "webhook",
    reads: ["webhook"],
    async run(_ctx, batch) {
      const settings = new Map<string, Promise<WebhookMapping>>();
      const mappingOf = (sourceId: string) => {
        if (!settings.has(sourceId)) settings.set(sourceId, mappings(sourceId));
        return settings.get(sourceId) as Promise<WebhookMapping>;
      };
      const groups = new Map<string, SignalRow[]>();
      for (const s of batch) groups.set(s.fingerprint, [...(groups.get(s.fingerprint) ?? []), s]);
      const out: CardUpsert[] = [];
      for (const [fingerprint, group] of groups) {
        const last = group[group.length - 1] as SignalRow;
        const mapping = webhookMappingSchema.parse(await mappingOf(last.sourceId));
        const { title: mapped, summary, url } = readWebhook(last.payload, mapping);
        const title = mapped ?? webhookFallbackTitle(fingerprint.split(":").slice(2).join(":"));
        out.push({
          fingerprint,
          kind: "insight",
          title,
          summary,
          priority: mapping.priority ?? DEFAULT_WEBHOOK_PRIORITY,
          priorityFactors: { configured: mapping.priority ?? DEFAULT_WEBHOOK_PRIORITY },
          preview: { type: "text", text: JSON.stringify(last.payload, null, 2).slice(0, 1500) },
          change: { type: "none" },
          evidence: {
            signalIds: group.map((s) => s.id),
            firstSeen: group[0]?.occurredAt ?? last.occurredAt,
            lastSeen: last.occurredAt,
            links: isWebLink(url) ? [{ label: "Open", url }] : [],
          },
        });
      }
      return out;
    },
  });
}
