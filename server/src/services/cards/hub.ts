import type { CardEvent } from "@flick/shared";
import type { DatabaseHandle } from "../../db/client.ts";
import type { Logger } from "../../lib/logger.ts";
import { CARDS_CHANNEL } from "./events.ts";
import { cardEventsAfter, latestCardEventId } from "./read.ts";

type Subscriber = (event: CardEvent) => void;

/**
 * Fans card events out to this process's live streams. One LISTEN per process (started with the
 * first subscriber): a NOTIFY from any process makes the hub read the new card_event rows once and
 * hand them to every subscriber. A slow poll covers a dropped connection's missed notifications.
 */
export class CardEventHub {
  private subscribers = new Set<Subscriber>();
  private cursor = -1;
  private unlisten: (() => Promise<void>) | null = null;
  private starting: Promise<void> | null = null;
  private pumping: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly database: DatabaseHandle,
    private readonly logger: Logger,
    private readonly pollMs = 2000,
  ) {}

  /** Subscribes; resolves with the id of the newest event already dispatched (the live edge). */
  async subscribe(fn: Subscriber): Promise<{ edge: number; unsubscribe: () => void }> {
    await this.ensureStarted();
    this.subscribers.add(fn);
    return { edge: this.cursor, unsubscribe: () => this.subscribers.delete(fn) };
  }

  get size(): number {
    return this.subscribers.size;
  }

  private ensureStarted(): Promise<void> {
    this.starting ??= (async () => {
      this.cursor = (await latestCardEventId(this.database.db)).latest;
      this.unlisten = await this.database.listen(CARDS_CHANNEL, () => void this.pump());
      this.timer = setInterval(() => void this.pump(), this.pollMs);
      this.timer.unref();
    })();
    return this.starting;
  }

  /** Reads events past the cursor and dispatches them; concurrent calls coalesce into one more pass. */
  pump(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return this.pumping;
    }
    this.pumping = (async () => {
      try {
        do {
          this.again = false;
          for (;;) {
            const events = await cardEventsAfter(this.database.db, this.cursor);
            if (events.length === 0) break;
            for (const event of events) {
              this.cursor = event.id;
              for (const fn of this.subscribers) fn(event);
            }
          }
        } while (this.again);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, "reading card events failed; will retry");
      } finally {
        this.pumping = null;
      }
    })();
    return this.pumping;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.unlisten?.().catch(() => {});
    this.subscribers.clear();
  }
}
