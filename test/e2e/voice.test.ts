import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spokenWav } from "../helpers/browser.ts";
import { desktop, type E2E, phone, startE2E } from "../helpers/e2e.ts";
import { startRecorder } from "../helpers/http-recorder.ts";
import { chatCompletion } from "../helpers/openai.ts";
import { repoRoot } from "../helpers/server-process.ts";

const artifacts = path.join(repoRoot, "test/.artifacts");

/** Puts a finger on a card's mic button (a real touch through CDP); `release` lifts it. */
async function touchMic(context: BrowserContext, page: Page, card: Locator) {
  const button = card.getByRole("button", { name: "Hold to speak a follow-up" });
  // A tall card puts its buttons below the fold; a person scrolls to them first.
  await button.scrollIntoViewIfNeeded();
  const box = await button.boundingBox();
  if (!box) throw new Error("mic not visible");
  const cdp = await context.newCDPSession(page);
  const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [at] });
  return {
    async release() {
      await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
      await cdp.detach();
    },
  };
}

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
    const mic = await touchMic(context, page, card);
    await page.getByText(/release to send/).waitFor();
    await page.waitForTimeout(3500);
    await mic.release();
    await page.getByRole("status").filter({ hasText: "the agent is revising the card" }).waitFor();

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

    // Typing works as well as speaking.
    await card.getByText("Type an instruction instead").click();
    await card.getByLabel("Instruction for the agent").fill("Only for EU customers");
    await card.getByRole("button", { name: "Send" }).click();
    await page.getByRole("status").filter({ hasText: "the agent is revising the card" }).waitFor();
    const typed = await page.evaluate(async (id) => {
      const list = (await (await fetch(`/api/cards/${id}/follow-ups`)).json()) as {
        followUps: { transcript: string | null; transcriptSource: string | null; state: string }[];
      };
      return list.followUps.at(-1);
    }, cardId);
    expect(typed).toMatchObject({ transcript: "Only for EU customers", transcriptSource: "typed" });
    // No model here: the rules cannot follow this one, and the card says so instead of spinning.
    await page.getByRole("status").filter({ hasText: 'could not act on "Only for EU customers"' }).waitFor();
    expect(await card.getByText("Revising…").count()).toBe(0);
    await context.close();
  });

  it("on the desktop, holding space records a follow-up for the selected card; releasing sends it", async () => {
    const context = await e2e.context(desktop);
    await context.grantPermissions(["microphone"], { origin: e2e.server.url });
    const page = await context.newPage();
    await page.goto(e2e.server.url);
    await page.getByRole("navigation", { name: "Cards" }).waitFor();
    await page.keyboard.press("j");
    const cardId = await page.locator("[data-card-id]").nth(1).getAttribute("data-card-id");
    const before = await page.evaluate(
      async (id) =>
        ((await (await fetch(`/api/cards/${id}/follow-ups`)).json()) as { followUps: unknown[] }).followUps
          .length,
      cardId,
    );
    await page.keyboard.down(" ");
    await page.getByText(/release to send/).waitFor();
    await page.waitForTimeout(2000);
    await page.keyboard.up(" ");
    await page.getByRole("status").filter({ hasText: "the agent is revising the card" }).waitFor();
    const list = await page.evaluate(
      async (id) =>
        (
          (await (await fetch(`/api/cards/${id}/follow-ups`)).json()) as {
            followUps: { audioMime: string; audioDurationMs: number }[];
          }
        ).followUps,
      cardId,
    );
    expect(list).toHaveLength(before + 1);
    expect(list.at(-1)?.audioMime).toBe("audio/webm");
    expect(list.at(-1)?.audioDurationMs).toBeGreaterThan(1500);
    await context.close();
  });

  it("shows the browser's live transcript while held and sends it with the recording", async () => {
    const context = await e2e.context(phone);
    await context.grantPermissions(["microphone"], { origin: e2e.server.url });
    // Chromium's own recognizer needs Google's servers, which this machine cannot reach; this stands
    // in for it with the same API (interim, then final results), so the page's handling is what is tested.
    await context.addInitScript(() => {
      type Result = { isFinal: boolean; 0: { transcript: string } };
      class StandInRecognition {
        continuous = false;
        interimResults = false;
        lang = "";
        onresult: ((e: { resultIndex: number; results: Result[] }) => void) | null = null;
        onerror: ((e: unknown) => void) | null = null;
        start() {
          const emit = (transcript: string, isFinal: boolean, ms: number) =>
            setTimeout(
              () => this.onresult?.({ resultIndex: 0, results: [{ isFinal, 0: { transcript } }] }),
              ms,
            );
          emit("roll back", false, 300);
          emit("roll back only checkout", true, 900);
        }
        stop() {}
        abort() {}
      }
      (window as unknown as { SpeechRecognition: unknown }).SpeechRecognition = StandInRecognition;
    });
    const page = await context.newPage();
    await page.goto(e2e.server.url);
    const card = page.locator("[data-card-id]").nth(1);
    await card.scrollIntoViewIfNeeded();
    const cardId = await card.getAttribute("data-card-id");
    const mic = await touchMic(context, page, card);
    await page.getByTestId("live-transcript").filter({ hasText: "roll back only checkout" }).waitFor();
    await page.screenshot({ path: path.join(artifacts, "voice-live-transcript-phone.png") });
    await page.waitForTimeout(500);
    await mic.release();
    await page.getByRole("status").filter({ hasText: "the agent is revising the card" }).waitFor();
    const stored = await page.evaluate(async (id) => {
      const list = (await (await fetch(`/api/cards/${id}/follow-ups`)).json()) as {
        followUps: { transcript: string | null; transcriptSource: string | null; audioBytes: number }[];
      };
      return list.followUps.at(-1);
    }, cardId);
    expect(stored).toMatchObject({ transcript: "roll back only checkout", transcriptSource: "browser" });
    expect(stored?.audioBytes).toBeGreaterThan(1000);
    await context.close();
  });
});

describe("hold to talk with a transcriber and a model (a local OpenAI-compatible server)", () => {
  let e2e: E2E;
  let dir: string;
  let openai: Awaited<ReturnType<typeof startRecorder>>;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "flick-e2e-voice-"));
    const wav = spokenWav("Roll back only the checkout service, not payments.", path.join(dir, "speech.wav"));
    openai = await startRecorder((req) => {
      if (req.path === "/v1/audio/transcriptions")
        return { status: 200, body: { text: "Roll back only the checkout service, not payments." } };
      if (req.path === "/v1/chat/completions") {
        const asked = JSON.parse(JSON.parse(req.body).messages[1].content) as { card: { change: unknown } };
        const content = JSON.stringify({
          title: "Roll back checkout only — payments stay on a1b2c3",
          summary: "Only the checkout service goes back to 9f8e7d, as you asked.",
          change: {
            ...(asked.card.change as object),
            params: { service: "checkout", to: "9f8e7d", only: true },
          },
        });
        return { status: 200, body: chatCompletion(content, { prompt: 300, completion: 40 }) };
      }
      return { status: 404, body: {} };
    });
    e2e = await startE2E({
      demo: true,
      env: {
        OPENAI_BASE_URL: `${openai.url}/v1`,
        OPENAI_MODEL: "local",
        OPENAI_TRANSCRIBE_MODEL: "local-whisper",
        // This scripted model only revises; the Summarizer has its own tests.
        SUMMARIZER: "false",
        OPENAI_USD_PER_MILLION_TOKENS: "2.5",
        OPENAI_DAILY_TOKENS: "100000",
      },
      chromiumArgs: [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        `--use-file-for-fake-audio-capture=${wav}`,
      ],
    });
  });
  afterAll(async () => {
    await e2e?.close();
    await openai?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("speaks → the server transcribes the real recording → the revised card replaces the old one at the top", async () => {
    const context = await e2e.context(phone);
    await context.grantPermissions(["microphone"], { origin: e2e.server.url });
    const page = await context.newPage();
    await page.goto(e2e.server.url);
    const card = page.locator("[data-card-id]").first();
    await card.waitFor();
    const oldId = await card.getAttribute("data-card-id");
    const mic = await touchMic(context, page, card);
    await page.getByText(/release to send/).waitFor();
    await page.waitForTimeout(3500);
    await mic.release();

    const first = page.locator("[data-card-id]").first();
    await first.getByRole("heading", { name: "Roll back checkout only — payments stay on a1b2c3" }).waitFor();
    expect(await first.getAttribute("data-card-id")).not.toBe(oldId);
    expect(await page.locator(`[data-card-id="${oldId}"]`).count()).toBe(0);
    await expect.poll(() => first.getByText("Revising…").count()).toBe(0);
    expect(await first.getByText(/You said: “Roll back only the checkout service/).count()).toBe(1);
    await page.screenshot({ path: path.join(artifacts, "feed-revised-phone.png") });

    // The transcriber got the browser's real recording (a WebM file), through the openai client.
    const upload = openai.requests.find((r) => r.path === "/v1/audio/transcriptions");
    expect(upload?.headers["content-type"]).toMatch(/^multipart\/form-data/);
    expect(upload?.raw.includes(Buffer.from([0x1a, 0x45, 0xdf, 0xa3]))).toBe(true);
    expect(upload?.raw.length).toBeGreaterThan(10_000);
    expect(upload?.body).toContain("local-whisper");

    // What it cost, for the admin: the revision's 340 tokens (300 in, 40 out) at $2.50 a million.
    await page.goto(`${e2e.server.url}/settings`);
    const use = page.getByRole("region", { name: "Model use" });
    await use.getByText("Model local, at $2.5 per million tokens.").waitFor();
    await expect.poll(() => use.getByRole("status").textContent()).toBe("Today: 340 tokens · $0.0009");
    expect(await use.getByRole("list", { name: "Daily limits" }).textContent()).toBe(
      "Follow-up revisions: 340 of 100,000 tokens a day",
    );
    expect(await use.getByRole("list", { name: "By agent" }).textContent()).toBe(
      "demo (follow-ups): 340 tokens in 1 call · $0.0009",
    );
    await use.getByLabel("Period").selectOption("30 days");
    await expect.poll(() => use.getByRole("status").textContent()).toBe("30 days: 340 tokens · $0.0009");
    expect(await use.getByRole("list", { name: "Daily limits" }).count()).toBe(0);
    await use.screenshot({ path: path.join(artifacts, "settings-model-use-phone.png") });
    await context.close();
  });
});
