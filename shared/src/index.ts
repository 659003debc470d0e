export * from "./auth.ts";
export * from "./cards.ts";
export * from "./decisions.ts";
export * from "./describe.ts";
export * from "./error-body.ts";
export * from "./errors.ts";
export * from "./push.ts";
export * from "./sources.ts";
