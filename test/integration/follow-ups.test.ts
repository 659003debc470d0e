import { sniffAudio } from "@flick/server/follow-ups";
import type { ErrorBody } from "@flick/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertCard } from "../helpers/db.ts";
import { drivers, ORIGIN, startTestApp, type TestApp } from "../helpers/harness.ts";

/** A minimal valid WAV: 0.1 s of a 440 Hz tone, 8 kHz mono 16-bit. */
function wav(): Uint8Array<ArrayBuffer> {
  const samples = 800;
  const buf = Buffer.alloc(44 + samples * 2);
  buf.write("RIFF", 0);
  buf.writeUInt32LE(36 + samples * 2, 4);
  buf.write("WAVEfmt ", 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(8000, 24);
  buf.writeUInt32LE(16000, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write("data", 36);
  buf.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++)
    buf.writeInt16LE(Math.round(Math.sin((i / 8000) * 2 * Math.PI * 440) * 8000), 44 + i * 2);
  return new Uint8Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

describe.each(drivers)("follow-ups on %s", (driver) => {
  let t: TestApp;
  let rita: string;
  beforeAll(async () => {
    t = await startTestApp(driver);
    const admin = await t.setupAdmin();
    rita = await t.addUser(admin, "reviewer", "rita@example.com");
  });
  afterAll(async () => t?.close());

  const send = (
    cardId: string,
    fields: Record<string, string | Blob>,
    cookie: string | null = rita,
    origin: string | null = ORIGIN,
  ) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.set(k, v);
    const headers: Record<string, string> = {};
    if (cookie) headers.cookie = cookie;
    if (origin) headers.origin = origin;
    return t.fetch(
      new Request(`http://localhost/api/cards/${cardId}/follow-ups`, { method: "POST", body: form, headers }),
    );
  };

  it("stores a recording with its sniffed type, whatever the upload claimed, and serves it back", async () => {
    const card = await insertCard(t.database.db);
    const res = await send(card.id, {
      audio: new Blob([wav()], { type: "audio/webm" }),
      durationMs: "100",
      transcript: "roll back only checkout",
    });
    const body = (await res.json()) as {
      followUp: {
        id: string;
        audioMime: string;
        transcript: string;
        transcriptSource: string;
        state: string;
      };
    };
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body.followUp).toMatchObject({
      audioMime: "audio/wav",
      transcript: "roll back only checkout",
      transcriptSource: "browser",
      state: "received",
    });
    const audio = await t.fetch(
      new Request(`http://localhost/api/follow-ups/${body.followUp.id}/audio`, { headers: { cookie: rita } }),
    );
    expect(audio.headers.get("content-type")).toBe("audio/wav");
    expect(new Uint8Array(await audio.arrayBuffer())).toEqual(wav());
  });

  it("keeps a recording with no transcript, waiting for text", async () => {
    const card = await insertCard(t.database.db);
    const res = await send(card.id, { audio: new Blob([wav()]) });
    expect(((await res.json()) as { followUp: { state: string } }).followUp.state).toBe("needs_text");
  });

  it("takes typed text alone", async () => {
    const card = await insertCard(t.database.db);
    const res = await send(card.id, { text: "only for EU customers" });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { followUp: { transcriptSource: string } }).followUp.transcriptSource).toBe(
      "typed",
    );
  });

  it("refuses what is not audio, an empty request, an unknown card, strangers and forged origins", async () => {
    const card = await insertCard(t.database.db);
    const notAudio = await send(card.id, {
      audio: new Blob(["<html>not audio</html>"], { type: "audio/webm" }),
    });
    expect(notAudio.status).toBe(415);
    expect(((await notAudio.json()) as ErrorBody).error.message).toContain("not a webm, ogg, mp4 or wav");
    expect((await send(card.id, {})).status).toBe(400);
    expect((await send("crd_nope", { text: "x" })).status).toBe(404);
    // Listing what was said on a card that does not exist is a 404 too; on one with none, an empty list.
    const listed = await t.request("/api/cards/crd_nope/follow-ups", { cookie: rita });
    expect(listed.status, listed.text).toBe(404);
    expect(listed.body).toMatchObject({ error: { code: "not_found", message: "card not found" } });
    const quiet = await insertCard(t.database.db);
    expect((await t.request(`/api/cards/${quiet.id}/follow-ups`, { cookie: rita })).body).toEqual({
      followUps: [],
    });
    expect((await send(card.id, { text: "x" }, null)).status).toBe(401);
    expect((await send(card.id, { text: "x" }, rita, "https://evil.example")).status).toBe(403);
  });
});

describe("audio sniffing", () => {
  it("knows the containers browsers record in by their first bytes", () => {
    expect(sniffAudio(Uint8Array.from([0x1a, 0x45, 0xdf, 0xa3, 1]))).toBe("audio/webm");
    expect(sniffAudio(new TextEncoder().encode("OggS\0\0"))).toBe("audio/ogg");
    expect(sniffAudio(new TextEncoder().encode("\0\0\0\x20ftypM4A "))).toBe("audio/mp4");
    expect(sniffAudio(new TextEncoder().encode("ID3\x04 mp3"))).toBeNull();
  });
});
