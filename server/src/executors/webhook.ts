import type { Change } from "@flick/shared";
import { eq } from "drizzle-orm";
import { actions } from "../db/schema/index.ts";
import { hmacSha256 } from "../lib/crypto.ts";
import { readAtMost } from "../lib/read-body.ts";
import { type Executor, ExecutorError } from "./types.ts";

type WebhookChange = Extract<Change, { type: "webhook" }>;

/** Fills {{card.x}} and {{params.x}} with JSON-escaped text, so placeholders sit inside "…" in the template. */
export function renderTemplate(template: string, values: Record<string, unknown>): string {
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, path: string) => {
    const value = path
      .split(".")
      .reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], values);
    if (value === undefined || value === null) return "";
    const text = typeof value === "string" ? value : JSON.stringify(value);
    return JSON.stringify(text).slice(1, -1);
  });
}

/**
 * Calls an admin-defined action. The body is signed (X-Flick-Signature: sha256=HMAC of
 * "<timestamp>.<body>") and carries the execution id as Idempotency-Key, so a target that honours
 * it does nothing twice when an interrupted call is sent again.
 */
export const webhookExecutor: Executor<WebhookChange> = {
  name: "webhook",
  resumable: () => true,
  async run(ctx, change) {
    const [action] = await ctx.db.select().from(actions).where(eq(actions.name, change.action)).limit(1);
    if (!action) throw new ExecutorError(`no action named "${change.action}"`, false);
    if (!action.enabled) throw new ExecutorError(`action "${action.name}" is disabled`, false);
    const body = renderTemplate(action.bodyTemplate, {
      card: {
        id: ctx.card.id,
        title: ctx.card.title,
        summary: ctx.card.summary,
        fingerprint: ctx.card.fingerprint,
      },
      params: change.params ?? {},
      execution: { id: ctx.executionId },
    });
    try {
      JSON.parse(body);
    } catch {
      throw new ExecutorError(`action "${action.name}": the body template does not render to JSON`, false);
    }
    const timestamp = String(Math.floor(ctx.now.getTime() / 1000));
    const signature = hmacSha256(action.secret, `${timestamp}.${body}`);
    const headers: Record<string, string> = {
      ...action.headers,
      "content-type": "application/json",
      "user-agent": "Flick/1",
      "idempotency-key": ctx.executionId,
      "x-flick-timestamp": timestamp,
      "x-flick-signature": `sha256=${signature}`,
      "x-flick-card": ctx.card.id,
    };
    // The address by its host only: a webhook's path or query often holds its secret (a chat
    // hook's token), and what an execution logs and answers is read by every member of the team.
    const host = hostOf(action.url);
    const at = `the "${action.name}" action at ${host}`;
    if (ctx.dryRun) {
      ctx.log(`dry run: would ${action.method} ${at} (${body.length} bytes)`);
      return { dryRun: true, method: action.method, host, body };
    }
    ctx.log(`${action.method} ${at}`);
    let res: Response;
    try {
      res = await fetch(action.url, {
        method: action.method,
        headers,
        body: action.method === "DELETE" ? undefined : body,
        signal: AbortSignal.timeout(action.timeoutMs),
        redirect: "manual",
      });
    } catch (err) {
      const reason =
        (err as Error).name === "TimeoutError"
          ? `timed out after ${action.timeoutMs} ms`
          : (err as Error).message;
      throw new ExecutorError(`${at}: ${reason}`, true);
    }
    // The answer's start is all that is kept: a hook that answers megabytes, or never ends its
    // answer, is neither held whole nor waited for.
    const text = (await readAtMost(res.body, 8192).catch(() => ({ bytes: Buffer.alloc(0) }))).bytes
      .toString("utf8")
      .slice(0, 2000);
    ctx.log(`→ ${res.status}`);
    if (res.status >= 200 && res.status < 300) return { status: res.status, response: text };
    const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
    throw new ExecutorError(`${at} answered ${res.status}: ${text.slice(0, 300)}`, retryable);
  },
};

/** An action's address as it may be shown: its host (and port). */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "an address that does not parse";
  }
}
