import { webhookMappingSchema } from "@flick/shared";
import { AppError } from "../lib/errors.ts";
import { bodyText, parseJson, verifyBearer } from "./common.ts";
import type { IngestModule, ParsedSignal, ParseResult } from "./types.ts";
import { readWebhook, webhookContentId } from "./webhook-map.ts";

const MAX_ITEMS = 1000;

/** Any JSON (an object, or an array of them as a batch), mapped to a title and fingerprint by the source's settings. */
export const webhook: IngestModule = {
  verify(source, req) {
    verifyBearer(source.secret, req);
  },
  parse(source, req): ParseResult {
    const mapping = webhookMappingSchema.parse(source.settings);
    const json = parseJson(bodyText(req));
    const items = Array.isArray(json) ? json : [json];
    if (items.length === 0) throw new AppError("validation_failed", "the array is empty");
    if (items.length > MAX_ITEMS)
      throw new AppError("validation_failed", `at most ${MAX_ITEMS} items per request`);
    const headerId = req.headers.get("idempotency-key") ?? req.headers.get("x-request-id");
    const signals: ParsedSignal[] = items.map((item, i) => {
      if (typeof item !== "object" || item === null || Array.isArray(item)) {
        throw new AppError(
          "validation_failed",
          `${Array.isArray(json) ? `[${i}]: ` : ""}each item must be a JSON object`,
        );
      }
      const parts = readWebhook(item, mapping);
      if (mapping.idPath && parts.id === undefined) {
        throw new AppError(
          "validation_failed",
          `${Array.isArray(json) ? `[${i}].` : ""}${mapping.idPath.replace(/^\$\.?/, "")}: is missing (the source's idPath)`,
        );
      }
      const externalId =
        parts.id ??
        (headerId && items.length === 1 ? headerId.slice(0, 200) : webhookContentId(JSON.stringify(item)));
      const key = parts.key ?? externalId;
      return { kind: "webhook", externalId, fingerprint: `webhook:${source.id}:${key}`, payload: item };
    });
    return { signals, ignored: 0 };
  },
};
