import { hostname } from "node:os";
import { type Card, isDemoCard, type PushPreferences } from "@flick/shared";
import { and, count, eq, gt, inArray } from "drizzle-orm";
import webpush from "web-push";
import type { Config } from "../../config.ts";
import type { DatabaseHandle } from "../../db/client.ts";
import { pushDeliveries, pushSubscriptions } from "../../db/schema/index.ts";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";
import type { CardEventHub } from "../cards/hub.ts";
import { preferencesOf, type VapidKeys, vapidKeys } from "./manage.ts";

/** POSTs one encrypted push to a push service; resolves with its HTTP status. */
export type PushSend = (request: {
  endpoint: string;
  headers: Record<string, string>;
  body: Buffer;
}) => Promise<number>;

const fetchSend: PushSend = async ({ endpoint, headers, body }) => {
  const res = await fetch(endpoint, {
    method: "POST",
    headers,
    body: new Uint8Array(body),
    redirect: "manual",
    signal: AbortSignal.timeout(10_000),
  });
  await res.arrayBuffer().catch(() => {});
  return res.status;
};

export type PushOutcome =
  | "sent"
  | "below threshold"
  | "quiet hours"
  | "over budget"
  | "already sent"
  | "demo card"
  | "failed";

/** "HH:MM" now in a time zone. */
function localTime(now: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(now);
}

/** Whether `now` falls in the person's quiet hours (a window may cross midnight). */
export function inQuietHours(now: Date, p: PushPreferences): boolean {
  if (!p.quietStart || !p.quietEnd || p.quietStart === p.quietEnd) return false;
  const t = localTime(now, p.timeZone);
  return p.quietStart < p.quietEnd
    ? t >= p.quietStart && t < p.quietEnd
    : t >= p.quietStart || t < p.quietEnd;
}

/**
 * Web push for the cards that deserve an interruption: when a card is created, each person with a
 * subscribed device gets one push if the card ranks at or above their threshold, it is not their
 * quiet hours and they have budget left this hour. The delivery row is claimed before sending, so
 * a card interrupts a person at most once whichever process sees it. Payloads are encrypted for
 * each device (RFC 8291) and signed with the server's VAPID key (RFC 8292); a device the push
 * service says is gone (404/410) is forgotten.
 */
export class PushNotifier {
  private unsubscribe: (() => void) | null = null;
  private pending = new Set<Promise<unknown>>();
  private keys: Promise<VapidKeys> | null = null;
  /** Cards created since the last look at the devices: looked at together, once. */
  private queue: Card[] = [];

  constructor(
    private readonly database: DatabaseHandle,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly config: Config,
    private readonly send: PushSend = fetchSend,
  ) {}

  async start(hub: CardEventHub): Promise<void> {
    const { unsubscribe } = await hub.subscribe((event) => {
      if (event.type !== "card.created" || !event.card) return;
      // Cards come in bursts (an agent batch writes many): the devices are read once per burst,
      // not once per card — at a thousand cards a second that was a thousand more queries on
      // PGlite's one connection, and a card reached the feed ~4× slower.
      this.queue.push(event.card);
      if (this.queue.length > 1) return;
      const work = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => this.flush())
        .catch((err) => this.logger.error({ err }, "push failed"))
        .finally(() => this.pending.delete(work));
      this.pending.add(work);
    });
    this.unsubscribe = unsubscribe;
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await Promise.all(this.pending);
  }

  private async flush(): Promise<void> {
    const cards = this.queue.splice(0);
    const devices = await this.database.db.select().from(pushSubscriptions);
    for (const card of cards)
      await this.notify(card, devices).catch((err) =>
        this.logger.error({ err, card: card.id }, "push failed"),
      );
  }

  /** Pushes a new card to everyone it should interrupt; what happened per person. */
  async notify(
    card: Card,
    subscribed?: (typeof pushSubscriptions.$inferSelect)[],
  ): Promise<Map<string, PushOutcome>> {
    const db = this.database.db;
    const outcomes = new Map<string, PushOutcome>();
    if (card.status !== "pending") return outcomes;
    const devices = subscribed ?? (await db.select().from(pushSubscriptions));
    // A sample, however high it ranks, interrupts nobody: someone trying Flick out is not an
    // incident on everyone's phone.
    if (isDemoCard(card)) {
      for (const d of devices) outcomes.set(d.userId, "demo card");
      return outcomes;
    }
    const byUser = new Map<string, (typeof devices)[number][]>();
    for (const d of devices) byUser.set(d.userId, [...(byUser.get(d.userId) ?? []), d]);
    if (byUser.size === 0) return outcomes;
    // Made once per install and never changed: read once per process.
    this.keys ??= vapidKeys(db).catch((err) => {
      this.keys = null;
      throw err;
    });
    const keys = await this.keys;
    const now = this.clock.now();
    const payload = JSON.stringify({
      title: card.title.slice(0, 120),
      body: (card.summary || `Ranked ${Math.round(card.priority * 100)} / 100`).slice(0, 240),
      cardId: card.id,
      url: `/?card=${encodeURIComponent(card.id)}`,
    });
    const subject = this.config.PUBLIC_URL?.startsWith("https:")
      ? this.config.PUBLIC_URL
      : `mailto:flick@${hostname() || "localhost"}`;

    for (const [userId, mine] of byUser) {
      const prefs = await preferencesOf(db, userId);
      if (card.priority < prefs.threshold) {
        outcomes.set(userId, "below threshold");
        continue;
      }
      if (inQuietHours(now, prefs)) {
        outcomes.set(userId, "quiet hours");
        continue;
      }
      const [used] = await db
        .select({ n: count() })
        .from(pushDeliveries)
        .where(
          and(
            eq(pushDeliveries.userId, userId),
            gt(pushDeliveries.createdAt, new Date(now.getTime() - 3_600_000)),
          ),
        );
      if (Number(used?.n ?? 0) >= prefs.maxPerHour) {
        outcomes.set(userId, "over budget");
        continue;
      }
      const claimed = await db
        .insert(pushDeliveries)
        .values({ userId, cardId: card.id, status: "sending", createdAt: now })
        .onConflictDoNothing()
        .returning({ cardId: pushDeliveries.cardId });
      if (claimed.length === 0) {
        outcomes.set(userId, "already sent");
        continue;
      }
      let delivered = 0;
      const gone: string[] = [];
      for (const d of mine) {
        try {
          // web-push encrypts (aes128gcm) and signs (VAPID); the request itself goes out with fetch.
          const request = webpush.generateRequestDetails(
            { endpoint: d.endpoint, keys: { p256dh: d.p256dh, auth: d.auth } },
            payload,
            {
              vapidDetails: { subject, publicKey: keys.publicKey, privateKey: keys.privateKey },
              TTL: 6 * 3600,
              urgency: card.priority >= 0.9 ? "high" : "normal",
              topic: card.id.replace(/[^A-Za-z0-9_-]/g, "").slice(-32),
            },
          );
          const status = await this.send({
            endpoint: request.endpoint,
            headers: request.headers as Record<string, string>,
            body: request.body as Buffer,
          });
          if (status >= 200 && status < 300) delivered++;
          else if (status === 404 || status === 410) gone.push(d.id);
          else this.logger.warn({ card: card.id, status }, "push not delivered");
        } catch (err) {
          this.logger.warn({ card: card.id, err: (err as Error).message }, "push not delivered");
        }
      }
      if (gone.length > 0) await db.delete(pushSubscriptions).where(inArray(pushSubscriptions.id, gone));
      await db
        .update(pushDeliveries)
        .set({ status: delivered > 0 ? "sent" : "failed", devices: delivered })
        .where(and(eq(pushDeliveries.userId, userId), eq(pushDeliveries.cardId, card.id)));
      if (delivered > 0) {
        await db
          .update(pushSubscriptions)
          .set({ lastSentAt: now })
          .where(
            inArray(
              pushSubscriptions.id,
              mine.map((d) => d.id).filter((id) => !gone.includes(id)),
            ),
          );
      }
      outcomes.set(userId, delivered > 0 ? "sent" : "failed");
    }
    return outcomes;
  }
}
