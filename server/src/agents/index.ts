import { eq } from "drizzle-orm";
import type { Queryable } from "../db/client.ts";
import { sources } from "../db/schema/index.ts";
import { alertsAgent } from "./builtin/alerts.ts";
import { ciAgent } from "./builtin/ci.ts";
import { deploysAgent } from "./builtin/deploys.ts";
import { errorsAgent } from "./builtin/errors.ts";
import { feedbackAgent } from "./builtin/feedback.ts";
import { metricsAgent } from "./builtin/metrics.ts";
import { prsAgent } from "./builtin/prs.ts";
import { securityAgent } from "./builtin/security.ts";
import { silenceAgent } from "./builtin/silence.ts";
import { testSignalAgent } from "./builtin/test-signal.ts";
import { webhookAgent } from "./builtin/webhook.ts";
import type { Agent } from "./define.ts";

/**
 * The agents that run with no LLM and no configuration beyond the sources themselves. Order
 * matters within a batch: deploys are recorded before the agents that blame trouble on them.
 */
export function builtinAgents(db: Queryable): Agent[] {
  return [
    deploysAgent,
    metricsAgent,
    errorsAgent,
    alertsAgent,
    ciAgent,
    // Before the pull request agent: a bump that fixes an alert in the same batch finds it.
    securityAgent,
    prsAgent,
    feedbackAgent,
    silenceAgent,
    testSignalAgent,
    webhookAgent(async (sourceId) => {
      const [row] = await db
        .select({ settings: sources.settings })
        .from(sources)
        .where(eq(sources.id, sourceId))
        .limit(1);
      return row?.settings ?? {};
    }),
  ];
}

export * from "./define.ts";
export { type GitHubReads, githubReads } from "./github.ts";
export { AgentRuntime, type RuntimeOptions } from "./runtime.ts";
