import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { ZodType } from "zod";
import { validationError } from "./errors.ts";
import { MAX_JSON_DEPTH, nestsDeeperThan, unstorableAt } from "./storable-text.ts";

/** zod validation with one hook: the first bad field is named in the message, all are in details. */
export function validate<Target extends keyof ValidationTargets, Schema extends ZodType>(
  target: Target,
  schema: Schema,
) {
  return zValidator(target, schema, (result) => {
    if (!result.success) {
      throw validationError(
        result.error.issues.map((issue) => ({
          path: issue.path.map(String).join("."),
          message: issue.message,
        })),
      );
    }
    if (nestsDeeperThan(result.data))
      throw validationError([
        {
          path: "",
          message: `the ${target === "json" ? "body" : target} nests deeper than ${MAX_JSON_DEPTH} levels`,
        },
      ]);
    refuseUnstorable(result.data);
  });
}

/**
 * Refuses (400, naming the field) input holding text the database cannot store — a NUL, half a
 * surrogate pair — rather than failing the write.
 */
export function refuseUnstorable(value: unknown): void {
  const at = unstorableAt(value);
  if (at !== null) throw validationError([{ path: at.path, message: `holds ${at.holds}` }]);
}
