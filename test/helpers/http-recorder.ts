import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
  /** The body's bytes, for binary uploads (multipart audio). */
  raw: Buffer;
}

/**
 * A local HTTP server standing in for an outside API (GitHub's REST routes, a rollback hook): it
 * records every request and answers with whatever `respond` says.
 */
export async function startRecorder(
  respond: (
    req: RecordedRequest,
  ) =>
    | { status: number; body?: unknown; text?: string }
    | Promise<{ status: number; body?: unknown; text?: string }>,
): Promise<{ url: string; requests: RecordedRequest[]; close(): Promise<void> }> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const recorded = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
        raw: Buffer.concat(chunks),
      };
      requests.push(recorded);
      const answer = await respond(recorded);
      if (answer.text !== undefined) {
        res.writeHead(answer.status, { "content-type": "text/plain" });
        res.end(answer.text);
        return;
      }
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
