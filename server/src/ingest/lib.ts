// Pure helpers of the ingest modules, exported together for unit tests.
export { parseCsv } from "./csv.ts";
export { parsePath, readPath, readText } from "./jsonpath.ts";
export { parseEnvelope } from "./sentry.ts";
export { errorGroupFingerprint, normalizeMessage } from "./sentry-grouping.ts";
