import type { WebhookMapping } from "@flick/shared";
import { sha256 } from "../lib/crypto.ts";
import { readText } from "./jsonpath.ts";

/** The parts of a generic webhook delivery its source's mapping points at (undefined: not mapped, or nothing there). */
export interface WebhookParts {
  id?: string;
  /** What its card is grouped by: the fingerprint path, else the title. */
  key?: string;
  title?: string;
  summary?: string;
  url?: string;
}

/**
 * Reads one delivery the way the ingest (id, grouping) and the webhook agent (title, summary,
 * link) do, so the settings' preview shows exactly what a delivery would become.
 */
export function readWebhook(item: unknown, mapping: WebhookMapping): WebhookParts {
  const title = readText(item, mapping.titlePath, 200);
  return {
    id: readText(item, mapping.idPath, 200),
    key: readText(item, mapping.fingerprintPath, 200) ?? title,
    title,
    summary: readText(item, mapping.summaryPath, 2000),
    url: readText(item, mapping.urlPath, 2000),
  };
}

/** A delivery's id when neither its mapping nor its sender names one: its content, hashed. */
export function webhookContentId(json: string): string {
  return sha256(json);
}

/** A webhook card's priority when the source's settings give none. */
export const DEFAULT_WEBHOOK_PRIORITY = 0.3;

/** A card's title when the mapping finds none in the delivery: what it is grouped by. */
export function webhookFallbackTitle(key: string): string {
  return `Webhook: ${key}`;
}

/** Only web pages become a card's link. */
export function isWebLink(url: string | undefined): url is string {
  return url !== undefined && /^https?:\/\//.test(url);
}
