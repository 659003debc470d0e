import { describe, expect, it } from "vitest";
import { readTail } from "../../server/src/lib/read-body.ts";

/** A body arriving in chunks of `size` bytes, as a fetched log does. */
function streamOf(text: string, size: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(at, at + size));
      at += size;
    },
  });
}

describe("the tail of a long log", () => {
  it("is its last lines, whole, however the bytes arrived, multi-byte characters intact", async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `2026-11-29T10:00:00Z step ${i} — ok ✓`);
    lines.push("Error: expected 3 to be 4", "Process completed with exit code 1.");
    const log = lines.join("\n");
    for (const size of [1, 7, 4096, 1 << 20]) {
      const tail = await readTail(streamOf(log, size), 1000);
      expect(new TextEncoder().encode(tail).length).toBeLessThanOrEqual(1000);
      expect(tail.endsWith("Error: expected 3 to be 4\nProcess completed with exit code 1.")).toBe(true);
      // It starts at a line of the log, not within one (or within a character).
      const first = tail.split("\n")[0] ?? "";
      expect(lines).toContain(first);
      expect(log.endsWith(tail)).toBe(true);
    }
  });

  it("is the whole body when it is short, and nothing when there is none", async () => {
    expect(await readTail(streamOf("one\ntwo", 3), 1000)).toBe("one\ntwo");
    expect(await readTail(null, 1000)).toBe("");
  });
});
