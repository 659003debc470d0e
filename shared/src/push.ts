import { z } from "zod";

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "use HH:MM, 00:00 to 23:59");

/** An IANA time zone this runtime knows ("Europe/Paris", "UTC"). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** What a browser's PushSubscription.toJSON() gives, as the server stores it. */
export const pushSubscriptionInputSchema = z.object({
  endpoint: z.url({ protocol: /^https?$/, error: "must be the push service's http(s) URL" }).max(2000),
  keys: z.object({
    p256dh: z.string().regex(/^[A-Za-z0-9_-]{80,100}={0,2}$/, "p256dh must be a base64url P-256 public key"),
    auth: z.string().regex(/^[A-Za-z0-9_-]{16,30}={0,2}$/, "auth must be a base64url secret"),
  }),
});
export type PushSubscriptionInput = z.infer<typeof pushSubscriptionInputSchema>;

/** When a person wants to be interrupted. */
export const pushPreferencesSchema = z
  .object({
    /** Only cards ranked at least this high (0..1) push. */
    threshold: z.number().min(0).max(1),
    /** At most this many pushes an hour (0: none). */
    maxPerHour: z.number().int().min(0).max(60),
    /** No pushes between these local times; both or neither. */
    quietStart: hhmm.nullable(),
    quietEnd: hhmm.nullable(),
    timeZone: z.string().refine(isTimeZone, { message: "not a time zone this server knows" }),
  })
  .refine((p) => (p.quietStart === null) === (p.quietEnd === null), {
    message: "give both ends of the quiet hours, or neither",
    path: ["quietEnd"],
  });
export type PushPreferences = z.infer<typeof pushPreferencesSchema>;

export const defaultPushPreferences: PushPreferences = {
  threshold: 0.7,
  maxPerHour: 3,
  quietStart: null,
  quietEnd: null,
  timeZone: "UTC",
};
