import { interpret } from "@flick/server/follow-up-rules";
import { describe, expect, it } from "vitest";

/** Until when an instruction snoozes a card, read on `timeZone`'s clock ("Mon 09:00"), or null. */
const until = (said: string, now: Date, timeZone = "UTC") => {
  const intent = interpret(said, null, now, timeZone);
  if (intent.type !== "snooze") return null;
  return new Intl.DateTimeFormat("en-GB", {
    timeZone,
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(intent.until);
};

describe("a spoken snooze, on the speaker's clock", () => {
  // Wednesday 2 December 2026, 22:30 in Paris (21:30 UTC).
  const now = new Date("2026-12-02T21:30:00Z");
  const paris = "Europe/Paris";

  it("tomorrow, a part of a day, a weekday, next week, a time: 9:00 unless said otherwise", () => {
    expect(until("remind me tomorrow", now, paris)).toBe("Thu 09:00");
    expect(until("tomorrow afternoon please", now, paris)).toBe("Thu 14:00");
    expect(until("remind me on Monday", now, paris)).toBe("Mon 09:00");
    expect(until("snooze until friday evening", now, paris)).toBe("Fri 18:00");
    expect(until("next week", now, paris)).toBe("Mon 09:00");
    expect(until("remind me tomorrow at 10:30", now, paris)).toBe("Thu 10:30");
    // A time alone: today if it is still to come there, else tomorrow; 1 to 7 without am/pm is pm.
    expect(until("remind me at 3", now, paris)).toBe("Thu 15:00");
    expect(until("remind me at 11pm", now, paris)).toBe("Wed 23:00");
    expect(until("snooze till 9am", now, paris)).toBe("Thu 09:00");
    expect(until("snooze until 9 a.m.", now, paris)).toBe("Thu 09:00");
    // Hours from now are hours, whatever the clock.
    expect(interpret("remind me in 2 hours", null, now, paris)).toMatchObject({
      type: "snooze",
      until: new Date(now.getTime() + 2 * 3_600_000),
    });
  });

  it("the same words in Tokyo and in New York are different moments", () => {
    const tokyo = interpret("remind me tomorrow", null, now, "Asia/Tokyo");
    const york = interpret("remind me tomorrow", null, now, "America/New_York");
    // 06:30 Thursday in Tokyo: tomorrow is Friday there. 16:30 Wednesday in New York: Thursday.
    expect(tokyo).toMatchObject({ type: "snooze", until: new Date("2026-12-04T00:00:00Z") });
    expect(york).toMatchObject({ type: "snooze", until: new Date("2026-12-03T14:00:00Z") });
  });

  it("across a change of summer time, 9:00 is 9:00 on the clock", () => {
    // Saturday 28 March 2026 in Paris; clocks go forward on Sunday night.
    const spring = new Date("2026-03-28T10:00:00Z");
    expect(interpret("remind me on monday", null, spring, "Europe/Paris")).toMatchObject({
      until: new Date("2026-03-30T07:00:00Z"),
    });
  });

  it("a day or a time said without asking for a snooze is not one", () => {
    expect(interpret("it broke on Monday night, check the deploy", null, now, paris).type).toBe("cannot");
    expect(interpret("the job failed at 3", null, now, paris).type).toBe("cannot");
    expect(interpret("wait until the checks pass, then merge", null, now, paris).type).toBe("cannot");
    expect(until("wait until 3", now, paris)).toBe("Thu 15:00");
    // As before: "snooze" alone is four hours; "tomorrow" alone asks for one.
    expect(interpret("snooze", null, now, paris)).toMatchObject({
      until: new Date(now.getTime() + 4 * 3_600_000),
    });
    expect(until("tomorrow", now)).toBe("Thu 09:00");
  });
});
