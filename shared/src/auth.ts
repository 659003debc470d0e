import { z } from "zod";

export const roles = ["admin", "reviewer"] as const;
export const roleSchema = z.enum(roles);
export type Role = z.infer<typeof roleSchema>;

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, "email is at most 254 characters")
  .pipe(z.email("email is not a valid address"));

/** Long enough to resist guessing, short enough that scrypt input stays bounded. */
export const passwordSchema = z
  .string()
  .min(10, "password needs at least 10 characters")
  .max(256, "password is at most 256 characters");

export const nameSchema = z
  .string()
  .trim()
  .min(1, "name is required")
  .max(100, "name is at most 100 characters");

export const userSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: roleSchema,
  createdAt: z.string(),
  disabled: z.boolean(),
});
export type User = z.infer<typeof userSchema>;

export const authStateSchema = z.object({
  needsSetup: z.boolean(),
  user: userSchema.nullable(),
});
export type AuthState = z.infer<typeof authStateSchema>;

export const setupInputSchema = z.object({
  token: z.string().min(1, "token is required").max(200),
  email: emailSchema,
  name: nameSchema,
  password: passwordSchema,
});
export type SetupInput = z.infer<typeof setupInputSchema>;

export const loginInputSchema = z.object({
  email: emailSchema,
  password: z.string().min(1, "password is required").max(256, "password is at most 256 characters"),
});
export type LoginInput = z.infer<typeof loginInputSchema>;

export const inviteCreateSchema = z.object({
  role: roleSchema.default("reviewer"),
  email: emailSchema.optional(),
  /** Hours until the link stops working. */
  expiresInHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(72),
});
export type InviteCreate = z.input<typeof inviteCreateSchema>;

export const inviteSchema = z.object({
  id: z.string(),
  role: roleSchema,
  email: z.string().nullable(),
  createdAt: z.string(),
  expiresAt: z.string(),
  usedAt: z.string().nullable(),
});
export type Invite = z.infer<typeof inviteSchema>;

export const inviteLookupSchema = z.object({ token: z.string().min(1, "token is required").max(200) });

export const inviteAcceptSchema = z.object({
  token: z.string().min(1, "token is required").max(200),
  email: emailSchema,
  name: nameSchema,
  password: passwordSchema,
});
export type InviteAccept = z.infer<typeof inviteAcceptSchema>;

export const userUpdateSchema = z
  .object({
    role: roleSchema.optional(),
    disabled: z.boolean().optional(),
  })
  .refine((v) => v.role !== undefined || v.disabled !== undefined, {
    message: "give role or disabled",
  });
export type UserUpdate = z.infer<typeof userUpdateSchema>;

export const apiTokenCreateSchema = z.object({
  name: z.string().trim().min(1, "name is required").max(100, "name is at most 100 characters"),
  role: roleSchema.optional(),
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});
export type ApiTokenCreate = z.infer<typeof apiTokenCreateSchema>;

export const apiTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  role: roleSchema,
  userId: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type ApiToken = z.infer<typeof apiTokenSchema>;
