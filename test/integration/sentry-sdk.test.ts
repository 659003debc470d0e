import * as schema from "@flick/server/schema";
import * as Sentry from "@sentry/node";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/harness.ts";

/** The real @sentry/node SDK, pointed at Flick's DSN, delivers over real HTTP on loopback. */
describe("the real Sentry SDK", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp("pglite");
  });
  afterAll(async () => {
    await Sentry.close(2000);
    await t?.close();
  });

  it("sends an exception that becomes a sentry.error signal with its stack trace", async () => {
    const admin = await t.setupAdmin();
    const source = await t.createSource(admin, "sentry");
    const base = new URL(await t.listen());
    const dsn = new URL(source.sentryDsn ?? "");
    dsn.host = base.host;

    Sentry.init({
      dsn: dsn.toString(),
      defaultIntegrations: false,
      tracesSampleRate: 0,
      release: "shop@1.4.2",
    });
    function chargeCard() {
      throw new TypeError("card declined for order 1234");
    }
    let eventId = "";
    try {
      chargeCard();
    } catch (err) {
      eventId = Sentry.captureException(err);
    }
    expect(await Sentry.flush(5000)).toBe(true);

    const [signal] = await t.database.db
      .select()
      .from(schema.signals)
      .where(eq(schema.signals.sourceId, source.id));
    expect(signal?.kind).toBe("sentry.error");
    expect(signal?.externalId).toBe(eventId);
    expect(signal?.fingerprint).toMatch(/^sentry:ex:/);
    const payload = signal?.payload as {
      release?: string;
      exception?: { values?: { type?: string; stacktrace?: { frames?: { function?: string }[] } }[] };
    };
    expect(payload.release).toBe("shop@1.4.2");
    expect(payload.exception?.values?.[0]?.type).toBe("TypeError");
    expect(payload.exception?.values?.[0]?.stacktrace?.frames?.some((f) => f.function === "chargeCard")).toBe(
      true,
    );
    // Its card: the SDK was not told who the user is, so no user is known (not "0 users").
    await t.drain();
    const [card] = await t.database.db
      .select()
      .from(schema.cards)
      .where(eq(schema.cards.fingerprint, signal?.fingerprint ?? ""));
    expect(card?.title).toBe("New error: TypeError: card declined for order 1234");
    expect(card?.summary).toMatch(
      /^In `chargeCard \(.*sentry-sdk\.test\.ts:\d+\)`\. 1 event, no user identified, first seen /,
    );
  });
});
