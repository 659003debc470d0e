import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";
import { AppError } from "../lib/errors.ts";
import { readAtMost } from "../lib/read-body.ts";
import { SnappyTooLarge, snappyUncompress } from "./snappy.ts";

/**
 * Reads a request body up to `limit` bytes, stopping as soon as it is exceeded (413), and undoes
 * gzip/deflate/br (and snappy, as Prometheus remote write sends) content encoding with the same
 * limit on the inflated size (zip bombs get 413 too).
 */
export async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) throw tooLarge(limit);
  const { bytes: raw, over } = await readAtMost(request.body, limit);
  if (over) throw tooLarge(limit);
  const encoding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  if (encoding === "identity" || encoding === "") return raw;
  try {
    const options = { maxOutputLength: limit };
    if (encoding === "gzip" || encoding === "x-gzip") return gunzipSync(raw, options);
    if (encoding === "deflate") return inflateSync(raw, options);
    if (encoding === "br") return brotliDecompressSync(raw, options);
    if (encoding === "snappy") return snappyUncompress(raw, limit);
  } catch (err) {
    if (
      (err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" ||
      err instanceof RangeError ||
      err instanceof SnappyTooLarge
    )
      throw tooLarge(limit);
    throw new AppError("bad_request", `body is not valid ${encoding}: ${(err as Error).message}`);
  }
  throw new AppError(
    "unsupported_media_type",
    `Content-Encoding ${encoding} is not supported (use gzip, deflate, br or snappy)`,
  );
}

function tooLarge(limit: number): AppError {
  return new AppError("payload_too_large", `request body is larger than ${limit} bytes`);
}
