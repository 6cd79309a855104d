import { z } from 'zod';
import { userClaimsSchema } from './claims.js';
import { rolesSchema } from './roles.js';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './password.js';

export const usernameSchema = z
  .string()
  .min(1, 'username must not be empty')
  .max(100, 'username must be at most 100 characters')
  .regex(/^[^\s\p{C}]+$/u, 'username must not contain spaces or control characters');

export const passwordSchema = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `password must be at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(MAX_PASSWORD_LENGTH, `password must be at most ${MAX_PASSWORD_LENGTH} characters`);

/** A user in the bootstrap file (docs/contract.md). */
export const bootstrapUserSchema = z.strictObject({
  username: usernameSchema,
  password: passwordSchema,
  claims: userClaimsSchema.default({}),
  /**
   * e.g. ["admin"] (lets the user into the admin console). Absent: a new user has none and an
   * existing user keeps those given since through the CLI or the admin API.
   */
  roles: rolesSchema.optional(),
});

export type BootstrapUser = z.output<typeof bootstrapUserSchema>;
