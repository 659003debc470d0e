import { day, hhmm, moment } from "@flick/server/card-words";
import { describe, expect, it } from "vitest";

describe("how cards say when something happened", () => {
  const now = new Date("2026-11-26T23:10:00Z");

  it("says the time of day alone for today, the date too for another day, the year for another year", () => {
    expect(hhmm(new Date("2026-11-26T17:31:40Z"), now)).toBe("17:31 UTC");
    // Minutes ago but before midnight (UTC): yesterday's date, not a time that reads as today's.
    expect(hhmm(new Date("2026-11-25T23:58:00Z"), new Date("2026-11-26T00:10:00Z"))).toBe(
      "Nov 25, 23:58 UTC",
    );
    expect(hhmm(new Date("2026-02-01T09:05:00Z"), now)).toBe("Feb 1, 09:05 UTC");
    expect(hhmm(new Date("2014-02-19T03:35:00Z"), now)).toBe("2014-02-19 03:35 UTC");
  });

  it("says the time of day alone when the card has no moment to compare with", () => {
    expect(hhmm(new Date("2014-02-19T03:35:00Z"))).toBe("03:35 UTC");
  });

  it("says the date whatever the day where the words are read long after (first seen, snoozed until)", () => {
    expect(moment(new Date("2026-11-26T17:31:40Z"), now)).toBe("Nov 26, 17:31 UTC");
    expect(moment(new Date("2026-12-31T23:59:00Z"), now)).toBe("Dec 31, 23:59 UTC");
    expect(moment(new Date("2027-01-02T00:05:00Z"), now)).toBe("2027-01-02 00:05 UTC");
    expect(day(new Date("2026-11-20T23:59:00Z"), now)).toBe("Nov 20");
    expect(day(new Date("2019-08-19T20:58:37Z"), now)).toBe("2019-08-19");
  });
});

describe("one way of writing a moment, on the server and in the web app", () => {
  it("gives a card's words and the web's date facts and chart ends the same text", async () => {
    const { momentLabel, timeRange } = await import("../../web/src/lib/chart-axis.ts");
    const now = new Date("2026-11-27T06:00:00Z");
    for (const iso of [
      "2026-11-27T05:18:36Z",
      "2026-11-21T17:31:00Z",
      "2026-01-02T03:04:00Z",
      "2014-02-19T03:35:00Z",
    ]) {
      const d = new Date(iso);
      expect(momentLabel(iso, now.getTime())).toBe(moment(d, now));
      // A chart ending then says its end as a title says the moment ("at Nov 21, 17:31 UTC").
      expect(timeRange(d.getTime() - 3_600_000, d.getTime(), now.getTime())?.[1]).toBe(hhmm(d, now));
    }
  });
});
