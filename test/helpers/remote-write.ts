// A Prometheus remote write body made by the tests themselves (protobuf WriteRequest, snappy
// framing with literals only), for the cases a real Prometheus will not send on demand: thousands
// of points with chosen times, a staleness marker, a broken body. The real Prometheus server is
// exercised in integration/prometheus.test.ts.

export interface Series {
  labels: Record<string, string>;
  samples: [timestampMs: number, value: number][];
}

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

function field(no: number, bytes: number[]): number[] {
  return [...varint(no * 8 + 2), ...varint(bytes.length), ...bytes];
}

function text(s: string): number[] {
  return [...new TextEncoder().encode(s)];
}

/** A WriteRequest protobuf: `[{labels: {__name__, …}, samples: [[ms, value]]}]`. */
export function writeRequest(series: Series[]): Uint8Array<ArrayBuffer> {
  const out: number[] = [];
  for (const s of series) {
    const ts: number[] = [];
    for (const [name, value] of Object.entries(s.labels))
      ts.push(...field(1, [...field(1, text(name)), ...field(2, text(value))]));
    for (const [at, value] of s.samples) {
      const double = new Uint8Array(8);
      new DataView(double.buffer).setFloat64(0, value, true);
      ts.push(...field(2, [0x09, ...double, 0x10, ...varint(at)]));
    }
    out.push(...field(1, ts));
  }
  return new Uint8Array(out);
}

/** Valid snappy (block format) holding `data` as literals: nothing is compressed, all is legal. */
export function snappyLiterals(data: Uint8Array): Uint8Array<ArrayBuffer> {
  const out: number[] = [...varint(data.length)];
  for (let i = 0; i < data.length; i += 65536) {
    const chunk = data.subarray(i, i + 65536);
    const n = chunk.length - 1;
    if (n < 60) out.push(n << 2);
    else if (n < 256) out.push(60 << 2, n);
    else out.push(61 << 2, n & 0xff, n >> 8);
    out.push(...chunk);
  }
  return new Uint8Array(out);
}

/**
 * Snappy (block format) that compresses, as Prometheus's does: a greedy match of 4-byte runs up to
 * 64 KB back, copies of up to 64 bytes (2-byte offsets), literals between. Simpler than the Go
 * encoder (no 4-byte offsets, no skipping heuristics), but its copies — near and overlapping —
 * are what a decoder meets in a real body.
 */
export function snappyCompress(data: Uint8Array): Uint8Array<ArrayBuffer> {
  const out: number[] = [...varint(data.length)];
  const literal = (from: number, to: number) => {
    for (let i = from; i < to; i += 65536) {
      const end = Math.min(to, i + 65536);
      const n = end - i - 1;
      if (n < 60) out.push(n << 2);
      else if (n < 256) out.push(60 << 2, n);
      else out.push(61 << 2, n & 0xff, n >> 8);
      for (let k = i; k < end; k++) out.push(data[k] as number);
    }
  };
  const table = new Map<number, number>();
  const at4 = (i: number) =>
    (data[i] as number) |
    ((data[i + 1] as number) << 8) |
    ((data[i + 2] as number) << 16) |
    ((data[i + 3] as number) << 24);
  let pending = 0;
  let i = 0;
  while (i + 4 <= data.length) {
    const key = at4(i);
    const candidate = table.get(key);
    table.set(key, i);
    if (candidate === undefined || i - candidate > 65535 || at4(candidate) !== key) {
      i++;
      continue;
    }
    let length = 4;
    while (length < 64 && i + length < data.length && data[candidate + length] === data[i + length]) length++;
    literal(pending, i);
    const offset = i - candidate;
    out.push(((length - 1) << 2) | 2, offset & 0xff, offset >> 8);
    i += length;
    pending = i;
  }
  literal(pending, data.length);
  return new Uint8Array(out);
}

/** The headers Prometheus sends with a remote write request. */
export function remoteWriteHeaders(secret: string): Record<string, string> {
  return {
    authorization: `Bearer ${secret}`,
    "content-type": "application/x-protobuf",
    "content-encoding": "snappy",
    "x-prometheus-remote-write-version": "0.1.0",
  };
}
