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
