/**
 * Configuration, read from the environment once per cold start. A missing variable throws
 * `Environment variable X is required`: no placeholder defaults that hide a missing value.
 */

import { readFileSync } from 'node:fs';
import { ENV } from '../config/env.js';
import { SETTLE_MINUTES } from '../domain/activity-summary.js';
import { ConfigurationError } from '../domain/errors.js';
import { type ProfileSet, parseProfiles } from '../domain/profile.js';

/**
 * The profile file, inlined by the bundler at synth time (esbuild `define`), so the deployed
 * function carries exactly the profiles `cdk synth` validated. Undefined outside a bundle.
 */
declare const __BREAKGLASS_PROFILES__: unknown;

export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigurationError(`Environment variable ${name} is required`);
  return value;
}

export function optionalEnv(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** A comma-separated list; empty when unset. */
export function listEnv(name: string, env: NodeJS.ProcessEnv = process.env): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The validated profiles: the bundled copy, or the file named by `PROFILES_FILE`. */
export function loadProfiles(env: NodeJS.ProcessEnv = process.env): ProfileSet {
  if (typeof __BREAKGLASS_PROFILES__ !== 'undefined')
    return parseProfiles(__BREAKGLASS_PROFILES__, 'the bundled profile file');
  const file = requireEnv(ENV.profilesFile, env);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigurationError(`Cannot read the profile file ${file}: ${(error as Error).message}`, { cause: error });
  }
  return parseProfiles(raw, file);
}

/**
 * `ACTIVITY_SETTLE_MINUTES` (default {@link SETTLE_MINUTES}): the wait after a grant's end for CloudTrail's late
 * deliveries, kept by the end-of-grant summary and by the review (the sandbox shortens it).
 */
export function settleMinutesEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = optionalEnv(ENV.activitySettleMinutes, env);
  const n = raw === undefined ? SETTLE_MINUTES : Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 24 * 60)
    throw new ConfigurationError(
      'Environment variable ACTIVITY_SETTLE_MINUTES must be a number of minutes from 0 to 1440',
    );
  return n;
}
