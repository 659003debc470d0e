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

/** The headers Prometheus sends with a remote write request. */
export function remoteWriteHeaders(secret: string): Record<string, string> {
  return {
    authorization: `Bearer ${secret}`,
    "content-type": "application/x-protobuf",
    "content-encoding": "snappy",
    "x-prometheus-remote-write-version": "0.1.0",
  };
}
