/** Daily (EventBridge rule): announce grants that ended more than REVIEW_DEADLINE_DAYS ago and are unreviewed. */
import type { Context } from 'aws-lambda';
import { checkOverdueReviews, type ReviewCheckReport } from '../domain/review-check.js';
import { jobHandler } from './factory.js';
import { domainLog as log } from './observability.js';
import { auditLog, clock, notifier, reviewDeadlineDays } from './wiring.js';

const ports = { audit: auditLog(), notifier: notifier(), clock, log };
const deadlineDays = reviewDeadlineDays();

export const lambdaHandler = async (_event?: unknown, _context?: Context): Promise<ReviewCheckReport> => {
  const report = await checkOverdueReviews(ports, deadlineDays);
  log.info({ msg: 'review check done', ...report });
  return report;
};

export const handler = jobHandler('check-reviews', lambdaHandler);
