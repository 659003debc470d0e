import {
  errorGroupFingerprint,
  normalizeMessage,
  parseCsv,
  parseEnvelope,
  parsePath,
  readText,
} from "@flick/server/ingest-lib";
import { describe, expect, it } from "vitest";

describe("JSONPath subset", () => {
  it("reads dotted, indexed and quoted paths", () => {
    const doc = { a: { b: [{ c: "deep" }] }, "odd key": { x: 3 } };
    expect(readText(doc, "$.a.b[0].c")).toBe("deep");
    expect(readText(doc, "a.b[0].c")).toBe("deep");
    expect(readText(doc, "$['odd key'].x")).toBe("3");
    expect(readText(doc, "$.a.missing.c")).toBeUndefined();
    expect(readText(doc, "$.a")).toBeUndefined();
  });
  it("explains a path it cannot read", () => {
    expect(() => parsePath("$.a[")).toThrow(/cannot read the path "\$\.a\[" at "\["/);
  });
});

describe("CSV", () => {
  it("handles quotes, doubled quotes, embedded newlines and CRLF", () => {
    const rows = parseCsv('id,text\r\n1,"He said ""hi""\nthen left"\r\n2,plain\r\n');
    expect(rows).toEqual([
      ["id", "text"],
      ["1", 'He said "hi"\nthen left'],
      ["2", "plain"],
    ]);
  });
  it("rejects an unterminated quote", () => {
    expect(() => parseCsv('a\n"oops')).toThrow(/never closed/);
  });
});

describe("Sentry envelopes", () => {
  it("splits items by length and by newline, keeping binary payloads intact", () => {
    const enc = new TextEncoder();
    const attachment = "line1\nline2";
    const body = enc.encode(
      `{"event_id":"abc"}\n{"type":"attachment","length":${attachment.length}}\n${attachment}\n{"type":"event"}\n{"message":"x"}\n`,
    );
    const { header, items } = parseEnvelope(body);
    expect(header).toEqual({ event_id: "abc" });
    expect(items.map((i) => i.header.type)).toEqual(["attachment", "event"]);
    expect(new TextDecoder().decode(items[0]?.payload)).toBe(attachment);
  });
  it("names a truncated item", () => {
    expect(() => parseEnvelope(new TextEncoder().encode('{}\n{"type":"event","length":99}\n{}'))).toThrow(
      /item 1 is shorter than its length 99/,
    );
  });
});

describe("error grouping", () => {
  const event = (
    type: string,
    frames: { filename: string; function: string; lineno: number; in_app?: boolean }[],
  ) => ({
    exception: { values: [{ type, value: "boom", stacktrace: { frames } }] },
  });

  it("ignores line numbers, absolute paths and bundle hashes", () => {
    const a = event("TypeError", [
      { filename: "/home/ci/build/app.1a2b3c4d.js", function: "pay", lineno: 10, in_app: true },
    ]);
    const b = event("TypeError", [
      { filename: "/srv/app.99ffee11.js", function: "pay", lineno: 99, in_app: true },
    ]);
    expect(errorGroupFingerprint(a)).toBe(errorGroupFingerprint(b));
  });
  it("separates different exception types and different in-app frames", () => {
    const base = errorGroupFingerprint(
      event("TypeError", [{ filename: "a.js", function: "f", lineno: 1, in_app: true }]),
    );
    expect(
      errorGroupFingerprint(
        event("RangeError", [{ filename: "a.js", function: "f", lineno: 1, in_app: true }]),
      ),
    ).not.toBe(base);
    expect(
      errorGroupFingerprint(
        event("TypeError", [{ filename: "a.js", function: "g", lineno: 1, in_app: true }]),
      ),
    ).not.toBe(base);
  });
  it("honours the SDK's own fingerprint", () => {
    expect(errorGroupFingerprint({ fingerprint: ["payments", "timeout"] })).toBe(
      errorGroupFingerprint({ fingerprint: ["payments", "timeout"], message: "other" }),
    );
  });
  it("normalizes volatile parts of messages", () => {
    expect(normalizeMessage("user 42 at 0xdeadbeef id 'abc' 550e8400-e29b-41d4-a716-446655440000")).toBe(
      "user <n> at <hex> id <str> <uuid>",
    );
  });
});
