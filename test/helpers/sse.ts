export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/** Reads Server-Sent Events from a fetch Response, one parsed event at a time. */
export class SseReader {
  private buffer = "";
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  readonly events: SseEvent[] = [];

  constructor(res: Response) {
    if (!res.body) throw new Error("response has no body");
    this.reader = res.body.getReader();
  }

  /** Waits for the next event matching `predicate` (skipping others), up to `timeoutMs`. */
  async next(predicate: (e: SseEvent) => boolean = () => true, timeoutMs = 10_000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = this.take();
      if (parsed) {
        this.events.push(parsed);
        if (predicate(parsed)) return parsed;
        continue;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0)
        throw new Error(`no matching SSE event within ${timeoutMs} ms; saw ${JSON.stringify(this.events)}`);
      const chunk = await Promise.race([
        this.reader.read(),
        new Promise<null>((resolve) => setTimeout(() => resolve(null), remaining)),
      ]);
      if (chunk === null) continue;
      if (chunk.done) throw new Error(`stream ended; saw ${JSON.stringify(this.events)}`);
      this.buffer += this.decoder.decode(chunk.value, { stream: true });
    }
  }

  private take(): SseEvent | null {
    for (;;) {
      const end = this.buffer.indexOf("\n\n");
      if (end === -1) return null;
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const event: SseEvent = { event: "message", data: "" };
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const i = line.indexOf(":");
        const field = i === -1 ? line : line.slice(0, i);
        const value = i === -1 ? "" : line.slice(i + 1).replace(/^ /, "");
        if (field === "event") event.event = value;
        else if (field === "data") data.push(value);
        else if (field === "id") event.id = value;
      }
      if (data.length === 0 && event.id === undefined && event.event === "message") continue;
      event.data = data.join("\n");
      return event;
    }
  }

  async close(): Promise<void> {
    await this.reader.cancel().catch(() => {});
  }
}
