import { z } from "zod";

/** Where a source's issues are opened: a GitHub repository. */
const repository = z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be a GitHub repository as "owner/name"');
export const repositorySetting = repository.optional();

/**
 * The repositories whose deploys can break what a source reports (its service's, and whatever
 * deploys it): trouble there is blamed only on their deploys. Absent or empty: on any deploy.
 */
export const deploysSetting = z.array(repository).max(20, "names at most 20 repositories").optional();

/** A source's `deploys` setting read loosely (as stored), lower case; null when it names none. */
export function deploysOf(settings: Record<string, unknown>): Set<string> | null {
  const parsed = deploysSetting.safeParse(settings.deploys);
  return parsed.success && parsed.data?.length ? new Set(parsed.data.map((r) => r.toLowerCase())) : null;
}
