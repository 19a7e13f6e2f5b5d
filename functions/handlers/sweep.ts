/**
 * Scheduled every few minutes (EventBridge rule): reconcile IAM with the table. The entities
 * to sweep are those the profiles name (the same set the functions may write policies on).
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { sweep, sweepTargets, type SweepReport } from '../domain/sweep.js';
import { log } from './log.js';
import { access, clock, notifier, profileRisks, profiles, scheduler, store } from './wiring.js';

const ports = { store: store(), access: access(), scheduler: scheduler(), notifier: notifier(), clock, profileRisks: profileRisks(), log };
const targets = sweepTargets(profiles());

export const lambdaHandler = async (_event?: unknown, _context?: Context): Promise<SweepReport> => {
  const report = await sweep(ports, targets);
  log.info({ msg: 'sweep done', ...report });
  return report;
};

export const handler = middy<unknown, SweepReport>().handler(lambdaHandler);
