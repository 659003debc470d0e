import { z } from "zod";

/** Where a source's issues are opened: a GitHub repository. */
export const repositorySetting = z
  .string()
  .regex(/^[\w.-]+\/[\w.-]+$/, 'must be a GitHub repository as "owner/name"')
  .optional();
