/**
 * Snappy's block format (the one Prometheus remote write sends as `Content-Encoding: snappy`):
 * the uncompressed length as a varint, then literals and back-references. Decoding only, with the
 * same limit on the output as on any other body, checked before anything is allocated.
 */
export class SnappyError extends Error {}

export class SnappyTooLarge extends Error {}

export function snappyUncompress(input: Uint8Array, limit: number): Uint8Array {
  let pos = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= input.length || shift > 28) throw new SnappyError("bad length preamble");
    const b = input[pos++] as number;
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  if (length > limit) throw new SnappyTooLarge(`uncompressed length ${length} is over ${limit}`);
  const out = new Uint8Array(length);
  let o = 0;
  /** `n` little-endian bytes at the read position. */
  const take = (n: number): number => {
    if (pos + n > input.length) throw new SnappyError("input ends inside an element");
    let v = 0;
    for (let k = 0; k < n; k++) v += (input[pos + k] as number) * 2 ** (8 * k);
    pos += n;
    return v;
  };
  while (pos < input.length) {
    const tag = input[pos++] as number;
    const type = tag & 3;
    if (type === 0) {
      let n = tag >> 2;
      if (n >= 60) n = take(n - 59);
      n += 1;
      if (pos + n > input.length) throw new SnappyError("literal runs past the input");
      if (o + n > length) throw new SnappyError("output longer than its stated length");
      out.set(input.subarray(pos, pos + n), o);
      pos += n;
      o += n;
      continue;
    }
    let n: number;
    let offset: number;
    if (type === 1) {
      n = 4 + ((tag >> 2) & 7);
      offset = ((tag >> 5) << 8) | take(1);
    } else {
      n = 1 + (tag >> 2);
      offset = take(type === 2 ? 2 : 4);
    }
    if (offset === 0 || offset > o) throw new SnappyError(`copy from ${offset} bytes back at byte ${o}`);
    if (o + n > length) throw new SnappyError("output longer than its stated length");
    // Byte by byte: a copy may overlap what it writes (a run of one repeated byte).
    for (let k = 0; k < n; k++, o++) out[o] = out[o - offset] as number;
  }
  if (o !== length) throw new SnappyError(`output is ${o} bytes, ${length} stated`);
  return out;
}
