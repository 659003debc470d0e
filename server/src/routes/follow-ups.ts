import { isTimeZone } from "@flick/shared";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../env.ts";
import { AppError } from "../lib/errors.ts";
import { refuseUnstorable } from "../lib/validate.ts";
import { authenticate, currentAuth, requireUser } from "../middleware/auth.ts";
import {
  createFollowUp,
  followUpAudio,
  listFollowUps,
  MAX_AUDIO_BYTES,
} from "../services/follow-ups/create.ts";
import { FOLLOW_UPS_CHANNEL } from "../services/follow-ups/runtime.ts";

/**
 * Voice and typed follow-ups. Mounted before the JSON-only /api/* middleware: the upload is
 * multipart (audio plus the browser's transcript) and may be up to 10 MB.
 */
export const followUpRoutes = new Hono<AppEnv>()
  .post(
    "/api/cards/:id/follow-ups",
    bodyLimit({
      maxSize: MAX_AUDIO_BYTES + 64 * 1024,
      onError: () => {
        throw new AppError("payload_too_large", `a follow-up is at most ${MAX_AUDIO_BYTES} bytes of audio`);
      },
    }),
    authenticate,
    requireUser,
    async (c) => {
      const { database, clock } = c.var.deps;
      const type = c.req.header("content-type") ?? "";
      if (!/^multipart\/form-data/i.test(type))
        throw new AppError("unsupported_media_type", "send multipart/form-data");
      const form = await c.req.parseBody();
      refuseUnstorable({ text: form.text, transcript: form.transcript, timeZone: form.timeZone });
      const audio = form.audio;
      const duration = Number(form.durationMs);
      const timeZone = typeof form.timeZone === "string" && form.timeZone !== "" ? form.timeZone : undefined;
      if (timeZone !== undefined && !isTimeZone(timeZone))
        throw new AppError("validation_failed", `timeZone: "${timeZone.slice(0, 64)}" is not a time zone`);
      const followUp = await createFollowUp(database.db, {
        cardId: c.req.param("id"),
        userId: currentAuth(c).user.id,
        audio: audio instanceof File ? new Uint8Array(await audio.arrayBuffer()) : undefined,
        durationMs: Number.isFinite(duration) ? Math.round(duration) : undefined,
        browserTranscript: typeof form.transcript === "string" ? form.transcript.slice(0, 5000) : undefined,
        text: typeof form.text === "string" ? form.text.slice(0, 5000) : undefined,
        timeZone,
        transcriber: Boolean(c.var.deps.config.OPENAI_API_KEY || c.var.deps.config.OPENAI_BASE_URL),
        now: clock.now(),
      });
      if (followUp.state === "received")
        await database.notify(FOLLOW_UPS_CHANNEL, "").catch(() => {
          // the worker's poll picks it up anyway
        });
      return c.json({ followUp }, 201);
    },
  )
  .get("/api/cards/:id/follow-ups", authenticate, requireUser, async (c) => {
    return c.json({ followUps: await listFollowUps(c.var.deps.database.db, c.req.param("id")) });
  })
  .get("/api/follow-ups/:id/audio", authenticate, requireUser, async (c) => {
    const { audio, mime } = await followUpAudio(c.var.deps.database.db, c.req.param("id"));
    return c.body(new Uint8Array(audio), 200, { "content-type": mime, "cache-control": "private, no-store" });
  });
