/**
 * Request bodies as the API accepts them. Strict: an unknown field is an error, so a typo
 * such as `duration` is caught instead of silently ignored.
 */
import { z } from 'zod';
import { ValidationError } from './errors.js';
import { REVIEW_OUTCOMES } from './grant.js';

export const REASON_MIN = 10;
export const REASON_MAX = 1000;
export const TICKET_MAX = 128;

export const activationRequestSchema = z
  .object({
    profile: z.string({ error: 'profile is required and must be a string' }).min(1, 'profile is required').max(64, 'profile is at most 64 characters'),
    reason: z.string({ error: 'reason is required and must be a string' }),
    durationMinutes: z
      .number({ error: 'durationMinutes must be a number' })
      .int('durationMinutes must be a whole number of minutes')
      .optional(),
    ticket: z.string({ error: 'ticket must be a string' }).optional(),
  })
  .strict();
export type ActivationRequest = z.infer<typeof activationRequestSchema>;

export const revokeRequestSchema = z
  .object({
    reason: z.string({ error: 'reason is required and must be a string' }),
  })
  .strict();
export type RevokeRequest = z.infer<typeof revokeRequestSchema>;

export const reviewRequestSchema = z
  .object({
    outcome: z.enum(REVIEW_OUTCOMES, { error: `outcome must be ${REVIEW_OUTCOMES.map((o) => `"${o}"`).join(' or ')}` }),
    notes: z.string({ error: 'notes is required and must be a string' }),
  })
  .strict();
export type ReviewRequest = z.infer<typeof reviewRequestSchema>;

/** Parses with a schema, turning every issue into one readable {@link ValidationError}. */
export function parseRequest<T>(schema: z.ZodType<T>, body: unknown): T {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError('The request body must be a JSON object');
  }
  const result = schema.safeParse(body);
  if (!result.success) {
    const messages = result.error.issues.map((i) =>
      i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}` : i.message,
    );
    throw new ValidationError(messages.join('; '));
  }
  return result.data;
}

/** A reason a reviewer can read: trimmed length within bounds, not one repeated character. */
export function checkReason(raw: string, field = 'reason'): string {
  const reason = raw.trim();
  if (reason.length < REASON_MIN) {
    throw new ValidationError(`${field} must be at least ${REASON_MIN} characters: say what is broken and why you need this access`);
  }
  if (reason.length > REASON_MAX) throw new ValidationError(`${field} must be at most ${REASON_MAX} characters`);
  if (new Set(reason.replace(/\s/g, '').toLowerCase()).size < 4) {
    throw new ValidationError(`${field} must describe the emergency, not repeat a few characters`);
  }
  return reason;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Grant ids are UUIDs; anything else (paths, ARNs, traversal) is refused before any lookup. */
export function checkGrantId(id: string | undefined): string {
  if (!id || !UUID.test(id)) throw new ValidationError('grant id must be a UUID such as 0f8fad5b-d9cb-469f-a165-70867728950e');
  return id;
}
