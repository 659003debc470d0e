import { z } from "zod";
import { hmacSha256, safeEqual } from "../lib/crypto.ts";
import { AppError } from "../lib/errors.ts";
import { bodyText, check, parseJson } from "./common.ts";
import type { IngestModule, IngestRequest, SourceRow } from "./types.ts";

const repo = z.object({ full_name: z.string() }).passthrough();
const withRepo = z.object({ repository: repo }).passthrough();

/**
 * The fields each event needs for its fingerprint. Everything else is kept as sent (passthrough):
 * agents read the full payload.
 */
const events = {
  push: withRepo.extend({ ref: z.string(), after: z.string() }),
  pull_request: withRepo.extend({
    action: z.string(),
    number: z.number().int(),
    pull_request: z.object({ head: z.object({ sha: z.string() }).passthrough() }).passthrough(),
  }),
  pull_request_review: withRepo.extend({
    action: z.string(),
    pull_request: z.object({ number: z.number().int() }).passthrough(),
    review: z.object({ id: z.number(), state: z.string() }).passthrough(),
  }),
  check_run: withRepo.extend({
    action: z.string(),
    check_run: z.object({ id: z.number(), name: z.string(), head_sha: z.string() }).passthrough(),
  }),
  /** A commit status (the older API many CI services still report through). */
  status: withRepo.extend({ sha: z.string(), state: z.string(), context: z.string() }),
  check_suite: withRepo.extend({
    action: z.string(),
    check_suite: z.object({ id: z.number(), head_sha: z.string() }).passthrough(),
  }),
  workflow_run: withRepo.extend({
    action: z.string(),
    workflow_run: z
      .object({ id: z.number(), workflow_id: z.number(), head_branch: z.string().nullable() })
      .passthrough(),
  }),
  workflow_job: withRepo.extend({
    action: z.string(),
    workflow_job: z.object({ id: z.number(), run_id: z.number(), name: z.string() }).passthrough(),
  }),
  issues: withRepo.extend({
    action: z.string(),
    issue: z.object({ number: z.number().int() }).passthrough(),
  }),
  issue_comment: withRepo.extend({
    action: z.string(),
    issue: z.object({ number: z.number().int() }).passthrough(),
    comment: z.object({ id: z.number() }).passthrough(),
  }),
  release: withRepo.extend({ action: z.string(), release: z.object({ tag_name: z.string() }).passthrough() }),
  dependabot_alert: withRepo.extend({
    action: z.string(),
    alert: z.object({ number: z.number().int() }).passthrough(),
  }),
  code_scanning_alert: withRepo.extend({
    action: z.string(),
    alert: z.object({ number: z.number().int() }).passthrough(),
  }),
  ping: z.object({ zen: z.string(), hook_id: z.number() }).passthrough(),
} as const;

type KnownEvent = keyof typeof events;
const anyEvent = z.object({ repository: repo.optional() }).passthrough();

function fingerprint(event: string, p: Record<string, unknown>): string {
  const r = (p.repository as { full_name?: string } | undefined)?.full_name ?? "-";
  const get = (path: string): unknown =>
    path.split(".").reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], p);
  switch (event as KnownEvent) {
    case "push":
      return `github:push:${r}:${get("ref")}`;
    case "pull_request":
      return `github:pr:${r}#${get("number")}`;
    case "pull_request_review":
      return `github:pr:${r}#${get("pull_request.number")}`;
    case "check_run":
      return `github:check:${r}:${get("check_run.name")}`;
    case "status":
      return `github:status:${r}:${get("context")}`;
    case "check_suite":
      return `github:suite:${r}:${get("check_suite.head_branch") ?? get("check_suite.head_sha")}`;
    case "workflow_run":
      return `github:workflow:${r}:${get("workflow_run.workflow_id")}:${get("workflow_run.head_branch")}`;
    case "workflow_job":
      return `github:job:${r}:${get("workflow_job.name")}`;
    case "issues":
    case "issue_comment":
      return `github:issue:${r}#${get("issue.number")}`;
    case "release":
      return `github:release:${r}:${get("release.tag_name")}`;
    case "dependabot_alert":
      return `github:dependabot:${r}#${get("alert.number")}`;
    case "code_scanning_alert":
      return `github:code-scanning:${r}#${get("alert.number")}`;
    case "ping":
      return `github:ping:${get("hook_id")}`;
    default:
      return `github:${event}:${r}`;
  }
}

export const github: IngestModule = {
  verify(source: SourceRow, req: IngestRequest) {
    const header = req.headers.get("x-hub-signature-256");
    if (!header) throw new AppError("unauthorized", "X-Hub-Signature-256 header is missing");
    const expected = `sha256=${hmacSha256(source.secret, req.body)}`;
    if (!safeEqual(header, expected)) {
      throw new AppError(
        "unauthorized",
        "X-Hub-Signature-256 does not match the body signed with this source's secret",
      );
    }
  },

  parse(_source, req) {
    const event = req.headers.get("x-github-event");
    const delivery = req.headers.get("x-github-delivery");
    if (!event || !/^[a-z_]{1,64}$/.test(event)) {
      throw new AppError("bad_request", "X-GitHub-Event header is missing or malformed");
    }
    if (!delivery || delivery.length > 100) {
      throw new AppError("bad_request", "X-GitHub-Delivery header is missing or malformed");
    }
    const text = bodyText(req);
    const json = parseJson(text);
    const schema = event in events ? events[event as KnownEvent] : anyEvent;
    const payload = check<Record<string, unknown>>(schema, json);
    return {
      signals: [
        {
          kind: `github.${event}`,
          externalId: delivery,
          fingerprint: fingerprint(event, payload),
          payload,
          // GitHub's bytes are the payload as is: stored without a second JSON.stringify.
          payloadText: text,
        },
      ],
      ignored: 0,
    };
  },
};
