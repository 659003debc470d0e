import { type CardEvent, feedQuerySchema } from "@flick/shared";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import type { AppEnv } from "../env.ts";
import { validate } from "../lib/validate.ts";
import { requireUser } from "../middleware/auth.ts";
import { gzipJson } from "../services/cards/feed-cache.ts";
import { githubDiff } from "../services/cards/github-diff.ts";
import { cardEventsAfter, feedFacets, feedPage, getCard, latestCardEventId } from "../services/cards/read.ts";

const HEARTBEAT_MS = 15_000;

export const feedRoutes = new Hono<AppEnv>()
  /**
   * The feed, a page at a time, gzipped when the client accepts it: on a phone on a slow network a
   * 20-card page is a few KB instead of tens. The first page comes from the per-process cache (see
   * FeedPageCache) with an ETag for conditional requests.
   */
  .get("/feed", requireUser, validate("query", feedQuerySchema), async (c) => {
    const query = c.req.valid("query");
    const db = c.var.deps.database.db;
    c.header("Vary", "Accept-Encoding, Cookie, Authorization");
    c.header("Content-Type", "application/json");
    const gzip = /\bgzip\b/.test(c.req.header("accept-encoding") ?? "");
    // Small pages go as they are: gzip would not pay for itself.
    const send = (json: string, gzipped: () => Uint8Array<ArrayBuffer>) => {
      if (!gzip || json.length <= 1024) return c.body(json);
      c.header("Content-Encoding", "gzip");
      return c.body(gzipped());
    };
    if (query.cursor || query.status || query.agent || query.source) {
      const json = JSON.stringify(await feedPage(db, query));
      return send(json, () => gzipJson(json));
    }
    const page = await c.var.services.feedCache.firstPage(db, query.limit);
    c.header("ETag", page.etag);
    c.header("Cache-Control", "private, no-cache");
    const matches = c.req
      .header("if-none-match")
      ?.split(",")
      .map((t) => t.trim());
    if (matches?.includes(page.etag)) return c.body(null, 304);
    return send(page.json, () => page.gzip());
  })
  .get("/feed/facets", requireUser, async (c) => c.json(await feedFacets(c.var.deps.database.db)))
  .get("/cards/:id", requireUser, validate("param", z.object({ id: z.string().max(64) })), async (c) => {
    return c.json({ card: await getCard(c.var.deps.database.db, c.req.valid("param").id) });
  })
  /**
   * What a merge or revert card's accept changes in code, read from GitHub when a person opens
   * "Show the diff" (the pull request's diff; the reverted commit's, turned around).
   */
  .get("/cards/:id/diff", requireUser, validate("param", z.object({ id: z.string().max(64) })), async (c) => {
    const { database, config } = c.var.deps;
    const card = await getCard(database.db, c.req.valid("param").id);
    c.header("Cache-Control", "private, max-age=60");
    return c.json(await githubDiff(config, card));
  })
  /**
   * Server-Sent Events: card.created / card.updated / card.removed, each with its event id and the
   * card version. A client reconnecting with Last-Event-ID first gets everything it missed, in order,
   * then the live stream; if that history has been pruned it gets `reset` and should reload the feed.
   */
  .get("/stream", requireUser, async (c) => {
    const { database } = c.var.deps;
    const hub = c.var.services.cardHub;
    const requested = c.req.header("last-event-id") ?? c.req.query("lastEventId");
    const resumeFrom = requested !== undefined && /^\d{1,15}$/.test(requested) ? Number(requested) : null;
    c.header("X-Accel-Buffering", "no");

    return streamSSE(c, async (stream) => {
      const buffered: CardEvent[] = [];
      let live = false;
      let lastSent = 0;
      const send = async (e: CardEvent) => {
        if (e.id <= lastSent) return;
        lastSent = e.id;
        await stream.writeSSE({ id: String(e.id), event: e.type, data: JSON.stringify(e) });
      };
      const { edge, unsubscribe } = await hub.subscribe((e) => {
        if (live) void send(e).catch(() => {});
        else buffered.push(e);
      });
      stream.onAbort(unsubscribe);
      try {
        if (resumeFrom === null) {
          lastSent = edge;
        } else {
          const { oldest } = await latestCardEventId(database.db);
          if (oldest > 0 && resumeFrom < oldest - 1) {
            await stream.writeSSE({ event: "reset", data: JSON.stringify({ reason: "history pruned" }) });
            lastSent = edge;
          } else {
            lastSent = resumeFrom;
            // Replay what was missed, up to where the live stream takes over.
            for (;;) {
              const page = await cardEventsAfter(database.db, lastSent);
              if (page.length === 0) break;
              for (const e of page) await send(e);
            }
          }
        }
        for (const e of buffered.splice(0)) await send(e);
        live = true;
        await stream.writeSSE({ event: "ready", data: JSON.stringify({ lastEventId: lastSent }) });
        while (!stream.aborted) {
          await stream.sleep(HEARTBEAT_MS);
          if (!stream.aborted) await stream.write(": ping\n\n");
        }
      } finally {
        unsubscribe();
      }
    });
  });
