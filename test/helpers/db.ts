import type { Queryable } from "@flick/server/db";
import * as schema from "@flick/server/schema";

const tables = {
  user: schema.users,
  session: schema.sessions,
  invite: schema.invites,
  api_token: schema.apiTokens,
  login_failure: schema.loginFailures,
  source: schema.sources,
  signal: schema.signals,
  card: schema.cards,
  decision: schema.decisions,
} as const;

export async function countRows(db: Queryable, table: keyof typeof tables): Promise<number> {
  return db.$count(tables[table]);
}
