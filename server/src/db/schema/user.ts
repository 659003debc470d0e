import { sql } from "drizzle-orm";
import { bigint, check, index, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { timestamps, tstz } from "./columns.ts";

export const users = pgTable(
  "user",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull(),
    name: text("name").notNull(),
    passwordHash: text("password_hash").notNull(),
    role: text("role", { enum: ["admin", "reviewer"] }).notNull(),
    disabledAt: tstz("disabled_at"),
    ...timestamps,
  },
  (t) => [
    // login looks users up by lower-cased email; also enforces one account per address
    uniqueIndex("user_email_key").on(t.email),
    check("user_role_check", sql`${t.role} in ('admin', 'reviewer')`),
  ],
);

/** A browser session. The id is the SHA-256 of the cookie value, so a leaked table grants nothing. */
export const sessions = pgTable(
  "session",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: tstz("created_at").notNull().defaultNow(),
    lastSeenAt: tstz("last_seen_at").notNull().defaultNow(),
    expiresAt: tstz("expires_at").notNull(),
    userAgent: text("user_agent"),
    ip: text("ip"),
  },
  (t) => [
    // logout-everywhere and disabling a user delete a user's sessions
    index("session_user_idx").on(t.userId),
    // the periodic sweep deletes expired sessions
    index("session_expires_idx").on(t.expiresAt),
  ],
);

/** One-time links: the first-start setup link and admin invitations. Only the token's hash is kept. */
export const invites = pgTable(
  "invite",
  {
    id: text("id").primaryKey(),
    tokenHash: text("token_hash").notNull(),
    purpose: text("purpose", { enum: ["setup", "invite"] }).notNull(),
    role: text("role", { enum: ["admin", "reviewer"] }).notNull(),
    email: text("email"),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    expiresAt: tstz("expires_at").notNull(),
    usedAt: tstz("used_at"),
    usedBy: text("used_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [
    // redeeming a link finds it by the hash of the token in the URL
    uniqueIndex("invite_token_hash_key").on(t.tokenHash),
  ],
);

/** Machine credentials. Shown once at creation; only the hash and a display prefix are kept. */
export const apiTokens = pgTable(
  "api_token",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    tokenHash: text("token_hash").notNull(),
    prefix: text("prefix").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: ["admin", "reviewer"] }).notNull(),
    createdAt: tstz("created_at").notNull().defaultNow(),
    lastUsedAt: tstz("last_used_at"),
    expiresAt: tstz("expires_at"),
    revokedAt: tstz("revoked_at"),
  },
  (t) => [
    // bearer authentication finds the token by its hash on every request
    uniqueIndex("api_token_hash_key").on(t.tokenHash),
    // "my tokens" lists a user's tokens
    index("api_token_user_idx").on(t.userId),
  ],
);

/** Failed logins, kept in the database so every server process enforces the same limit. */
export const loginFailures = pgTable(
  "login_failure",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    email: text("email").notNull(),
    ip: text("ip").notNull(),
    at: tstz("at").notNull().defaultNow(),
  },
  (t) => [
    // the limiter counts recent failures per address
    index("login_failure_email_at_idx").on(t.email, t.at),
    // ... and per client IP
    index("login_failure_ip_at_idx").on(t.ip, t.at),
  ],
);
