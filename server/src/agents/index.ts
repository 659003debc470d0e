import { eq } from "drizzle-orm";
import type { Queryable } from "../db/client.ts";
import { sources } from "../db/schema/index.ts";
import { webhookAgent } from "./builtin/webhook.ts";
import type { Agent } from "./define.ts";

/** The agents that run with no LLM and no configuration beyond the sources themselves. */
export function builtinAgents(db: Queryable): Agent[] {
  return [
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
