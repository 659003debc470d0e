/**
 * A body stream (a request's, or a fetched response's), reading at most `max` bytes of it: the rest
 * is not read (the stream is cancelled), so a huge body cannot fill the server's memory. `bytes` is
 * cut to `max`; `over` says there was more.
 */
export async function readAtMost(
  body: ReadableStream<Uint8Array> | null,
  max: number,
): Promise<{ bytes: Buffer; over: boolean }> {
  if (!body) return { bytes: Buffer.alloc(0), over: false };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size <= max) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
  }
  const over = size > max;
  if (over) await reader.cancel();
  return { bytes: Buffer.concat(chunks).subarray(0, max), over };
}

/**
 * The last `max` bytes of a body stream, read through to its end while holding no more than that
 * (a CI log of hundreds of megabytes is never held whole), as text from its first whole line.
 */
export async function readTail(body: ReadableStream<Uint8Array> | null, max: number): Promise<string> {
  if (!body) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let cut = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    // Drop whole chunks that fall before the tail.
    while (chunks.length > 1 && size - (chunks[0]?.length ?? 0) >= max) {
      size -= chunks.shift()?.length ?? 0;
      cut = true;
    }
  }
  const bytes = Buffer.concat(chunks);
  if (!cut && bytes.length <= max) return bytes.toString("utf8");
  const tail = bytes.subarray(bytes.length - max);
  // Cut somewhere in a line (or a character): start at the next one.
  const newline = tail.indexOf(0x0a);
  return tail.subarray(newline + 1).toString("utf8");
}
