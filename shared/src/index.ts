export * from "./auth.ts";
export * from "./error-body.ts";
export * from "./errors.ts";
