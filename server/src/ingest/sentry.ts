import { z } from "zod";
import { hmacSha256, safeEqual, sha256 } from "../lib/crypto.ts";
import { AppError } from "../lib/errors.ts";
import { bodyText, check, parseJson, toDate } from "./common.ts";
import { errorGroupFingerprint, type SentryEventLike } from "./sentry-grouping.ts";
import type { IngestModule, IngestRequest, ParsedSignal, ParseResult, SourceRow } from "./types.ts";

const eventSchema = z
  .object({
    event_id: z
      .string()
      .regex(/^[0-9a-fA-F-]{32,36}$/, "must be a 32-character hex id")
      .optional(),
    timestamp: z.union([z.string(), z.number()]).optional(),
    level: z.string().optional(),
    platform: z.string().optional(),
  })
  .passthrough();

/** The key a Sentry SDK sends: X-Sentry-Auth header, `sentry_key` query parameter, or the envelope's DSN. */
function sentryKey(req: IngestRequest, envelopeDsn?: string): string | undefined {
  const auth = req.headers.get("x-sentry-auth") ?? "";
  const fromHeader = /sentry_key=([^,\s]+)/.exec(auth)?.[1];
  if (fromHeader) return fromHeader;
  const fromQuery = req.query.get("sentry_key");
  if (fromQuery) return fromQuery;
  if (envelopeDsn && URL.canParse(envelopeDsn)) return new URL(envelopeDsn).username || undefined;
  return undefined;
}

function verifyKey(source: SourceRow, key: string | undefined): void {
  if (!key) throw new AppError("unauthorized", "sentry_key is missing (X-Sentry-Auth header or query)");
  if (!safeEqual(key, source.secret))
    throw new AppError("unauthorized", "sentry_key does not match this project");
}

function eventSignal(event: Record<string, unknown>, fallbackId: string): ParsedSignal {
  const e = check(eventSchema, event, "event");
  const id = (e.event_id ?? fallbackId).replace(/-/g, "").toLowerCase();
  return {
    kind: "sentry.error",
    externalId: id,
    fingerprint: errorGroupFingerprint(e as SentryEventLike),
    payload: e,
    occurredAt: toDate(e.timestamp as string | number | undefined),
  };
}

interface EnvelopeItem {
  header: Record<string, unknown>;
  payload: Uint8Array;
}

const NEWLINE = 0x0a;

/** Splits an envelope: a header line, then items of a header line plus `length` bytes or one line. */
export function parseEnvelope(body: Uint8Array): { header: Record<string, unknown>; items: EnvelopeItem[] } {
  const decoder = new TextDecoder();
  let pos = 0;
  const readLine = (): Uint8Array | null => {
    if (pos >= body.length) return null;
    let end = body.indexOf(NEWLINE, pos);
    if (end === -1) end = body.length;
    const line = body.subarray(pos, end);
    pos = end + 1;
    return line;
  };
  const headerLine = readLine();
  if (!headerLine) throw new AppError("bad_request", "envelope is empty");
  const header = parseJson(decoder.decode(headerLine), "envelope header");
  if (typeof header !== "object" || header === null)
    throw new AppError("bad_request", "envelope header must be an object");
  const items: EnvelopeItem[] = [];
  for (;;) {
    const line = readLine();
    if (line === null) break;
    if (line.length === 0) continue;
    const itemHeader = parseJson(decoder.decode(line), `envelope item ${items.length + 1} header`);
    if (typeof itemHeader !== "object" || itemHeader === null) {
      throw new AppError("bad_request", `envelope item ${items.length + 1} header must be an object`);
    }
    const length = (itemHeader as { length?: unknown }).length;
    let payload: Uint8Array;
    if (typeof length === "number" && Number.isInteger(length) && length >= 0) {
      if (pos + length > body.length) {
        throw new AppError(
          "bad_request",
          `envelope item ${items.length + 1} is shorter than its length ${length}`,
        );
      }
      payload = body.subarray(pos, pos + length);
      pos += length;
      if (body[pos] === NEWLINE) pos++;
    } else {
      payload = readLine() ?? new Uint8Array();
    }
    items.push({ header: itemHeader as Record<string, unknown>, payload });
  }
  return { header: header as Record<string, unknown>, items };
}

/** What Sentry SDKs post to a DSN: /api/<project>/envelope/ */
export const sentryEnvelope: IngestModule = {
  verify(source, req) {
    let dsn: string | undefined;
    if (!req.headers.get("x-sentry-auth") && !req.query.get("sentry_key")) {
      // Tunnelled envelopes carry the DSN in their header line instead.
      try {
        dsn = (parseEnvelope(req.body).header.dsn as string | undefined) ?? undefined;
      } catch {
        dsn = undefined;
      }
    }
    verifyKey(source, sentryKey(req, dsn));
  },
  parse(_source, req): ParseResult {
    const { header, items } = parseEnvelope(req.body);
    const signals: ParsedSignal[] = [];
    let ignored = 0;
    const decoder = new TextDecoder();
    for (const [i, item] of items.entries()) {
      if (item.header.type !== "event") {
        ignored++;
        continue;
      }
      const event = parseJson(decoder.decode(item.payload), `envelope item ${i + 1}`);
      if (typeof event !== "object" || event === null)
        throw new AppError("bad_request", `envelope item ${i + 1} must be an object`);
      const id = (header.event_id as string | undefined) ?? sha256(item.payload).slice(0, 32);
      signals.push(eventSignal(event as Record<string, unknown>, id));
    }
    return { signals, ignored };
  },
};

/** The older single-event endpoint: /api/<project>/store/ */
export const sentryStore: IngestModule = {
  verify(source, req) {
    verifyKey(source, sentryKey(req));
  },
  parse(_source, req): ParseResult {
    const event = parseJson(bodyText(req));
    if (typeof event !== "object" || event === null || Array.isArray(event)) {
      throw new AppError("bad_request", "event must be a JSON object");
    }
    return {
      signals: [eventSignal(event as Record<string, unknown>, sha256(req.body).slice(0, 32))],
      ignored: 0,
    };
  },
};

const webhookSchema = z.object({ action: z.string(), data: z.record(z.string(), z.unknown()) }).passthrough();

/** Sentry's integration-platform webhooks, signed with the integration's client secret. */
export const sentryWebhook: IngestModule = {
  verify(source, req) {
    const signature = req.headers.get("sentry-hook-signature");
    if (!signature) throw new AppError("unauthorized", "Sentry-Hook-Signature header is missing");
    if (!safeEqual(signature, hmacSha256(source.secret, req.body))) {
      throw new AppError(
        "unauthorized",
        "Sentry-Hook-Signature does not match the body signed with this source's secret",
      );
    }
  },
  parse(_source, req): ParseResult {
    const resource = req.headers.get("sentry-hook-resource");
    if (!resource || !/^[a-z_]{1,64}$/.test(resource)) {
      throw new AppError("bad_request", "Sentry-Hook-Resource header is missing or malformed");
    }
    const body = check(webhookSchema, parseJson(bodyText(req)));
    const data = body.data as Record<string, Record<string, unknown> | undefined>;
    const issueId =
      data.issue?.id ??
      data.error?.issue_id ??
      data.event?.issue_id ??
      (body.data as { issue_id?: unknown }).issue_id ??
      (body.data as { group_id?: unknown }).group_id;
    const fingerprint =
      issueId !== undefined && issueId !== null
        ? `sentry:issue:${String(issueId)}`
        : `sentry:${resource}:${sha256(JSON.stringify(data.metric_alert ?? data)).slice(0, 16)}`;
    const requestId = req.headers.get("request-id");
    // When it happened, not when the webhook came (Sentry may deliver late, or retry): the event's
    // time, or a new issue's first sighting.
    const when = (data.error?.datetime ??
      data.event?.datetime ??
      (body.action === "created" ? data.issue?.firstSeen : undefined)) as string | undefined;
    const occurredAt = toDate(when);
    return {
      signals: [
        {
          kind: `sentry.webhook.${resource}`,
          externalId: requestId && requestId.length <= 100 ? requestId : sha256(req.body),
          fingerprint,
          payload: body,
          ...(occurredAt ? { occurredAt } : {}),
        },
      ],
      ignored: 0,
    };
  },
};
