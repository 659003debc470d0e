import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spokenWav } from "../helpers/browser.ts";
import { type E2E, phone, startE2E } from "../helpers/e2e.ts";

describe("hold to talk in Chromium with a fake microphone", () => {
  let e2e: E2E;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "flick-e2e-voice-"));
    const wav = spokenWav("Roll back only the checkout service, not payments.", path.join(dir, "speech.wav"));
    e2e = await startE2E({
      demo: true,
      chromiumArgs: [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        `--use-file-for-fake-audio-capture=${wav}`,
        "--autoplay-policy=no-user-gesture-required",
      ],
    });
  });
  afterAll(async () => {
    await e2e?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("records while the mic is held, uploads a real non-silent recording on release", async () => {
    const context = await e2e.context(phone);
    await context.grantPermissions(["microphone"], { origin: e2e.server.url });
    const page = await context.newPage();
    await page.goto(e2e.server.url);
    const card = page.locator("[data-card-id]").first();
    await card.waitFor();
    const mic = card.getByRole("button", { name: "Hold to speak a follow-up" });
    const box = await mic.boundingBox();
    if (!box) throw new Error("mic not visible");
    const cdp = await context.newCDPSession(page);
    const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [at] });
    await page.getByText(/release to send/).waitFor();
    await page.waitForTimeout(3500);
    await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
    await page.getByRole("status").filter({ hasText: "your instruction is saved with this card" }).waitFor();

    const cardId = await card.getAttribute("data-card-id");
    // Read the stored recording back through the page's own session and decode it in the browser.
    const stats = await page.evaluate(async (id) => {
      const list = (await (await fetch(`/api/cards/${id}/follow-ups`)).json()) as {
        followUps: {
          id: string;
          audioMime: string;
          audioBytes: number;
          audioDurationMs: number;
          state: string;
        }[];
      };
      const f = list.followUps[0];
      if (!f) return null;
      const bytes = await (await fetch(`/api/follow-ups/${f.id}/audio`)).arrayBuffer();
      const decoded = await new AudioContext().decodeAudioData(bytes.slice(0));
      const data = decoded.getChannelData(0);
      let sum = 0;
      for (const v of data) sum += v * v;
      return { ...f, seconds: decoded.duration, rms: Math.sqrt(sum / data.length) };
    }, cardId);
    expect(stats, JSON.stringify(stats)).not.toBeNull();
    expect(stats?.audioMime).toBe("audio/webm");
    expect(stats?.state).toBe("needs_text");
    expect(stats?.audioDurationMs).toBeGreaterThan(3000);
    expect(stats?.seconds).toBeGreaterThan(2.5);
    // espeak's speech, not silence: a silent track has an RMS of ~0.
    expect(stats?.rms).toBeGreaterThan(0.01);
    await cdp.detach();

    // Typing works as well as speaking.
    await card.getByText("Type an instruction instead").click();
    await card.getByLabel("Instruction for the agent").fill("Only for EU customers");
    await card.getByRole("button", { name: "Send" }).click();
    await page.getByRole("status").filter({ hasText: "your instruction is saved with this card" }).waitFor();
    const typed = await page.evaluate(async (id) => {
      const list = (await (await fetch(`/api/cards/${id}/follow-ups`)).json()) as {
        followUps: { transcript: string | null; transcriptSource: string | null; state: string }[];
      };
      return list.followUps.at(-1);
    }, cardId);
    expect(typed).toMatchObject({
      transcript: "Only for EU customers",
      transcriptSource: "typed",
      state: "received",
    });
    await context.close();
  });
});
