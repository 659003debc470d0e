import type { FieldIssue } from "@flick/shared";
import type { sources } from "../db/schema/index.ts";

export type SourceRow = typeof sources.$inferSelect;

/** One event ready to store: what an ingest module makes of a request. */
export interface ParsedSignal {
  kind: string;
  /** Unique per source: the sender's delivery/event id, or a hash of the content. */
  externalId: string;
  /** Groups signals about the same thing (one PR, one error group, one metric series). */
  fingerprint: string;
  payload: unknown;
  /** The payload's JSON text when the sender's bytes are the payload as is: stored without re-serializing. */
  payloadText?: string;
  /** When the sender says it happened; defaults to arrival time. */
  occurredAt?: Date;
}

export interface IngestRequest {
  headers: Headers;
  body: Uint8Array;
  query: URLSearchParams;
  /** When it came, by the server's clock: metric points dated well after it are refused. */
  receivedAt?: Date;
}

export interface ParseResult {
  signals: ParsedSignal[];
  /** Items the sender may send that Flick does not keep (Sentry sessions, client reports…). */
  ignored: number;
  /**
   * Items refused while the rest of the request is kept (a Prometheus remote write's bad series):
   * the request is answered with a 400 naming them after the rest is stored.
   */
  refused?: FieldIssue[];
}

export interface IngestModule {
  /** Throws AppError("unauthorized") unless the request proves it comes from the source. */
  verify(source: SourceRow, req: IngestRequest): void;
  /** Throws AppError("validation_failed"/"invalid_json") naming the problem; never stores. */
  parse(source: SourceRow, req: IngestRequest): ParseResult;
}
