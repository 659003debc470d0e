import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Card, CardEvent, FeedPage } from "@flick/shared";
import { startRecorder } from "../helpers/http-recorder.ts";
import { chatCompletion } from "../helpers/openai.ts";
import { setUpFirstAdmin, startServerProcess } from "../helpers/server-process.ts";
import { SseReader } from "../helpers/sse.ts";
import { arg, percentile, round, type Table, writeReport } from "./lib.ts";

/** Tokens as a tokenizer would roughly count them: about four characters each. */
const estimateTokens = (text: string) => Math.ceil(text.length / 4);

/**
 * Follow-up → revised card, end to end against the server bundle in its own process and a local
 * server speaking the OpenAI chat completions API that answers at once (so the figures are Flick's
 * own overhead, not a model's thinking time). Tokens are what this stand-in reports: the request's
 * and reply's length over four, about what a real tokenizer would count for Flick's prompts.
 */
export async function run(): Promise<void> {
  const count = Number(arg("revisions", "12"));
  let promptTokens = 0;
  let completionTokens = 0;
  const openai = await startRecorder((req) => {
    const asked = JSON.parse(JSON.parse(req.body).messages[1].content) as { card: Card; instruction: string };
    const content = JSON.stringify({
      title: `${asked.card.title} (as asked)`,
      summary: `Revised: ${asked.instruction}`,
      change: asked.card.change,
    });
    const usage = { prompt: estimateTokens(req.body), completion: estimateTokens(content) };
    promptTokens += usage.prompt;
    completionTokens += usage.completion;
    return { status: 200, body: chatCompletion(content, usage) };
  });
  const dataDir = mkdtempSync(path.join(tmpdir(), "flick-bench-followups-"));
  const server = await startServerProcess({
    DATA_DIR: dataDir,
    OPENAI_BASE_URL: `${openai.url}/v1`,
    OPENAI_MODEL: "local",
    SUMMARIZER: "false",
  });
  try {
    const post = (p: string, body: unknown, cookie = "") =>
      fetch(`${server.url}${p}`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: server.url, cookie },
        body: JSON.stringify(body),
      });
    const cookie = await setUpFirstAdmin(server, { email: "admin@example.com", name: "Admin" });
    const latencies: number[] = [];
    const live = new SseReader(await fetch(`${server.url}/api/stream`, { headers: { cookie } }));
    await live.next((e) => e.event === "ready");
    await post("/api/admin/demo", {}, cookie);
    while (latencies.length < count) {
      // The demo cards that propose something; each round revises the newest versions again.
      const page = (await (
        await fetch(`${server.url}/api/feed?limit=100`, { headers: { cookie } })
      ).json()) as FeedPage;
      const targets = page.cards
        .filter((c) => c.change && c.change.type !== "none")
        .slice(0, count - latencies.length);
      if (targets.length === 0) throw new Error("no demo card proposes a change");
      for (const card of targets) {
        const form = new FormData();
        form.set("text", "Only do this for the checkout service, and say so in the title.");
        const started = performance.now();
        const res = await fetch(`${server.url}/api/cards/${card.id}/follow-ups`, {
          method: "POST",
          headers: { origin: server.url, cookie },
          body: form,
        });
        if (res.status !== 201) throw new Error(`follow-up: ${res.status} ${await res.text()}`);
        await live.next((e) => {
          if (e.event !== "card.created") return false;
          return (JSON.parse(e.data) as CardEvent).card?.supersedes === card.id;
        }, 30_000);
        latencies.push(performance.now() - started);
      }
    }
    await live.close();
    const sorted = [...latencies].sort((a, b) => a - b);
    const calls = openai.requests.filter((r) => r.path === "/v1/chat/completions").length;
    const result = {
      revisions: latencies.length,
      modelCalls: calls,
      p50: round(percentile(sorted, 50), 0),
      p99: round(percentile(sorted, 99), 0),
      max: round(sorted[sorted.length - 1] ?? 0, 0),
      promptTokensPerRevision: round(promptTokens / calls, 0),
      completionTokensPerRevision: round(completionTokens / calls, 0),
    };
    const tables: Table[] = [
      {
        title: "Follow-up → revised card (typed instruction, model revision, new card on SSE)",
        columns: [
          "revisions",
          "model calls",
          "latency p50 ms",
          "p99 ms",
          "max ms",
          "prompt tokens / revision",
          "completion tokens / revision",
        ],
        rows: [
          [
            result.revisions,
            result.modelCalls,
            result.p50,
            result.p99,
            result.max,
            result.promptTokensPerRevision,
            result.completionTokensPerRevision,
          ],
        ],
        notes: [
          "Server bundle in its own process on the embedded database; a local stand-in for the OpenAI API answers at once, so latency is Flick's part: upload, queue, the openai client's round trip, the revision's transaction, SSE.",
          "Tokens: characters / 4 of what the openai client sent and got (a real model's reply would be a little longer).",
        ],
      },
    ];
    console.log(writeReport("followups", result, tables));
  } finally {
    await server.stop();
    await openai.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
