/**
 * Scheduler target: `{ "grantId": "<uuid>" }` at the grant's expiry. Idempotent. Scheduler invokes
 * it asynchronously, so a failed detach throws to Lambda, which runs it twice more (about 1 and 2
 * minutes later) and then sends its invocation record to the function's on-failure queue
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
 */
import type { Context } from 'aws-lambda';
import { type ExpiryOutcome, expireGrant } from '../domain/expire-grant.js';
import { checkGrantId } from '../domain/requests.js';
import { jobHandler } from './factory.js';
import { domainLog as log } from './observability.js';
import { access, accountDirectory, clock, notifier, profileRisks, store } from './wiring.js';

const ports = {
  store: store(),
  access: access(),
  notifier: notifier(),
  clock,
  profileRisks: profileRisks(),
  ...(accountDirectory().hub ? { hubAccount: accountDirectory().hub! } : {}),
  log,
};

export interface ExpiryEvent {
  readonly grantId?: unknown;
}

export const lambdaHandler = async (
  event: ExpiryEvent,
  _context?: Context,
): Promise<{ grantId: string; outcome: ExpiryOutcome }> => {
  // A malformed event can never succeed; say so in the log and let it reach the on-failure queue.
  const grantId = checkGrantId(typeof event?.grantId === 'string' ? event.grantId : undefined);
  const { outcome } = await expireGrant(ports, grantId);
  log.info({ msg: 'expiry handled', grantId, outcome });
  return { grantId, outcome };
};

export const handler = jobHandler('expire-grant', lambdaHandler);
