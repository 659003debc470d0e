import type { WebhookMapping, WebhookPreview, WebhookPreviewRequest } from "@flick/shared";
import { and, desc, eq } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { signals } from "../../db/schema/index.ts";
import {
  DEFAULT_WEBHOOK_PRIORITY,
  isWebLink,
  readWebhook,
  type WebhookParts,
  webhookContentId,
  webhookFallbackTitle,
} from "../../ingest/webhook-map.ts";
import { AppError } from "../../lib/errors.ts";
import { checkSettings, getSource } from "./manage.ts";

/** Deliveries larger than this are mapped but not sent back whole. */
const MAX_ECHO_BYTES = 64 * 1024;

/** Each mapped path and the part of the delivery it gives. */
const PATHS: [keyof WebhookMapping & `${string}Path`, keyof WebhookParts][] = [
  ["titlePath", "title"],
  ["idPath", "id"],
  ["fingerprintPath", "key"],
  ["summaryPath", "summary"],
  ["urlPath", "url"],
];

/**
 * What a webhook source's deliveries become under a mapping (saved or not): the card's title, what
 * joins deliveries into one card, its summary and link, read exactly as the ingest and the webhook
 * agent read them, from a sample or the source's latest delivery. Writes nothing.
 */
export async function previewWebhook(
  db: Queryable,
  id: string,
  request: Omit<WebhookPreviewRequest, "settings"> & { settings: Record<string, unknown> },
): Promise<WebhookPreview> {
  const source = await getSource(db, id);
  if (source.kind !== "webhook") {
    throw new AppError(
      "validation_failed",
      `only a webhook source maps its deliveries; this is a ${source.kind} source`,
    );
  }
  const mapping = checkSettings("webhook", request.settings) as WebhookMapping;
  let from: WebhookPreview["from"] = "sample";
  let delivery = Array.isArray(request.sample) ? request.sample[0] : request.sample;
  let receivedAt: string | undefined;
  if (request.sample === undefined) {
    const [latest] = await db
      .select({ payload: signals.payload, receivedAt: signals.receivedAt })
      .from(signals)
      .where(and(eq(signals.sourceId, source.id), eq(signals.kind, "webhook")))
      .orderBy(desc(signals.receivedAt), desc(signals.id))
      .limit(1);
    if (!latest) return { from: "none", missing: [] };
    from = "latest";
    delivery = latest.payload;
    receivedAt = latest.receivedAt.toISOString();
  }
  if (typeof delivery !== "object" || delivery === null || Array.isArray(delivery)) {
    throw new AppError("validation_failed", "sample: a delivery is a JSON object (or an array of them)");
  }
  const parts = readWebhook(delivery, mapping);
  const missing = PATHS.flatMap(([key, part]) => {
    const path = mapping[key];
    const found = part === "url" ? isWebLink(parts.url) : parts[part] !== undefined;
    return path && !found ? [{ key, path }] : [];
  });
  const json = JSON.stringify(delivery);
  // As the ingest does: no id in the delivery, its content names it.
  const externalId = parts.id ?? webhookContentId(json);
  const echo = json.length <= MAX_ECHO_BYTES;
  return {
    from,
    ...(receivedAt ? { receivedAt } : {}),
    ...(echo ? { delivery } : {}),
    card: {
      title: parts.title ?? webhookFallbackTitle(parts.key ?? externalId),
      ...(parts.key !== undefined ? { groupedBy: parts.key } : {}),
      ...(parts.id !== undefined ? { id: parts.id } : {}),
      ...(parts.summary !== undefined ? { summary: parts.summary } : {}),
      ...(isWebLink(parts.url) ? { url: parts.url } : {}),
      priority: mapping.priority ?? DEFAULT_WEBHOOK_PRIORITY,
    },
    missing,
  };
}
