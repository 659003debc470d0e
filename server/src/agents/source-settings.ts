import type { SourceKind } from "@flick/shared";
import type { z } from "zod";
import { errorSourceSettings } from "./builtin/errors.ts";
import { feedbackSourceSettings } from "./builtin/feedback.ts";
import { metricSourceSettings } from "./builtin/metrics.ts";

/**
 * What the built-in agents read from a source's settings, by source kind. A source's settings are
 * checked against these when an admin saves them, so a typo is a 400 naming the field instead of
 * an agent quietly falling back to its defaults.
 */
export const agentSourceSettings: Partial<Record<SourceKind, z.ZodType>> = {
  metrics: metricSourceSettings,
  feedback: feedbackSourceSettings,
  sentry: errorSourceSettings,
};
