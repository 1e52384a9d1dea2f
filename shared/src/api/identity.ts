import { z } from 'zod';
import { AUTH_METHODS, Role } from '../auth/principal.ts';
import { Id } from '../ids.ts';

// Control characters (C0, DEL, C1) and the Unicode line/paragraph separators: never part of an
// email address or a name, and dangerous in logs and headers.
const CONTROL = /[\p{Cc}\u2028\u2029]/u;

/**
 * An email address as AEX stores it: trimmed, at most 254 characters (RFC 5321), one `@`, no
 * spaces or control characters, a dotted host name after the `@`. Single-label hosts are
 * allowed (`admin@localhost` is the built-in first admin). Compared case-insensitively.
 */
export const Email = z
  .string()
  .trim()
  .min(3)
  .max(254)
  .refine((v) => !CONTROL.test(v), 'must not contain control characters')
  .refine(
    (v) =>
      /^[^\s@"(),:;<>[\]\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(
        v,
      ),
    'must be an email address like ann@example.org',
  );

/** Shortest password AEX sets (NIST SP 800-63B asks for at least 8; AEX asks 12). */
export const MIN_PASSWORD_LENGTH = 12;
/** Longest password accepted: bounds the work one request can ask of argon2. */
export const MAX_PASSWORD_LENGTH = 1024;

/** A new password: 12 to 1024 characters, anything else is the owner's choice. */
export const NewPassword = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(MAX_PASSWORD_LENGTH);

/** A person's or a key's name as shown in lists and audit records. */
export const DisplayName = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .refine((v) => !CONTROL.test(v), 'must not contain control characters');

/** `POST /api/v1/auth/login`. The email is not checked for shape: any miss is one 401. */
export const LoginRequest = z
  .object({
    email: z
      .string()
      .trim()
      .min(1)
      .max(254)
      .refine((v) => !CONTROL.test(v), 'must not contain control characters'),
    password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
  })
  .strict()
  .meta({ id: 'LoginRequest' });
export type LoginRequest = z.infer<typeof LoginRequest>;

/** An opaque refresh token as issued: 32 random bytes, base64url. */
export const RefreshTokenValue = z
  .string()
  .regex(/^[A-Za-z0-9_-]{43}$/, 'must be a refresh token as issued by /api/v1/auth/login');

export const RefreshRequest = z
  .object({ refreshToken: RefreshTokenValue })
  .strict()
  .meta({ id: 'RefreshRequest' });
export const LogoutRequest = z
  .object({ refreshToken: RefreshTokenValue })
  .strict()
  .meta({ id: 'LogoutRequest' });

/** What login and refresh answer: an access token (a JWT) and the refresh token to use next. */
export const TokenResponse = z
  .object({
    accessToken: z.string(),
    refreshToken: z.string(),
    tokenType: z.literal('Bearer'),
    /** Seconds until the access token expires. */
    expiresIn: z.number().int(),
  })
  .meta({ id: 'TokenResponse' });
export type TokenResponse = z.infer<typeof TokenResponse>;

/** `GET /api/v1/auth/me`: who the request's credentials say it is. */
export const PrincipalBody = z
  .object({
    subject: z.string(),
    role: Role.nullable(),
    method: z.enum(AUTH_METHODS),
    displayName: z.string().optional(),
  })
  .meta({ id: 'Principal' });

/** A user of the built-in issuer (never with its password hash). */
export const User = z
  .object({
    id: Id,
    email: z.string(),
    displayName: z.string(),
    role: Role,
    disabled: z.boolean(),
    createdAt: z.iso.datetime({ offset: true }),
    createdBy: z.string(),
    updatedAt: z.iso.datetime({ offset: true }),
    updatedBy: z.string(),
  })
  .meta({ id: 'User' });
export type User = z.infer<typeof User>;

export const UserList = z.object({ items: z.array(User) }).meta({ id: 'UserList' });

export const CreateUser = z
  .object({
    email: Email,
    displayName: DisplayName.optional().meta({ description: 'Default: the email address' }),
    role: Role,
    password: NewPassword,
  })
  .strict()
  .meta({ id: 'CreateUser' });
export type CreateUser = z.infer<typeof CreateUser>;

export const UpdateUser = z
  .object({
    displayName: DisplayName.optional(),
    role: Role.optional(),
    disabled: z.boolean().optional(),
    password: NewPassword.optional().meta({
      description: "Sets a new password and ends the user's sessions",
    }),
  })
  .strict()
  .meta({ id: 'UpdateUser' });
export type UpdateUser = z.infer<typeof UpdateUser>;

/** An API key as listed: never its secret. */
export const ApiKey = z
  .object({
    id: Id,
    name: z.string(),
    role: Role,
    createdBy: z.string(),
    createdAt: z.iso.datetime({ offset: true }),
    lastUsedAt: z.iso.datetime({ offset: true }).nullable(),
    expiresAt: z.iso.datetime({ offset: true }).nullable(),
    revokedAt: z.iso.datetime({ offset: true }).nullable(),
  })
  .meta({ id: 'ApiKey' });
export type ApiKey = z.infer<typeof ApiKey>;

export const ApiKeyList = z.object({ items: z.array(ApiKey) }).meta({ id: 'ApiKeyList' });

export const CreateApiKey = z
  .object({
    name: DisplayName,
    role: Role,
    expiresAt: z.iso
      .datetime({ offset: true })
      .optional()
      .meta({ description: 'When the key stops working; default never' }),
  })
  .strict()
  .meta({ id: 'CreateApiKey' });
export type CreateApiKey = z.infer<typeof CreateApiKey>;

/** A new API key with its secret: the only time `key` is shown. */
export const CreatedApiKey = ApiKey.extend({
  key: z.string().meta({ description: '`aex_<id>_<secret>`: shown once, store it now' }),
}).meta({ id: 'CreatedApiKey' });
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;
