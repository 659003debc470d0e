import { defaultPushPreferences, type PushPreferences, type PushSubscriptionInput } from "@flick/shared";
import { and, count, eq } from "drizzle-orm";
import webpush from "web-push";
import type { Queryable } from "../../db/client.ts";
import { pushPreferences, pushSubscriptions, settings } from "../../db/schema/index.ts";
import { newId } from "../../lib/ids.ts";

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

/** The server's VAPID key pair, made on first use and kept in the database (every process shares it). */
export async function vapidKeys(db: Queryable): Promise<VapidKeys> {
  const read = async () =>
    (await db.select().from(settings).where(eq(settings.key, "vapid")).limit(1))[0]?.value as
      | VapidKeys
      | undefined;
  const existing = await read();
  if (existing) return existing;
  await db
    .insert(settings)
    .values({ key: "vapid", value: webpush.generateVAPIDKeys() })
    .onConflictDoNothing();
  const made = await read();
  if (!made) throw new Error("could not store the VAPID keys");
  return made;
}

export async function preferencesOf(db: Queryable, userId: string): Promise<PushPreferences> {
  const [row] = await db.select().from(pushPreferences).where(eq(pushPreferences.userId, userId)).limit(1);
  if (!row) return defaultPushPreferences;
  return {
    threshold: row.threshold,
    maxPerHour: row.maxPerHour,
    quietStart: row.quietStart,
    quietEnd: row.quietEnd,
    timeZone: row.timeZone,
  };
}

export async function savePreferences(db: Queryable, userId: string, p: PushPreferences, now: Date) {
  await db
    .insert(pushPreferences)
    .values({ userId, ...p, updatedAt: now })
    .onConflictDoUpdate({ target: pushPreferences.userId, set: { ...p, updatedAt: now } });
  return p;
}

/** Stores this browser's subscription for the person signed in on it (a browser signed in anew moves to them). */
export async function subscribe(db: Queryable, userId: string, s: PushSubscriptionInput, now: Date) {
  await db
    .insert(pushSubscriptions)
    .values({
      id: newId("push", now.getTime()),
      userId,
      endpoint: s.endpoint,
      p256dh: s.keys.p256dh,
      auth: s.keys.auth,
    })
    .onConflictDoUpdate({
      target: pushSubscriptions.endpoint,
      set: { userId, p256dh: s.keys.p256dh, auth: s.keys.auth },
    });
}

export async function unsubscribe(db: Queryable, userId: string, endpoint: string): Promise<boolean> {
  const gone = await db
    .delete(pushSubscriptions)
    .where(and(eq(pushSubscriptions.userId, userId), eq(pushSubscriptions.endpoint, endpoint)))
    .returning({ id: pushSubscriptions.id });
  return gone.length > 0;
}

export async function deviceCount(db: Queryable, userId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(pushSubscriptions)
    .where(eq(pushSubscriptions.userId, userId));
  return Number(row?.n ?? 0);
}
