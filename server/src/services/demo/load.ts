import { createHmac } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import { sources } from "../../db/schema/index.ts";
import { ingestModules, sentryStore } from "../../ingest/index.ts";
import type { IngestModule, IngestRequest, SourceRow } from "../../ingest/types.ts";
import { ingestSignals } from "../signals/ingest.ts";
import type { SignalWriter } from "../signals/writer.ts";
import { createSource } from "../sources/manage.ts";
import { SAMPLE_SOURCES, type SampleDelivery, type SampleSourceKey, sampleDeliveries } from "./samples.ts";

export interface SampleReplay {
  /** False when every sample was stored before: nothing new was sent. */
  loaded: boolean;
  /** The demo sources' names. */
  sources: string[];
  /** Signals stored by this call. */
  signals: number;
}

/**
 * "Replay sample signals": makes the demo sources (marked demo, so their cards' accepts only
 * rehearse; all four or none) and sends them the sample deliveries through each source's own
 * ingest module — the signature, key or bearer check and the parsing a real sender's request
 * gets — then the agents read them like any others. The samples' times end when the demo sources
 * were made, and every sample has a fixed id, so calling again (or after an interruption) stores
 * only what is missing: the feed never gets the same story twice.
 */
export async function replaySampleSignals(
  db: Database,
  writer: SignalWriter,
  now: Date,
): Promise<SampleReplay> {
  const made = await db.transaction(async (tx) => {
    const existing = await tx.select().from(sources).where(eq(sources.demo, true));
    const out = {} as Record<SampleSourceKey, SourceRow>;
    for (const key of Object.keys(SAMPLE_SOURCES) as SampleSourceKey[]) {
      const s = SAMPLE_SOURCES[key];
      out[key] =
        existing.find((row) => row.name === s.name) ??
        (await createSource(tx, { kind: s.kind, name: s.name, settings: s.settings, now, demo: true }));
    }
    return out;
  });
  const anchor = Math.min(...Object.values(made).map((s) => s.createdAt.getTime()));
  let stored = 0;
  for (const [i, delivery] of sampleDeliveries(anchor).entries()) {
    const source = made[delivery.source];
    const { module, req } = request(source, delivery, i);
    stored += (await ingestSignals(writer, source, module, req)).accepted;
  }
  return { loaded: stored > 0, sources: Object.values(made).map((s) => s.name), signals: stored };
}

/** The request the source's real sender would make. */
function request(
  source: SourceRow,
  d: SampleDelivery,
  index: number,
): { module: IngestModule; req: IngestRequest } {
  const body = new TextEncoder().encode(JSON.stringify(d.body));
  const headers = new Headers({ "content-type": "application/json" });
  let module = ingestModules[source.kind];
  if (d.source === "github") {
    headers.set("x-github-event", d.event);
    headers.set("x-github-delivery", `sample-${index}`);
    headers.set(
      "x-hub-signature-256",
      `sha256=${createHmac("sha256", source.secret).update(body).digest("hex")}`,
    );
  } else if (d.source === "sentry") {
    module = sentryStore;
    headers.set("x-sentry-auth", `Sentry sentry_version=7, sentry_key=${source.secret}`);
  } else {
    headers.set("authorization", `Bearer ${source.secret}`);
  }
  return { module, req: { headers, body, query: new URLSearchParams() } };
}
