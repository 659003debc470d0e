/**
 * A fetched response's body as text, reading at most `max` bytes of it: the rest is not read
 * (the stream is cancelled), so a huge answer cannot fill the server's memory. `over` says there
 * was more.
 */
export async function readAtMost(res: Response, max: number): Promise<{ text: string; over: boolean }> {
  if (!res.body) return { text: "", over: false };
  const reader = res.body.getReader();
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
  return { text: Buffer.concat(chunks).subarray(0, max).toString("utf8"), over };
}
