import { eq } from "drizzle-orm";
import type { Queryable } from "../db/client.ts";
import { sources } from "../db/schema/index.ts";
import { alertsAgent } from "./builtin/alerts.ts";
import { ciAgent, githubJobLogs } from "./builtin/ci.ts";
import { deploysAgent } from "./builtin/deploys.ts";
import { errorsAgent } from "./builtin/errors.ts";
import { feedbackAgent } from "./builtin/feedback.ts";
import { metricsAgent } from "./builtin/metrics.ts";
import { githubPulls, prsAgent } from "./builtin/prs.ts";
import { securityAgent } from "./builtin/security.ts";
import { silenceAgent } from "./builtin/silence.ts";
import { testSignalAgent } from "./builtin/test-signal.ts";
import { webhookAgent } from "./builtin/webhook.ts";
import type { Agent } from "./define.ts";

export interface BuiltinOptions {
  /**
   * GitHub access for reading CI job logs and asking whether a pull request can be merged; without
   * it CI cards have no error lines and merge cards rest on the webhooks alone.
   */
  github?: { apiUrl?: string; token?: string };
}

/**
 * The agents that run with no LLM and no configuration beyond the sources themselves. Order
 * matters within a batch: deploys are recorded before the agents that blame trouble on them.
 */
export function builtinAgents(db: Queryable, options: BuiltinOptions = {}): Agent[] {
  const gh = options.github;
  const apiUrl = gh?.apiUrl ?? "https://api.github.com";
  return [
    deploysAgent,
    metricsAgent,
    errorsAgent,
    alertsAgent,
    ciAgent(gh?.token ? githubJobLogs(apiUrl, gh.token) : null),
    // Before the pull request agent: a bump that fixes an alert in the same batch finds it.
    securityAgent,
    prsAgent(gh?.token ? githubPulls(apiUrl, gh.token) : null),
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
export { AgentRuntime, type RuntimeOptions } from "./runtime.ts";
