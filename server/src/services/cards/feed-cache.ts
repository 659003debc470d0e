import { gzipSync } from "node:zlib";
import { sql } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { cardEvents } from "../../db/schema/index.ts";
import { feedPage } from "./read.ts";

export function gzipJson(json: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(gzipSync(json, { level: 6 }));
}

/** A serialized first page of the feed, with its gzip made once on first demand. */
export class CachedPage {
  private gzipped: Uint8Array<ArrayBuffer> | undefined;

  constructor(
    /** The newest card event when the page was read: the page is at least that fresh. */
    readonly eventId: number,
    readonly limit: number,
    readonly json: string,
  ) {}

  get etag(): string {
    return `W/"feed-${this.eventId}-${this.limit}"`;
  }

  gzip(): Uint8Array<ArrayBuffer> {
    this.gzipped ??= gzipJson(this.json);
    return this.gzipped;
  }
}

/**
 * The first page of the feed is the same for every reviewer and read far more often than cards
 * change: every phone opening the app asks for it. It is kept serialized per page size and keyed
 * by the newest card event id, which every change to a card advances in its own transaction
 * (see cardEvents in the schema). A request costs one index lookup while nothing has changed and
 * is never staler than the database: the key is read before the page, so a cached page reflects at
 * least the state its key names. Each process keeps its own; pages further down are not cached.
 */
export class FeedPageCache {
  private readonly pages = new Map<number, CachedPage>();

  async firstPage(db: Queryable, limit: number): Promise<CachedPage> {
    const [row] = await db
      .select({ id: sql<number>`coalesce(max(${cardEvents.id}), 0)::int` })
      .from(cardEvents);
    const eventId = Number(row?.id ?? 0);
    const hit = this.pages.get(limit);
    if (hit && hit.eventId === eventId) return hit;
    const page = new CachedPage(eventId, limit, JSON.stringify(await feedPage(db, { limit })));
    this.pages.set(limit, page);
    return page;
  }
}
