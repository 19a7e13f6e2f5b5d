/**
 * Request bodies as the API accepts them. Strict: an unknown field is an error, so a typo
 * such as `duration` is caught instead of silently ignored.
 */
import * as z from 'zod';
import { ValidationError } from './errors.js';
import { REVIEW_OUTCOMES } from './grant.js';

/**
 * The text rules, one per field (docs/reference-api.md lists which applies where):
 * - a **justification** (`reason` of an activation or extension, `notes` of a review) is what a
 *   reviewer reads later: at least {@link REASON_MIN} characters after trimming, not one repeated
 *   character ({@link checkReason});
 * - a **stop reason** (`reason` of a revocation, freeze, unfreeze or revoke-all) must only be
 *   present (not blank): stopping access must never be harder than granting it ({@link checkStopReason}).
 * Every one is at most {@link REASON_MAX} characters as sent (the schemas below, hence API Gateway's
 * request models, carry that limit; no padding).
 */
export const REASON_MIN = 10;
export const REASON_MAX = 1000;
export const TICKET_MAX = 128;
/** Profile names (`profile.ts` allows at most 64 characters). */
export const PROFILE_NAME_MAX = 64;

/** A justification or stop reason as sent: a string of at most {@link REASON_MAX} characters. */
const reasonText = (field: string) =>
  z
    .string({ error: `${field} is required and must be a string` })
    .max(REASON_MAX, `${field} must be at most ${REASON_MAX} characters`);

/**
 * Characters a ticket may never hold: C0/C1 controls (CR, LF, NEL, escape sequences…), format
 * characters (bidi overrides, which disguise text), line and paragraph separators (U+2028/U+2029).
 * A ticket is one line of printable text; alerts render it in place.
 */
export const TICKET_FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

export const activationRequestSchema = z
  .object({
    profile: z
      .string({ error: 'profile is required and must be a string' })
      .min(1, 'profile is required')
      .max(PROFILE_NAME_MAX, `profile is at most ${PROFILE_NAME_MAX} characters`),
    reason: reasonText('reason'),
    durationMinutes: z
      .number({ error: 'durationMinutes must be a number' })
      .int('durationMinutes must be a whole number of minutes')
      .optional(),
    ticket: z
      .string({ error: 'ticket must be a string' })
      .max(TICKET_MAX, `ticket must be at most ${TICKET_MAX} characters`)
      .refine(
        (t) => !TICKET_FORBIDDEN.test(t),
        'ticket must be one line of printable text: no control characters, line breaks or bidi overrides',
      )
      .optional(),
    account: z
      .string({ error: 'account must be a string' })
      .regex(/^\d{12}$/, 'account must be a 12-digit AWS account id')
      .optional(),
  })
  .strict();
export type ActivationRequest = z.infer<typeof activationRequestSchema>;

export const revokeRequestSchema = z.object({ reason: reasonText('reason') }).strict();
export type RevokeRequest = z.infer<typeof revokeRequestSchema>;

export const extensionRequestSchema = z
  .object({
    minutes: z
      .number({ error: 'minutes is required and must be a number' })
      .int('minutes must be a whole number')
      .min(1, 'minutes must be at least 1'),
    reason: reasonText('reason'),
  })
  .strict();
export type ExtensionRequest = z.infer<typeof extensionRequestSchema>;

/** `POST /freeze`, `/unfreeze`, `/revoke-all`: every profile, or the one named. */
export const controlRequestSchema = z
  .object({
    profile: z
      .string({ error: 'profile must be a string' })
      .min(1, 'profile must not be empty')
      .max(PROFILE_NAME_MAX, `profile is at most ${PROFILE_NAME_MAX} characters`)
      .optional(),
    reason: reasonText('reason'),
  })
  .strict();
export type ControlRequest = z.infer<typeof controlRequestSchema>;

export const reviewRequestSchema = z
  .object({
    outcome: z.enum(REVIEW_OUTCOMES, { error: `outcome must be ${REVIEW_OUTCOMES.map((o) => `"${o}"`).join(' or ')}` }),
    notes: reasonText('notes'),
  })
  .strict();
export type ReviewRequest = z.infer<typeof reviewRequestSchema>;

/** How a drill ends its grant: revoked by the drill, or left to expire (docs/drills.md). */
export const DRILL_MODES = ['revoke', 'expire'] as const;
export type DrillMode = (typeof DRILL_MODES)[number];

/** `POST /drills`: the body may be left out, and `mode` too (then `revoke`). */
export const drillRequestSchema = z
  .object({
    mode: z.enum(DRILL_MODES, { error: `mode must be one of ${DRILL_MODES.join(', ')}` }).optional(),
  })
  .strict();
export type DrillRequestBody = z.infer<typeof drillRequestSchema>;

/** A drill id in a path (`GET /drills/{id}`): what the drill store's keys are made of, and no more. */
export const DRILL_ID_PATTERN = /^[\w-]{1,64}$/;

/**
 * Parses with a schema, turning every issue into one readable {@link ValidationError}. Every
 * string in the body must be well-formed Unicode first (see {@link checkWellFormed}).
 */
export function parseRequest<T>(schema: z.ZodType<T>, body: unknown): T {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError('The request body must be a JSON object');
  }
  checkWellFormed(body);
  const result = schema.safeParse(body);
  if (!result.success) {
    const messages = result.error.issues.map((i) =>
      i.code === 'unrecognized_keys'
        ? `unknown field(s): ${i.keys.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}`
        : i.message,
    );
    throw new ValidationError(messages.join('; '));
  }
  return result.data;
}

/**
 * Refuses a body holding any string (value or key, at any depth) that is not well-formed
 * Unicode: a lone UTF-16 surrogate such as `"\\ud800"`, which JSON escapes can carry. DynamoDB
 * stores strings as "Unicode with UTF-8 binary encoding"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html),
 * and a lone surrogate has no UTF-8 form: the write would fail after the request was accepted
 * (a 500, or a denied attempt left unrecorded). Iterative, so deep nesting cannot overflow the stack.
 */
export function checkWellFormed(body: unknown): void {
  const pending: Array<{ value: unknown; path: string }> = [{ value: body, path: 'body' }];
  while (pending.length) {
    const { value, path } = pending.pop()!;
    if (typeof value === 'string') {
      if (!wellFormed(value))
        throw new ValidationError(
          `${clip(path, 120)} is not well-formed Unicode (it holds a lone UTF-16 surrogate such as \\ud800); send valid text`,
        );
    } else if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) pending.push({ value: item, path: `${path}[${i}]` });
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (!wellFormed(key))
          throw new ValidationError(
            `a field name in ${clip(path, 120)} is not well-formed Unicode (it holds a lone UTF-16 surrogate); send valid text`,
          );
        pending.push({ value: item, path: `${path}.${clip(key, 40)}` });
      }
    }
  }
}

/**
 * `String.prototype.isWellFormed` (ES2024), as a regular expression so the ES2022 typings compile:
 * with the `u` flag a surrogate pair reads as one code point, so `\p{Cs}` matches only a lone one.
 */
export function wellFormed(text: string): boolean {
  return !/\p{Cs}/u.test(text);
}

/** At most `max` UTF-16 units, never cutting a surrogate pair in half (which would leave a lone surrogate). */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  return /[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/** A justification a reviewer can read: trimmed length within bounds, not one repeated character. */
export function checkReason(raw: string, field = 'reason'): string {
  const reason = raw.trim();
  if (reason.length < REASON_MIN) {
    throw new ValidationError(
      `${field} must be at least ${REASON_MIN} characters: say what is broken and why you need this access`,
    );
  }
  if (reason.length > REASON_MAX) throw new ValidationError(`${field} must be at most ${REASON_MAX} characters`);
  if (new Set(reason.replace(/\s/g, '').toLowerCase()).size < 4) {
    throw new ValidationError(`${field} must describe the emergency, not repeat a few characters`);
  }
  return reason;
}

/** A stop reason: present after trimming, within bounds. */
export function checkStopReason(raw: string, field = 'reason', hint = 'say why'): string {
  const reason = raw.trim();
  if (!reason) throw new ValidationError(`${field} is required: ${hint}`);
  if (reason.length > REASON_MAX) throw new ValidationError(`${field} must be at most ${REASON_MAX} characters`);
  return reason;
}

/** A grant id: a UUID (lower-case hex, as `randomUUID` makes them). */
export const GRANT_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Grant ids are UUIDs; anything else (paths, ARNs, traversal) is refused before any lookup. */
export function checkGrantId(id: string | undefined): string {
  if (!id || !GRANT_ID_PATTERN.test(id))
    throw new ValidationError('grant id must be a UUID such as 0f8fad5b-d9cb-469f-a165-70867728950e');
  return id;
}
