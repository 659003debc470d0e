import { alertmanager } from "./alertmanager.ts";
import { feedback } from "./feedback.ts";
import { github } from "./github.ts";
import { metrics } from "./metrics.ts";
import { sentryWebhook } from "./sentry.ts";
import type { IngestModule, SourceRow } from "./types.ts";
import { webhook } from "./webhook.ts";

/** The module behind each source's own ingest URL (/ingest/<source id>). */
export const ingestModules: Record<SourceRow["kind"], IngestModule> = {
  github,
  sentry: sentryWebhook,
  metrics,
  alertmanager,
  feedback,
  webhook,
};

export { sentryEnvelope, sentryStore } from "./sentry.ts";
export type { IngestModule, IngestRequest, ParsedSignal, SourceRow } from "./types.ts";
