import { z } from 'zod';

/** The role that lets a user into the admin console (docs/contract.md "Admin API"). */
export const ADMIN_ROLE = 'admin';

export const MAX_ROLES = 50;
export const MAX_ROLE_LENGTH = 64;

/**
 * A role: a token with no spaces, so it reads the same in a JSON array, a `--role` flag and a
 * space-separated list, e.g. "admin", "billing:read", "team/ops".
 */
export const roleSchema = z
  .string()
  .min(1, 'a role must not be empty')
  .max(MAX_ROLE_LENGTH, `a role must be at most ${MAX_ROLE_LENGTH} characters`)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, 'a role is letters, digits and . _ : / - (starting with a letter or digit)');

/** A user's roles: a set, stored sorted so that equal sets compare (and diff) equal. */
export const rolesSchema = z
  .array(roleSchema)
  .max(MAX_ROLES, `a user has at most ${MAX_ROLES} roles`)
  .superRefine((roles, ctx) => {
    const seen = new Set<string>();
    roles.forEach((r, i) => {
      if (seen.has(r)) ctx.addIssue({ code: 'custom', path: [i], message: `role "${r}" appears twice` });
      seen.add(r);
    });
  })
  .transform((roles) => [...roles].sort());

export type Roles = z.output<typeof rolesSchema>;

export const hasRole = (roles: readonly string[], role: string): boolean => roles.includes(role);
