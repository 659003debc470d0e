import { SnappyError, SnappyTooLarge, snappyUncompress } from "@flick/server/snappy";
import { describe, expect, it } from "vitest";
import { snappyCompress, writeRequest } from "../helpers/remote-write.ts";

const hex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("snappy (block format, as Prometheus remote write sends it)", () => {
  it("undoes what the reference compressor made: literals, near and far copies, overlapping runs", () => {
    // Made by python-snappy 0.5.3 (Debian's libsnappy) from the text below.
    const sentence = `${"Prometheus remote write sends samples; ".repeat(3)}checkout_success{zone="a"} 98.5 `;
    const compressed = hex(
      "d4049850726f6d6574686575732072656d6f74652077726974652073656e64732073616d706c65733b20fe27003627007c636865636b6f75745f737563636573737b7a6f6e653d2261227d2039382e3520fe6e00366e009a4e00fe9500fe9500fe9500fe9500fe95001995",
    );
    expect(text(snappyUncompress(compressed, 1 << 20))).toBe(sentence.repeat(4));
    // Forty a's: one literal, then a copy of the byte just written, over and over.
    expect(text(snappyUncompress(hex("2800619a0100"), 1 << 20))).toBe("a".repeat(40));
    // A copy with a four-byte offset (the reference compressor never makes one below 64 KB).
    expect(text(snappyUncompress(hex("080c616263640f04000000"), 100))).toBe("abcdabcd");
  });

  it("reads back the bench's own compressor (so its remote-write bodies are compressed as Prometheus's are)", () => {
    const body = writeRequest(
      Array.from({ length: 20 }, (_, k) => ({
        labels: { __name__: "http_requests_total", job: "shop", instance: `10.0.0.${k}:9100` },
        samples: [[1_764_300_000_000 + k * 15_000, 1000 + k] as [number, number]],
      })),
    );
    const compressed = snappyCompress(body);
    expect(compressed.length).toBeLessThan(body.length / 2);
    expect(snappyUncompress(compressed, 1 << 20)).toEqual(body);
    const random = Uint8Array.from({ length: 70_000 }, (_, k) => (k * 2654435761) >>> 24);
    expect(snappyUncompress(snappyCompress(random), 1 << 20)).toEqual(random);
  });

  it("refuses what is not snappy, naming why, and a stated length over the limit before reading on", () => {
    // A copy from before the start.
    expect(() => snappyUncompress(hex("0400610a0500"), 100)).toThrow(SnappyError);
    // A literal running past the input.
    expect(() => snappyUncompress(hex("0a2461"), 100)).toThrow(/literal runs past the input/);
    // Fewer bytes than stated.
    expect(() => snappyUncompress(hex("0a0061"), 100)).toThrow(/output is 1 bytes, 10 stated/);
    // 1 GB stated in five bytes: refused before anything is allocated.
    expect(() => snappyUncompress(hex("8080808004"), 1 << 20)).toThrow(SnappyTooLarge);
  });
});
