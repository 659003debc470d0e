import { asc, eq, sql } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import { cards, followUps, pushPreferences } from "../../db/schema/index.ts";
import { AppError } from "../../lib/errors.ts";
import { newId } from "../../lib/ids.ts";

export const MAX_AUDIO_BYTES = 10 * 1024 * 1024;
export const MAX_AUDIO_MS = 2 * 60 * 1000;

/** The container the bytes really are, whatever the upload claims. */
export function sniffAudio(bytes: Uint8Array): string | null {
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes.length >= 4 && bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3)
    return "audio/webm";
  if (ascii(0, 4) === "OggS") return "audio/ogg";
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WAVE") return "audio/wav";
  if (ascii(4, 8) === "ftyp") return "audio/mp4";
  return null;
}

export interface FollowUpInput {
  cardId: string;
  userId: string;
  audio?: Uint8Array;
  durationMs?: number;
  /** What the browser's own speech recognition heard, if it has one. */
  browserTranscript?: string;
  /** What the person typed instead of (or as well as) speaking. */
  text?: string;
  /** The speaker's IANA time zone, as their browser said (checked by the route). */
  timeZone?: string;
  /** Whether a server-side transcriber is configured. */
  transcriber: boolean;
  now: Date;
}

/**
 * Stores a spoken or typed instruction on a card. The recording is kept whatever happens next, so
 * nothing said is lost; typed text wins over the browser's transcript.
 */
export async function createFollowUp(db: Database, p: FollowUpInput) {
  const [card] = await db.select({ id: cards.id }).from(cards).where(eq(cards.id, p.cardId)).limit(1);
  if (!card) throw new AppError("not_found", "card not found");
  let mime: string | null = null;
  if (p.audio) {
    if (p.audio.length === 0) throw new AppError("validation_failed", "audio: the recording is empty");
    if (p.audio.length > MAX_AUDIO_BYTES)
      throw new AppError("payload_too_large", `audio: larger than ${MAX_AUDIO_BYTES} bytes`);
    mime = sniffAudio(p.audio);
    if (!mime) throw new AppError("unsupported_media_type", "audio: not a webm, ogg, mp4 or wav recording");
    if (p.durationMs !== undefined && p.durationMs > MAX_AUDIO_MS + 2000) {
      throw new AppError("validation_failed", "durationMs: a recording is at most 2 minutes");
    }
  }
  const typed = p.text?.trim();
  const heard = p.browserTranscript?.trim();
  if (!p.audio && !typed) throw new AppError("validation_failed", "give audio or text");
  const transcript = typed || heard || null;
  // A client that does not say its zone (an API script): the zone the person chose for their
  // quiet hours, so "remind me tomorrow morning" is their morning, not London's.
  const timeZone =
    p.timeZone ??
    (
      await db
        .select({ timeZone: pushPreferences.timeZone })
        .from(pushPreferences)
        .where(eq(pushPreferences.userId, p.userId))
        .limit(1)
    )[0]?.timeZone ??
    null;
  const [row] = await db
    .insert(followUps)
    .values({
      id: newId("followUp", p.now.getTime()),
      cardId: p.cardId,
      userId: p.userId,
      audio: p.audio ?? null,
      audioMime: mime,
      audioDurationMs: p.durationMs ?? null,
      transcript,
      transcriptSource: typed ? "typed" : heard ? "browser" : null,
      timeZone,
      // Without a transcript, a recording waits for the server's transcriber — or, with none, for text.
      state: transcript || (p.audio && p.transcriber) ? "received" : "needs_text",
      nextAttemptAt: p.now,
      createdAt: p.now,
      updatedAt: p.now,
    })
    .returning();
  if (!row) throw new Error("follow-up insert returned no row");
  const { audio: _audio, ...rest } = row;
  return {
    ...rest,
    audioBytes: p.audio?.length ?? 0,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    nextAttemptAt: row.nextAttemptAt.toISOString(),
    leaseUntil: row.leaseUntil?.toISOString() ?? null,
  };
}

export async function followUpAudio(db: Database, id: string) {
  const [row] = await db
    .select({ audio: followUps.audio, mime: followUps.audioMime })
    .from(followUps)
    .where(eq(followUps.id, id))
    .limit(1);
  if (!row?.audio || !row.mime) throw new AppError("not_found", "no recording for this follow-up");
  return { audio: row.audio, mime: row.mime };
}

/** A card's follow-ups, oldest first, without the audio bytes (fetched separately). */
export async function listFollowUps(db: Database, cardId: string) {
  const rows = await db
    .select({
      id: followUps.id,
      state: followUps.state,
      transcript: followUps.transcript,
      transcriptSource: followUps.transcriptSource,
      audioMime: followUps.audioMime,
      audioDurationMs: followUps.audioDurationMs,
      audioBytes: sql<number>`coalesce(octet_length(${followUps.audio}), 0)::int`,
      reply: followUps.reply,
      lastError: followUps.lastError,
      revisionCardId: followUps.revisionCardId,
      tokens: followUps.tokens,
      createdAt: followUps.createdAt,
    })
    .from(followUps)
    .where(eq(followUps.cardId, cardId))
    .orderBy(asc(followUps.createdAt));
  if (rows.length === 0) {
    // None said on it, or no such card: a mistyped id is told so, not answered with an empty list.
    const [card] = await db.select({ id: cards.id }).from(cards).where(eq(cards.id, cardId)).limit(1);
    if (!card) throw new AppError("not_found", "card not found");
  }
  return rows.map((r) => ({ ...r, audioBytes: Number(r.audioBytes), createdAt: r.createdAt.toISOString() }));
}
