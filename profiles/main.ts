/**
 * `npm run profiles -- check <file>`: what `cdk synth` checks of a profile file, for a team's
 * CI: the schema, the limits, and every escalation risk classified and acknowledged.
 *
 * 1. read — the file as JSON;
 * 2. check — `parseProfiles` with the IAM-data classifier;
 * 3. exit — 0 valid (each profile's acknowledged risks on stdout), 1 invalid (every problem on
 *    stderr), 2 bad usage or a file that cannot be read or is not JSON. Never a stack trace.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ProfileConfigError } from '../functions/domain/errors.js';
import { acknowledgedRisks, parseProfiles } from '../functions/domain/profile.js';
import { RISK_CLASSES } from '../functions/domain/risk.js';
import { iamRiskCheck } from './iam-catalog.js';

export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

export const USAGE = `Usage: npm run profiles -- check <file>

Validates a break-glass profile file as cdk synth does: the schema, the limits, and the
escalation risks. Every action a profile allows (wildcards expanded against the IAM action
data) falls in at most one risk class; a profile must acknowledge each class it reaches:
  "acknowledgedRisks": { "<class>": "<why, at least 20 characters>" }

Risk classes:
${Object.entries(RISK_CLASSES)
  .map(([name, what]) => `  ${name.padEnd(24)}${what}`)
  .join('\n')}

Exit status: 0 valid; 1 invalid (every problem listed); 2 bad usage, or a file that cannot be
read or is not JSON.
`;

export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const processIo: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/** Runs the command; returns the exit status instead of exiting. */
export function run(argv: readonly string[], io: Io = processIo): number {
  if (argv.includes('-h') || argv.includes('--help')) {
    io.out(USAGE);
    return EXIT_OK;
  }
  const [command, file, ...rest] = argv;
  if (command !== 'check' || !file || rest.length > 0) {
    io.err(
      `${command === undefined ? 'a command is required' : command !== 'check' ? `unknown command "${command}"` : !file ? 'check needs a file' : `unexpected arguments: ${rest.join(' ')}`}\n\n${USAGE}`,
    );
    return EXIT_USAGE;
  }
  // 1. read
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    io.err(`${file}: cannot read it as JSON: ${(error as Error).message}\n`);
    return EXIT_USAGE;
  }
  // 2. check
  try {
    const set = parseProfiles(raw, file, iamRiskCheck());
    // 3. exit
    io.out(`${file}: ${set.profiles.length} profile${set.profiles.length === 1 ? '' : 's'} valid\n`);
    for (const profile of set.profiles) {
      const risks = acknowledgedRisks(profile);
      io.out(
        `  ${profile.name}: ${risks.length ? `acknowledges ${risks.map((r) => `${r.riskClass} ("${r.justification}")`).join(', ')}` : 'no escalation risk'}\n`,
      );
    }
    return EXIT_OK;
  } catch (error) {
    if (!(error instanceof ProfileConfigError)) throw error;
    io.err(`${error.message}\n`);
    return EXIT_INVALID;
  }
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  try {
    process.exitCode = run(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`profiles: ${(error as Error).message}\n`);
    process.exitCode = EXIT_USAGE;
  }
}
