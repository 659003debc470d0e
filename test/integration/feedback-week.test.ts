import * as schema from "@flick/server/schema";
import type { Source } from "@flick/shared";
import { like } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CSV_EXPORT_ASKS } from "../helpers/fixtures.ts";
import { drivers, ingestInto, startTestApp, type TestApp } from "../helpers/harness.ts";

const DAY = 86_400_000;

/**
 * A feedback card says how many customers asked "this week". The week passes while the card waits
 * for a decision: the card must not go on saying "this week" of customers who wrote weeks ago.
 */
describe.each(drivers)("a feedback card's week on %s", (driver) => {
  let t: TestApp;
  let admin: string;
  let feedback: Source;

  beforeEach(async () => {
    t = await startTestApp(driver, { SESSION_TTL_HOURS: "9000" });
    admin = await t.setupAdmin();
    feedback = await t.createSource(admin, "feedback", { clusterThreshold: 4, repository: "acme/app" });
  });
  afterEach(async () => t?.close());

  const send = async (who: string[]) => {
    await ingestInto(
      t,
      feedback,
      who.map((author, i) => ({
        id: `${author}-${t.clock.now().getTime()}`,
        text: CSV_EXPORT_ASKS[i % CSV_EXPORT_ASKS.length],
        author,
      })),
    );
    await t.drain();
  };
  const card = async () => {
    const found = await t.database.db
      .select()
      .from(schema.cards)
      .where(like(schema.cards.fingerprint, "feedback:cluster:%"));
    expect(found).toHaveLength(1);
    return found[0] as typeof schema.cards.$inferSelect;
  };

  it("names the week it counted once that week is over, and says 'this week' again when customers ask again", async () => {
    // The test clock starts on Nov 24, 12:00 UTC.
    await send(["ann", "bob", "cy", "dee", "eve"]);
    t.clock.advance(3 * DAY);
    await send(["fay", "gus", "ann"]);
    const fresh = await card();
    expect(fresh.title).toMatch(/^7 customers asked for ".+" this week$/);

    // Six days after the first asks, all seven still wrote in the last seven days.
    t.clock.advance(3 * DAY);
    await t.tick();
    expect((await card()).version).toBe(fresh.version);

    // A week and a minute after: five of them wrote before the last seven days.
    t.clock.advance(DAY + 60_000);
    await t.tick();
    const aged = await card();
    expect(aged.title).toMatch(/^7 customers asked for ".+" in the week to Nov 27$/);
    expect(aged.summary).toMatch(
      /^7 customers in the week to Nov 27 in 8 messages \(one who wrote again counts once\), 8 messages in all since Nov 24\. Accept opens an issue/,
    );
    expect((aged.change as { params: { body: string } }).params.body).toMatch(
      /^7 customers in the week to Nov 27, in 8 messages \(8 in all\)\./,
    );
    const facts = (aged.evidence as { facts: Record<string, unknown> }).facts;
    expect(facts).toMatchObject({ customers: 7, "in the week to": "Nov 27" });
    expect(facts).not.toHaveProperty("thisWeek");
    expect(aged.status).toBe("pending");
    expect(aged.version).toBe(fresh.version + 1);

    // Told once: the clock has nothing more to say of that week.
    t.clock.advance(DAY);
    await t.tick();
    expect((await card()).version).toBe(aged.version);

    // Four more ask on Dec 3: with the three of Nov 27, seven this week again.
    t.clock.advance(DAY);
    await send(["hal", "ivy", "jo", "kim"]);
    const again = await card();
    expect(again.title).toMatch(/^7 customers asked for ".+" this week$/);
    expect((again.evidence as { facts: Record<string, unknown> }).facts).toMatchObject({ thisWeek: 7 });
  });

  it("tells a card that named its week of the customers who asked since, fewer than make a week's card", async () => {
    await send(["ann", "bob", "cy", "dee", "eve"]);
    t.clock.advance(7 * DAY + 60_000);
    await t.tick();
    const aged = await card();
    expect(aged.title).toMatch(/^5 customers asked for ".+" in the week to Nov 24$/);

    // Dec 2: one who asked in that week writes again — no one new.
    t.clock.advance(DAY);
    await send(["ann"]);
    const again = await card();
    expect(again.title).toBe(aged.title);
    expect(again.summary).not.toContain("since then");

    // …and one new customer asks: too few for a week's card of their own, but the card waiting for
    // a decision says so, leads with their words, and counts them in the issue it proposes.
    t.clock.advance(60_000);
    await ingestInto(t, feedback, [{ id: "lee-1", text: "CSV export of workouts please!", author: "lee" }]);
    await t.drain();
    const told = await card();
    expect(told.title).toBe(aged.title);
    expect(told.version).toBeGreaterThan(again.version);
    expect(told.summary).toMatch(
      /^5 in the week to Nov 24, 7 in all since Nov 24; 1 more customer since then, on Dec 2\. Accept opens/,
    );
    expect((told.change as { params: { body: string } }).params.body).toMatch(
      /^5 customers in the week to Nov 24 \(7 in all\); 1 more customer since then, on Dec 2\.\n\n> CSV export of workouts please!/,
    );
    expect((told.preview as { text: string }).text).toMatch(/^“CSV export of workouts please!”/);
    expect((told.evidence as { facts: Record<string, unknown> }).facts).toMatchObject({
      customers: 5,
      "in the week to": "Nov 24",
      "more since": 1,
    });
    expect(told.status).toBe("pending");
    // Lee again is no one more.
    await ingestInto(t, feedback, [
      { id: "lee-2", text: "Still waiting for CSV export of workouts", author: "lee" },
    ]);
    await t.drain();
    expect((await card()).version).toBe(told.version);

    // The clock has nothing to add; three more new customers make it this week's card again (ann
    // wrote this week too).
    t.clock.advance(DAY);
    await t.tick();
    expect((await card()).version).toBe(told.version);
    await send(["mo", "ned", "ola"]);
    const week = await card();
    expect(week.title).toMatch(/^5 customers asked for ".+" this week$/);
    expect(week.summary).not.toContain("since then");
  });
});
