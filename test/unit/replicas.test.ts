import {
  latestSibling,
  type Members,
  replicaGroupOf,
  replicasAt,
  replicasChanged,
  settledBreak,
  withMembers,
} from "@flick/server/replicas";
import { describe, expect, it } from "vitest";

const minute = 60_000;

describe("a metric's replicas", () => {
  it("groups a series by its labels other than the replica ones; one without any is its own", () => {
    expect(
      replicaGroupOf("req_rate", { pod: "shop-7d9f-a", job: "shop", instance: "10.0.0.7:9090" }),
    ).toEqual({
      key: 'metric:req_rate{job="shop"}',
      labels: { job: "shop" },
      replicas: ["pod", "instance"],
    });
    expect(replicaGroupOf("req_rate", { job: "shop" })).toBeNull();
  });

  it("remembers each replica's first and latest point; one gone a day before the latest is forgotten", () => {
    let m: Members = withMembers({}, new Map([["a", [0, 10 * minute]]]));
    m = withMembers(
      m,
      new Map([
        ["a", [11 * minute, 12 * minute]],
        ["b", [11 * minute, 12 * minute]],
      ]),
    );
    expect(m).toEqual({ a: [0, 12 * minute], b: [11 * minute, 12 * minute] });
    m = withMembers(m, new Map([["c", [25 * 60 * minute, 25 * 60 * minute]]]));
    expect(Object.keys(m)).toEqual(["c"]);
    expect(latestSibling({ a: [0, 5], b: [0, 9], c: [0, 7] }, "b")).toBe("c");
    expect(latestSibling({ b: [0, 9] }, "b")).toBeUndefined();
  });

  it("says the replicas changed when one began, or one that sent stopped, in the window", () => {
    const m: Members = { a: [0, 60 * minute], b: [0, 60 * minute] };
    expect(replicasChanged(m, 45 * minute, 60 * minute, minute)).toBe(false);
    // A new pod a minute ago.
    expect(replicasChanged({ ...m, c: [59 * minute, 60 * minute] }, 45 * minute, 60 * minute, minute)).toBe(
      true,
    );
    // b sent nothing for two steps.
    expect(replicasChanged({ ...m, b: [0, 58 * minute] }, 45 * minute, 60 * minute, minute)).toBe(true);
    // Its point for this minute may not have come yet: one step late is not gone.
    expect(replicasChanged({ ...m, b: [0, 59 * minute] }, 45 * minute, 60 * minute, minute)).toBe(false);
    // Gone before the window: no change in it.
    expect(replicasChanged({ ...m, z: [0, 30 * minute] }, 45 * minute, 60 * minute, minute)).toBe(false);
    expect(replicasAt({ ...m, z: [0, 30 * minute] }, 20 * minute, minute)).toBe(3);
    expect(replicasAt({ ...m, z: [0, 30 * minute] }, 60 * minute, minute)).toBe(2);
  });

  it("judges where a replica settled: a break, unless its share of the pods explains it", () => {
    const tail = (v: number): [number, number][] =>
      Array.from({ length: 5 }, (_, i) => [i * minute, v + (i % 2)]);
    // Two pods sent 50 each, it surprised at 33 while a third came; three now.
    const u = { at: 0, normal: 50, value: 33, replicas: 2 };
    expect(settledBreak(u, tail(33), 3)?.news).toBe(false);
    expect(settledBreak(u, tail(50), 3)?.news).toBe(false);
    expect(settledBreak(u, tail(20), 3)).toMatchObject({ news: true, level: 20 });
    // A ratio: same pods before and after, it stayed down.
    expect(settledBreak({ at: 0, normal: 98, value: 70, replicas: 2 }, tail(80), 2)).toMatchObject({
      news: true,
    });
    // Too few points to say.
    expect(settledBreak(u, tail(20).slice(0, 3), 3)).toBeNull();
  });
});
