import { z } from "zod";
import { sha256 } from "../lib/crypto.ts";
import { AppError } from "../lib/errors.ts";
import { bodyText, check, parseJson, toDate, verifyBearer } from "./common.ts";
import { csvSeparator, parseCsv } from "./csv.ts";
import type { IngestModule, ParseResult } from "./types.ts";

const MAX_ITEMS = 5000;

const itemSchema = z.object({
  id: z.union([z.string().min(1).max(200), z.number()]).optional(),
  text: z.string().trim().min(1, "text is empty").max(20_000),
  author: z.string().max(200).optional(),
  ts: z.union([z.string(), z.number()]).optional(),
  channel: z.string().max(100).optional(),
  /** Stars (1-5) when the feedback came with a rating; the classifier uses it. */
  rating: z.coerce.number().min(0, "rating must be 0-5").max(5, "rating must be 0-5").optional(),
});

const itemsSchema = z
  .array(itemSchema)
  .min(1, "send at least one item")
  .max(MAX_ITEMS, `at most ${MAX_ITEMS} items per request`);

type Item = z.infer<typeof itemSchema>;

/**
 * What exports call the person who wrote an item, besides `author`: it fills the author when there
 * is none, so a customer who writes again counts once (see the feedback agent).
 */
const AUTHOR_NAMES = [
  "email",
  "user",
  "user_id",
  "userid",
  "username",
  "user name",
  "customer",
  "reviewer",
  "reviewer name",
  "nickname",
];

/** A JSON item with its writer under another name given as `author` (the first such key counts). */
function withAuthor(item: unknown): unknown {
  if (typeof item !== "object" || item === null || Array.isArray(item) || "author" in item) return item;
  const entry = Object.entries(item).find(
    ([k, v]) => AUTHOR_NAMES.includes(k.toLowerCase()) && typeof v === "string" && v.trim() !== "",
  );
  return entry ? { ...item, author: entry[1] } : item;
}

/** An empty cell or a number from 0 to 5, as a star rating is. */
function isStars(cell: string | undefined): boolean {
  const v = cell?.trim() ?? "";
  return v === "" || (Number.isFinite(Number(v)) && Number(v) >= 0 && Number(v) <= 5);
}

function fromCsv(text: string): Item[] {
  let rows: string[][];
  try {
    rows = parseCsv(text, csvSeparator(text));
  } catch (err) {
    throw new AppError("bad_request", `CSV is malformed: ${(err as Error).message}`);
  }
  const [header, ...data] = rows;
  if (!header) throw new AppError("bad_request", "CSV is empty");
  // Exports from review tools name the columns differently; take the common names (Google Play's
  // review export's among them: "Review Text", "Star Rating", "Review Submit Date and Time").
  const aliases: Record<string, string> = {
    data: "text",
    body: "text",
    review: "text",
    "review text": "text",
    message: "text",
    content: "text",
    comment: "text",
    comments: "text",
    feedback: "text",
    score: "rating",
    stars: "rating",
    "star rating": "rating",
    date: "ts",
    time: "ts",
    timestamp: "ts",
    "created at": "ts",
    created_at: "ts",
    "submitted at": "ts",
    "review date": "ts",
    "review submit date and time": "ts",
    // Not "Review Link": Google Play's run past the 200 characters an id may have.
    "review id": "id",
    ...Object.fromEntries(AUTHOR_NAMES.map((n) => [n, "author"])),
  };
  const named = header.map((h) => h.trim().toLowerCase());
  // An alias counts only when the file has no column of the real name (nor an earlier alias of it).
  const columns = named.map((c, i) => {
    const target = aliases[c];
    const taken = named.slice(0, i).some((earlier) => (aliases[earlier] ?? earlier) === target);
    // A "score" out of 10 (an NPS survey's) is no star rating: that column is left out, not refused.
    if (target === "rating" && data.some((row) => !isStars(row[i]))) return c;
    return target && !named.includes(target) && !taken ? target : c;
  });
  if (!columns.includes("text")) throw new AppError("validation_failed", "CSV header needs a 'text' column");
  if (data.length > MAX_ITEMS)
    throw new AppError("validation_failed", `at most ${MAX_ITEMS} rows per request`);
  return data.map((row, i) => {
    const record: Record<string, string> = {};
    columns.forEach((c, j) => {
      const v = row[j];
      if (v !== undefined && v !== "" && ["id", "text", "author", "ts", "channel", "rating"].includes(c))
        record[c] = v;
    });
    return check(itemSchema, record, `row ${i + 2}`);
  });
}

/** Customer feedback as JSON items or CSV text (`id,text,author,ts,channel`). */
export const feedback: IngestModule = {
  verify(source, req) {
    verifyBearer(source.secret, req);
  },
  parse(_source, req): ParseResult {
    const type = req.headers.get("content-type") ?? "";
    const text = bodyText(req);
    let items: Item[];
    if (/^text\/(csv|plain)/i.test(type)) {
      items = fromCsv(text);
    } else {
      const json = parseJson(text);
      const raw = Array.isArray(json) ? json : (json as { items?: unknown } | null)?.items;
      const named = Array.isArray(raw) ? raw.map(withAuthor) : raw;
      items = Array.isArray(json) ? check(itemsSchema, named) : check(itemsSchema, named, "items");
    }
    return {
      signals: items.map((item) => {
        const externalId =
          item.id !== undefined
            ? String(item.id)
            : sha256(`${item.text}\u0000${item.author ?? ""}\u0000${item.ts ?? ""}`);
        const at = toDate(item.ts);
        return {
          kind: "feedback",
          externalId,
          fingerprint: `feedback:${externalId}`,
          payload: { ...item, id: externalId, ts: at?.toISOString() },
          occurredAt: at,
        };
      }),
      ignored: 0,
    };
  },
};
