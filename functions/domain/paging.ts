/**
 * The paging query parameters every list route takes (`GET /grants`, `GET /audit`,
 * `GET /grants/{id}/activity`), parsed once: `limit` (1–{@link MAX_PAGE_SIZE}, default
 * {@link DEFAULT_PAGE_SIZE}) and `nextToken`, an opaque token this API issued (base64url, at most
 * {@link NEXT_TOKEN_MAX} characters). Whether a well-formed token belongs to the query is the
 * adapter's check: only it knows the key it encoded.
 */
import { ValidationError } from './errors.js';

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;
/** The longest token any list issues (an audit query's cursor carries the most keys). */
export const NEXT_TOKEN_MAX = 4096;
/** What a `nextToken` looks like (base64url). */
export const NEXT_TOKEN_PATTERN = `^[A-Za-z0-9_-]{1,${NEXT_TOKEN_MAX}}$`;
const TOKEN = new RegExp(NEXT_TOKEN_PATTERN);

export interface PageRequest {
  limit: number;
  nextToken?: string;
}

/** Validates `limit` and `nextToken` as the query string carries them. */
export function parsePage(query: {
  readonly limit?: string | undefined;
  readonly nextToken?: string | undefined;
}): PageRequest {
  let limit = DEFAULT_PAGE_SIZE;
  if (query.limit !== undefined) {
    limit = Number(query.limit);
    if (!/^\d+$/.test(query.limit) || limit < 1 || limit > MAX_PAGE_SIZE)
      throw new ValidationError(`limit must be a whole number between 1 and ${MAX_PAGE_SIZE}`);
  }
  if (query.nextToken !== undefined && !TOKEN.test(query.nextToken))
    throw new ValidationError('nextToken is not a token this API issued');
  return { limit, ...(query.nextToken ? { nextToken: query.nextToken } : {}) };
}
