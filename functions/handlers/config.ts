/**
 * Configuration, read from the environment once per cold start. A missing variable throws
 * `Environment variable X is required`: no placeholder defaults that hide a missing value.
 */

import { readFileSync } from 'node:fs';
import { ENV } from '../config/env.js';
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
