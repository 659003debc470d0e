import { sha256 } from "../lib/crypto.ts";

interface Frame {
  function?: string | null;
  module?: string | null;
  filename?: string | null;
  abs_path?: string | null;
  in_app?: boolean | null;
}

interface ExceptionValue {
  type?: string | null;
  value?: string | null;
  module?: string | null;
  stacktrace?: { frames?: Frame[] | null } | null;
}

export interface SentryEventLike {
  fingerprint?: unknown;
  exception?: { values?: ExceptionValue[] | null } | ExceptionValue[] | null;
  message?: unknown;
  logentry?: { message?: string | null; formatted?: string | null } | null;
  culprit?: string | null;
  transaction?: string | null;
}

/** Replaces what varies between occurrences of the same error: numbers, hex, UUIDs, quoted values. */
export function normalizeMessage(message: string): string {
  return message
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, "<uuid>")
    .replace(/0x[0-9a-f]+/gi, "<hex>")
    .replace(/\b[0-9a-f]{12,}\b/gi, "<hex>")
    .replace(/'[^']*'|"[^"]*"/g, "<str>")
    .replace(/\d+(\.\d+)?/g, "<n>")
    .slice(0, 300);
}

/** A frame's identity without line numbers, memory addresses or absolute paths. */
function frameKey(frame: Frame): string {
  const file = (frame.module || frame.filename || frame.abs_path || "?")
    .replace(/\\/g, "/")
    .replace(/^.*\/node_modules\//, "node_modules/")
    .replace(/^(\/|[A-Za-z]:\/).*\/(?=[^/]+$)/, "")
    .replace(/\?.*$/, "")
    // Content-hashed bundle names (app.3f9a1c.js) change with every build.
    .replace(/[.-][0-9a-f]{6,}(?=\.\w+$)/i, "");
  const fn = (frame.function || "?").replace(/0x[0-9a-f]+/gi, "").replace(/\d+/g, "<n>");
  return `${file}:${fn}`;
}

function exceptionValues(event: SentryEventLike): ExceptionValue[] {
  const e = event.exception;
  if (!e) return [];
  return Array.isArray(e) ? e : (e.values ?? []);
}

function hash(parts: string[]): string {
  return sha256(parts.join("\n")).slice(0, 32);
}

/**
 * The error group an event belongs to: the SDK's own fingerprint when it sends one, else the
 * exception types with their in-app frames (all frames if none is in-app), else the normalized
 * message. Stable across deploys, line shifts and differing values in the message.
 */
export function errorGroupFingerprint(event: SentryEventLike): string {
  if (Array.isArray(event.fingerprint) && event.fingerprint.length > 0) {
    const parts = event.fingerprint.map(String);
    if (!(parts.length === 1 && parts[0] === "{{ default }}")) {
      return `sentry:fp:${hash(parts.filter((p) => p !== "{{ default }}"))}`;
    }
  }
  const values = exceptionValues(event);
  if (values.length > 0) {
    const parts: string[] = [];
    for (const value of values) {
      parts.push(`type:${value.type ?? "Error"}`);
      const frames = value.stacktrace?.frames ?? [];
      const inApp = frames.filter((f) => f.in_app === true);
      const chosen = (inApp.length > 0 ? inApp : frames).slice(-10);
      for (const frame of chosen) parts.push(frameKey(frame));
      if (chosen.length === 0 && value.value) parts.push(`value:${normalizeMessage(value.value)}`);
    }
    return `sentry:ex:${hash(parts)}`;
  }
  const message =
    event.logentry?.message ??
    event.logentry?.formatted ??
    (typeof event.message === "string"
      ? event.message
      : ((event.message as { formatted?: string; message?: string } | undefined)?.formatted ?? ""));
  return `sentry:msg:${hash([normalizeMessage(message || event.culprit || event.transaction || "unknown")])}`;
}
