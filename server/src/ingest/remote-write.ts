/**
 * Prometheus remote write 1.0: a `prometheus.WriteRequest` protobuf (snappy-compressed on the wire;
 * body.ts undoes that). Only what Flick keeps is read — each series' labels and float samples;
 * exemplars, native histograms and metadata are skipped by their wire type.
 */
export class RemoteWriteError extends Error {}

export interface RemoteWritePoint {
  name: string;
  labels: Record<string, string>;
  /** Milliseconds since the epoch, as Prometheus sends them. */
  ts: number;
  value: number;
}

export interface RemoteWriteBatch {
  points: RemoteWritePoint[];
  /** Samples not kept: staleness markers and other NaNs, native histograms. */
  ignored: number;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A protobuf reader over one message's bytes. */
class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** An unsigned varint up to 2^53 (timestamps in ms fit; a negative int64 does not). */
  varint(): number {
    let v = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (this.pos >= this.end) throw new RemoteWriteError("message ends inside a number");
      const b = this.buf[this.pos++] as number;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) {
        if (v > Number.MAX_SAFE_INTEGER) throw new RemoteWriteError("a number is out of range");
        return v;
      }
    }
    throw new RemoteWriteError("a number is longer than 10 bytes");
  }

  /** A field's tag: its number and wire type. */
  tag(): { field: number; wire: number } {
    const t = this.varint();
    return { field: Math.floor(t / 8), wire: t % 8 };
  }

  /** The bytes of a length-delimited field, as a reader of its own. */
  sub(): Reader {
    const n = this.varint();
    if (this.pos + n > this.end) throw new RemoteWriteError("a field runs past the end of its message");
    const r = new Reader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new RemoteWriteError("message ends inside a number");
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  string(): string {
    const r = this.sub();
    try {
      return utf8.decode(r.buf.subarray(r.pos, r.end));
    } catch {
      throw new RemoteWriteError("a label is not valid UTF-8");
    }
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.advance(8);
    else if (wire === 2) this.sub();
    else if (wire === 5) this.advance(4);
    else throw new RemoteWriteError(`unknown wire type ${wire}`);
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new RemoteWriteError("message ends inside a field");
    this.pos += n;
  }
}

/** Decodes a WriteRequest; throws RemoteWriteError naming what is wrong with it. */
export function decodeWriteRequest(bytes: Uint8Array): RemoteWriteBatch {
  const points: RemoteWritePoint[] = [];
  let ignored = 0;
  const request = new Reader(bytes);
  while (!request.done) {
    const { field, wire } = request.tag();
    // 1: repeated TimeSeries; 3: metadata (not kept).
    if (field !== 1 || wire !== 2) {
      request.skip(wire);
      continue;
    }
    const series = request.sub();
    const labels: Record<string, string> = {};
    const samples: [number, number][] = [];
    while (!series.done) {
      const t = series.tag();
      if (t.field === 1 && t.wire === 2) {
        const label = series.sub();
        let name = "";
        let value = "";
        while (!label.done) {
          const l = label.tag();
          if (l.field === 1 && l.wire === 2) name = label.string();
          else if (l.field === 2 && l.wire === 2) value = label.string();
          else label.skip(l.wire);
        }
        labels[name] = value;
      } else if (t.field === 2 && t.wire === 2) {
        const sample = series.sub();
        let value = 0;
        let ts = 0;
        while (!sample.done) {
          const s = sample.tag();
          if (s.field === 1 && s.wire === 1) value = sample.double();
          else if (s.field === 2 && s.wire === 0) ts = sample.varint();
          else sample.skip(s.wire);
        }
        // A JavaScript date reaches 8.64e15 ms (year 275760); a negative int64 reads as far more.
        if (ts > 8.64e15) throw new RemoteWriteError(`a sample's time (${ts} ms) is out of range`);
        samples.push([ts, value]);
      } else {
        // 4: native histograms, which have no single value to watch.
        if (t.field === 4) ignored++;
        series.skip(t.wire);
      }
    }
    const { __name__: name, ...rest } = labels;
    if (!name)
      throw new RemoteWriteError(`a series has no __name__ label (labels: ${JSON.stringify(labels)})`);
    for (const [ts, value] of samples) {
      // Prometheus marks a series gone stale with a NaN; it is not a value.
      if (!Number.isFinite(value)) ignored++;
      else points.push({ name, labels: rest, ts, value });
    }
  }
  return { points, ignored };
}
