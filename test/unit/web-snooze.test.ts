import { describe, expect, it } from "vitest";
import { snoozeChoices } from "../../web/src/lib/snooze.ts";

/** A local time (the browser's own zone, as the menu uses). */
const local = (y: number, m: number, d: number, h: number, min = 0) => new Date(y, m - 1, d, h, min);

describe("when Later offers to snooze a card until", () => {
  it("on a Wednesday morning: an hour, four hours, this evening, tomorrow morning, Monday morning", () => {
    const now = local(2026, 12, 2, 10, 20);
    const choices = snoozeChoices(now);
    expect(choices.map((c) => c.label.split(",")[0])).toEqual([
      "In 1 hour",
      "In 4 hours",
      "This evening",
      "Tomorrow",
      "Monday",
    ]);
    expect(choices.map((c) => c.until.getTime())).toEqual([
      now.getTime() + 3_600_000,
      now.getTime() + 4 * 3_600_000,
      local(2026, 12, 2, 18).getTime(),
      local(2026, 12, 3, 9).getTime(),
      local(2026, 12, 7, 9).getTime(),
    ]);
    expect(choices[0]?.phrase).toBe("for 1 hour");
    expect(choices[3]?.phrase).toMatch(/^until tomorrow, /);
    expect(choices[4]?.phrase).toMatch(/^until Monday, /);
  });

  it("in the afternoon: four hours on is the evening; after midnight, this morning", () => {
    expect(snoozeChoices(local(2026, 12, 2, 14, 20)).map((c) => c.label.split(",")[0])).toEqual([
      "In 1 hour",
      "In 4 hours",
      "Tomorrow",
      "Monday",
    ]);
    const night = snoozeChoices(local(2026, 12, 3, 1, 30));
    expect(night.map((c) => c.label.split(",")[0])).toEqual([
      "In 1 hour",
      "In 4 hours",
      "This morning",
      "This evening",
      "Monday",
    ]);
    expect(night[2]?.until.getTime()).toBe(local(2026, 12, 3, 9).getTime());
  });

  it("on a Sunday, tomorrow is Monday: offered once; on a Monday, Monday is next week's", () => {
    const sunday = snoozeChoices(local(2026, 12, 6, 11));
    expect(sunday.map((c) => c.label.split(",")[0])).toEqual([
      "In 1 hour",
      "In 4 hours",
      "This evening",
      "Tomorrow",
    ]);
    const monday = snoozeChoices(local(2026, 12, 7, 11));
    expect(monday.at(-1)?.until.getTime()).toBe(local(2026, 12, 14, 9).getTime());
  });
});
