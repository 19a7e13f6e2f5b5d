/** The public shape of a grant: everything but the bookkeeping counters. */
import type { Grant } from '../domain/grant.js';

export function grantView(grant: Grant): Omit<Grant, 'version' | 'eventCount'> {
  const { version: _v, eventCount: _c, ...view } = grant;
  return view;
}
