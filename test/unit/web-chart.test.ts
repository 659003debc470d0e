import { describe, expect, it } from "vitest";
import {
  lastValueWord,
  momentLabel,
  nearestIndex,
  pointLabel,
  scaleLabel,
  timeRange,
} from "../../web/src/lib/chart-axis.ts";

const at = (iso: string) => Date.parse(iso);

describe("a chart's axis labels", () => {
  it("says the times of a chart's ends in UTC, as card titles do, the date only over a long span", () => {
    const now = at("2026-11-27T03:10:00Z");
    expect(timeRange(at("2026-11-27T00:10:00Z"), at("2026-11-27T02:44:30Z"), now)).toEqual([
      "00:10",
      "02:44 UTC",
    ]);
    // Across midnight within hours: still times only (the chart's shape tells the order).
    expect(timeRange(at("2026-11-26T21:00:00Z"), at("2026-11-27T03:00:00Z"), now)).toEqual([
      "21:00",
      "03:00 UTC",
    ]);
    expect(timeRange(at("2026-11-24T07:01:00Z"), at("2026-11-26T18:31:00Z"), now)).toEqual([
      "Nov 24, 07:01",
      "Nov 26, 18:31 UTC",
    ]);
  });

  it("says the day a short chart ended when it is not today, the year when not this one", () => {
    const now = at("2026-11-27T03:10:00Z");
    // Yesterday's hours: "21:00 UTC" alone would read as tonight's.
    expect(timeRange(at("2026-11-26T15:10:00Z"), at("2026-11-26T21:00:00Z"), now)).toEqual([
      "15:10",
      "Nov 26, 21:00 UTC",
    ]);
    // An error from 2019, as agents write another year's moments.
    expect(timeRange(at("2019-08-19T15:10:00Z"), at("2019-08-19T21:00:00Z"), now)).toEqual([
      "15:10",
      "2019-08-19 21:00 UTC",
    ]);
    expect(timeRange(at("2014-02-14T07:00:00Z"), at("2014-02-19T03:35:00Z"), now)).toEqual([
      "2014-02-14 07:00",
      "2014-02-19 03:35 UTC",
    ]);
    // A reading off such a chart carries the day too.
    const yesterday: [number, number] = [at("2026-11-26T15:10:00Z"), at("2026-11-26T21:00:00Z")];
    expect(pointLabel([at("2026-11-26T20:50:00Z"), 4], yesterday, "en-US", now)).toBe("Nov 26, 20:50 UTC: 4");
  });

  it("calls the last value 'now' while it is recent, 'latest' once the chart ended a while ago", () => {
    const now = at("2026-11-27T03:10:00Z");
    expect(lastValueWord(at("2026-11-27T03:05:00Z"), now)).toBe("now");
    expect(lastValueWord(at("2026-11-27T02:20:00Z"), now)).toBe("now");
    expect(lastValueWord(at("2026-11-26T21:00:00Z"), now)).toBe("latest");
    // Not a time (an index): nothing to compare, as it was.
    expect(lastValueWord(35, now)).toBe("now");
  });

  it("says nothing of times when the chart's x values are not times", () => {
    expect(timeRange(0, 35)).toBeNull();
    expect(timeRange(at("2026-11-26T22:00:00Z"), at("2026-11-26T21:00:00Z"))).toBeNull();
    expect(timeRange(Number.NaN, Number.NaN)).toBeNull();
  });

  it("writes the scale's ends short: three significant digits, large values compact", () => {
    expect(scaleLabel(97.8123, "en-US")).toBe("97.8");
    expect(scaleLabel(61, "en-US")).toBe("61");
    expect(scaleLabel(1910, "en-US")).toBe("1,910");
    expect(scaleLabel(26_213, "en-US")).toBe("26.2K");
    expect(scaleLabel(61_519_397, "en-US")).toBe("61.5M");
    expect(scaleLabel(0.025123, "en-US")).toBe("0.0251");
    expect(scaleLabel(-3.14321, "en-US")).toBe("-3.14");
  });

  it("reads the point nearest the pointer, with its time as the chart's ends say it", () => {
    const xs = [4, 10, 30, 31, 316];
    expect(nearestIndex(xs, 0)).toBe(0);
    expect(nearestIndex(xs, 6.9)).toBe(0);
    expect(nearestIndex(xs, 7.1)).toBe(1);
    expect(nearestIndex(xs, 30.6)).toBe(3);
    expect(nearestIndex(xs, 400)).toBe(4);
    expect(nearestIndex([], 3)).toBe(-1);
    const now = at("2026-11-26T22:05:00Z");
    const hours: [number, number] = [at("2026-11-26T16:00:00Z"), at("2026-11-26T22:00:00Z")];
    expect(pointLabel([at("2026-11-26T21:50:00Z"), 4.123456], hours, "en-US", now)).toBe("21:50 UTC: 4.123");
    const days: [number, number] = [at("2026-11-19T07:00:00Z"), at("2026-11-21T18:31:00Z")];
    expect(pointLabel([at("2026-11-21T17:31:00Z"), 4729], days, "en-US", now)).toBe(
      "Nov 21, 17:31 UTC: 4,729",
    );
    // Not times: the value alone.
    expect(pointLabel([3, 61], [0, 35], "en-US", now)).toBe("61");
  });

  it("says a card's moments in UTC, the year only when it is not this one", () => {
    const now = at("2026-11-27T00:10:00Z");
    expect(momentLabel("2026-11-26T21:51:09.123Z", now)).toBe("Nov 26, 21:51 UTC");
    // Another year's as agents write it in titles (no commas: titles join metrics with ", and").
    expect(momentLabel("2014-02-19T03:35:00Z", now)).toBe("2014-02-19 03:35 UTC");
    expect(momentLabel("not a time", now)).toBe("not a time");
  });
});
