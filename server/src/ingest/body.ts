import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";
import { AppError } from "../lib/errors.ts";
import { SnappyTooLarge, snappyUncompress } from "./snappy.ts";

/**
 * Reads a request body up to `limit` bytes, stopping as soon as it is exceeded (413), and undoes
 * gzip/deflate/br (and snappy, as Prometheus remote write sends) content encoding with the same
 * limit on the inflated size (zip bombs get 413 too).
 */
export async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) throw tooLarge(limit);
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > limit) {
        await reader.cancel();
        throw tooLarge(limit);
      }
      chunks.push(value);
    }
  }
  const raw = Buffer.concat(chunks);
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
