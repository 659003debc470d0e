import type { SourceRow } from "../../ingest/types.ts";
import type { SignalWriter } from "../signals/writer.ts";

export const TEST_SIGNAL_KIND = "flick.test";

/**
 * Stores a test signal for a source through the same group-commit writer ingest uses; the test
 * agent turns it into a card, so an admin sees the whole way from source to feed work.
 */
export async function sendTestSignal(writer: SignalWriter, source: SourceRow, now: Date): Promise<string> {
  const { ids } = await writer.write(source.id, [
    {
      kind: TEST_SIGNAL_KIND,
      externalId: `test:${now.getTime()}`,
      fingerprint: `test:${source.id}`,
      payload: { source: source.name, sourceKind: source.kind, sentAt: now.toISOString() },
      occurredAt: now,
    },
  ]);
  return ids[0] ?? "";
}
