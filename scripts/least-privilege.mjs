#!/usr/bin/env node
// Writes what the synthesized templates say into the docs, so they cannot drift from them:
//   <!-- least-privilege:start --> … <!-- least-privilege:end -->  what each role may do (docs/security.md)
//   <!-- configuration:start --> … <!-- configuration:end -->      the environment variables each function gets (docs/operations.md)
// Each marked section must appear in exactly one of the files (`--doc <path>`, repeatable, replaces the default list).
// Reads cdk.out (run `npm run synth` first). `--check` writes nothing and fails when a file differs.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const check = args.includes('--check');
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const outDir = option('--out', 'cdk.out');
const docPaths = args.flatMap((a, i) => (a === '--doc' ? [args[i + 1]] : []));
if (docPaths.length === 0) docPaths.push('docs/security.md', 'docs/operations.md');

/**
 * What each variable the stacks set means. One place: a variable the templates set without an
 * entry here fails this script (and so `npm test`); an entry no template sets fails too.
 */
const MEANINGS = {
  TABLE_NAME: 'grants table',
  TABLE_ARN: 'the table to export',
  TOPIC_ARN: 'alert topic',
  DRILL_QUEUE_URL: "drill queue: drills' alerts, read back by the drill (docs/drills.md)",
  DRILL_FUNCTION_NAME: 'drill function that POST /drills invokes asynchronously',
  SCHEDULE_GROUP: 'schedule group of the expiry schedules',
  EXPIRY_FUNCTION_ARN: 'target of the expiry schedules',
  SCHEDULER_ROLE_ARN: 'role Scheduler uses to invoke it',
  EXPIRY_DLQ_ARN: "Scheduler's dead-letter queue for expiries it could not invoke",
  SECURITY_PRINCIPALS: 'ARN patterns that may revoke any grant and use the kill switch (empty: only requesters revoke)',
  REVIEWER_PRINCIPALS: 'ARN patterns that may review ended grants (never their own)',
  REVIEW_DEADLINE_DAYS: 'days after a grant ends before its missing review is announced',
  FROZEN_PROFILES: '`*` or profile names whose activations and extensions are frozen by configuration',
  MAX_ACTIVE_PER_PRINCIPAL: 'ACTIVE grants one person may hold at once',
  AUDIT_BUCKET: 'bucket the daily export lands in (`exports/dt=<day>/`)',
  NODE_OPTIONS: 'source-mapped stack traces in the logs',
  POWERTOOLS_LOG_LEVEL: 'log level of the Powertools logger (DEBUG, INFO, WARN, ERROR; default INFO)',
  PROTECTED_RESOURCES:
    "ARN patterns of the deployment's own resources, derived at synth (`infra/protected-resources.ts`): every policy break-glass writes ends with a Deny `*` on them",
  ACCOUNT_ID:
    "the hub's account: where the profile roles of profiles naming no account are; grants name it; the activity capture ties a call only to grants of the account it was made in",
  ACCOUNT_ALIASES:
    'account id → alias (deploy context accountAliases), named in grants and alerts; never looked up live',
  AWS_PARTITION: "the partition of the profile roles' ARNs",
};

const template = (name) => {
  const file = join(outDir, `${name}.template.json`);
  if (!existsSync(file)) {
    console.error(`least-privilege: ${file} is missing; run \`npm run synth\` first`);
    process.exit(2);
  }
  return JSON.parse(readFileSync(file, 'utf8'));
};
const stateless = template('BreakGlassStateless');
const stateful = template('BreakGlassStateful');
const resources = { ...stateful.Resources, ...stateless.Resources };

const KINDS = {
  'AWS::DynamoDB::Table': 'table',
  'AWS::SNS::Topic': 'topic',
  'AWS::KMS::Key': 'key',
  'AWS::SQS::Queue': 'queue',
  'AWS::S3::Bucket': 'bucket',
  'AWS::Lambda::Function': 'function',
  'AWS::IAM::Role': 'role',
  'AWS::Logs::LogGroup': 'log group',
  'AWS::IAM::ManagedPolicy': 'policy',
  'AWS::ApiGateway::RestApi': 'API',
};
/** `ServiceCreateGrantLogs1A2B3C4D` → `CreateGrantLogs`: the construct path without the stack's prefix and CDK's hash. */
const shortName = (id) => id.replace(/^(State|Service|AuditQueries)/, '').replace(/[0-9A-F]{8}$/, '');
const label = (id) => {
  const type = resources[id]?.Type;
  return type ? `{${KINDS[type] ?? type} ${shortName(id)}}` : `{${id}}`;
};
/** Renders a CloudFormation value (intrinsics included) as readable text. */
function render(value) {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(render).join(', ');
  if (value && typeof value === 'object') {
    const [fn, arg] = Object.entries(value)[0];
    if (fn === 'Ref')
      return (
        {
          'AWS::Partition': 'aws',
          'AWS::Region': '<region>',
          'AWS::AccountId': '<account>',
          'AWS::URLSuffix': 'amazonaws.com',
        }[arg] ?? label(arg)
      );
    if (fn === 'Fn::GetAtt') return arg[1] === 'Arn' ? label(arg[0]) : `${label(arg[0])}.${arg[1]}`;
    if (fn === 'Fn::Join') return arg[1].map(render).join(arg[0]);
    if (fn === 'Fn::Sub')
      return (typeof arg === 'string' ? arg : arg[0]).replace(/\$\{AWS::(\w+)\}/g, (_, p) =>
        render({ Ref: `AWS::${p}` }),
      );
    if (fn === 'Fn::ImportValue') {
      // `BreakGlassStateful:ExportsOutputFnGetAttStateGrants6DAE5B2AArn2ADF1BE8` → the stateful resource.
      const m = /ExportsOutput(?:Ref|FnGetAtt)(\w+?[0-9A-F]{8})(\w*?)[0-9A-F]{8}$/.exec(render(arg));
      if (m && resources[m[1]]) return m[2] && m[2] !== 'Arn' ? `${label(m[1])}.${m[2]}` : label(m[1]);
      return `import ${render(arg)}`;
    }
  }
  return JSON.stringify(value);
}
// The environment `npm run synth` happened to resolve (the CLI's default region, an account from credentials) is
// shown as <region>/<account>, so the docs do not depend on the machine. Synth admits principals of the
// deployment's account only, so every literal account in these ARNs is that account.
const manifest = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8'));
const [, envAccount, envRegion] =
  /^aws:\/\/([^/]+)\/([^/]+)$/.exec(manifest.artifacts?.BreakGlassStateless?.environment ?? '') ?? [];
const normalize = (text) => {
  let out = text.replace(/:\d{12}:/g, ':<account>:');
  if (envRegion && envRegion !== 'unknown-region') out = out.split(`:${envRegion}:`).join(':<region>:');
  if (envAccount && envAccount !== 'unknown-account') out = out.split(envAccount).join('<account>');
  return out;
};
const show = (value) => normalize(render(value));
const list = (v) => (Array.isArray(v) ? v : [v]);
const code = (s) => `\`${s}\``;

// Roles, the functions that use them, and their statements.
const functions = Object.entries(stateless.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
const roleOwner = new Map(
  functions.map(([id, f]) => [f.Properties.Role['Fn::GetAtt'][0], shortName(id).replace(/Function$/, '')]),
);
// The profile roles hold nothing of their own: one summary row for them all (below), not one each.
const PROFILE_ROLE_PATH = '/breakglass/profile/';
const profileRoles = Object.values(stateless.Resources).filter(
  (r) => r.Type === 'AWS::IAM::Role' && r.Properties.Path === PROFILE_ROLE_PATH,
);
const roles = Object.entries(stateless.Resources).filter(
  ([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties.Path !== PROFILE_ROLE_PATH,
);
const statementsOf = (roleId) =>
  Object.values(stateless.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((ref) => ref.Ref === roleId))
    .flatMap((r) => r.Properties.PolicyDocument.Statement);
const managedOf = (roleId) => list(stateless.Resources[roleId].Properties.ManagedPolicyArns ?? []).map(render);

// Every function role may write its own log group and send traces; said once above the table.
const isBaseline = (action, resource, roleId) => {
  if (action === 'xray:PutTraceSegments' || action === 'xray:PutTelemetryRecords') return render(resource) === '*';
  const ownLogs = functions.find(([, f]) => f.Properties.Role['Fn::GetAtt'][0] === roleId)?.[1].Properties.LoggingConfig
    ?.LogGroup;
  return (
    (action === 'logs:CreateLogStream' || action === 'logs:PutLogEvents') &&
    ownLogs !== undefined &&
    render(resource) === render(ownLogs)
  );
};

// Canonical form, whatever way CDK grouped the statements (minimizePolicies or not): for each action the
// resources it may touch (per effect and condition), then actions with the same resources in one row.
const rows = [];
const sorted = roles.map(([id]) => [roleOwner.get(id) ?? shortName(id), id]).sort(([a], [b]) => a.localeCompare(b));
for (const [name, roleId] of sorted) {
  const isFunction = roleOwner.has(roleId);
  const perAction = new Map();
  for (const s of statementsOf(roleId)) {
    const condition = s.Condition
      ? ` (if ${Object.entries(s.Condition)
          .map(
            ([op, kv]) =>
              `${op} ${Object.entries(kv)
                .map(([k, v]) => `${k}=${show(v)}`)
                .join(', ')}`,
          )
          .join('; ')})`
      : '';
    for (const action of list(s.Action)) {
      for (const resource of list(s.Resource)) {
        if (isFunction && isBaseline(action, resource, roleId)) continue;
        const key = `${s.Effect}\u0000${action}\u0000${condition}`;
        perAction.set(key, (perAction.get(key) ?? new Set()).add(show(resource)));
      }
    }
  }
  const groups = new Map();
  for (const [key, resources] of perAction) {
    const [effect, action, condition] = key.split('\u0000');
    const on = [...resources].sort().map(code).join(', ') + condition;
    const gkey = `${effect}\u0000${on}`;
    groups.set(gkey, [...(groups.get(gkey) ?? []), action]);
  }
  const lines = [...groups.entries()]
    .map(([gkey, actions]) => {
      const [effect, on] = gkey.split('\u0000');
      return [actions.sort().map(code).join(', '), on, effect];
    })
    .sort(([a], [b]) => a.localeCompare(b));
  for (const arn of managedOf(roleId))
    lines.push([`managed policy ${code(arn.replace(/^arn:aws:iam::aws:policy\//, ''))}`, '', 'Allow']);
  if (!lines.length) lines.push(['nothing else', '', 'Allow']);
  for (const [i, [actions, on, effect]] of lines.entries()) {
    rows.push(
      `| ${i === 0 ? (isFunction ? `**${name}**` : `${name} (role)`) : ''} | ${effect === 'Allow' ? '' : `${effect}: `}${actions} | ${on} |`,
    );
  }
}
if (profileRoles.length) {
  const trusted = [
    ...new Set(
      // One principal per entry: a trust statement may name several (the drill roles' do once CDK merges them).
      profileRoles.flatMap((r) =>
        r.Properties.AssumeRolePolicyDocument.Statement.flatMap((s) => [s.Principal.AWS].flat().map(show)),
      ),
    ),
  ].join(', ');
  const trustActions = [
    ...new Set(
      profileRoles.flatMap((r) => r.Properties.AssumeRolePolicyDocument.Statement.flatMap((s) => list(s.Action))),
    ),
  ]
    .sort()
    .map(code)
    .join(', ');
  rows.push(
    `| profile roles ${profileRoles.map((r) => code(r.Properties.RoleName)).join(', ')} (path \`${PROFILE_ROLE_PATH}\`) | nothing of their own: grants' inline policies, within the profile's boundary (its statements, Deny \`*\` on \`PROTECTED_RESOURCES\`); trusted by ${trusted} for ${trustActions} only | |`,
  );
}
const functionNames = [...roleOwner.values()].sort();
const privilege = [
  `Generated from the synthesized templates by \`node scripts/least-privilege.mjs\` (checked in \`npm test\`). Every`,
  `function role (path \`/breakglass/function/\`) also holds \`logs:CreateLogStream\`, \`logs:PutLogEvents\` on its own log group and`,
  `\`xray:PutTraceSegments\`, \`xray:PutTelemetryRecords\` on \`*\` (X-Ray has no resource-level permissions). \`{kind Name}\` is the`,
  `stack's resource of that construct id; \`<account>\`, \`<region>\` the deployment's.`,
  '',
  '| role | may | on |',
  '|---|---|---|',
  ...rows,
].join('\n');

// Environment variables: one row per variable.
const env = new Map();
for (const [id, f] of functions) {
  const name = shortName(id).replace(/Function$/, '');
  for (const [key, value] of Object.entries(f.Properties.Environment?.Variables ?? {})) {
    const entry = env.get(key) ?? { functions: [], values: new Set() };
    entry.functions.push(name);
    entry.values.add(show(value));
    env.set(key, entry);
  }
}
const problems = [
  ...[...env.keys()]
    .filter((k) => !(k in MEANINGS))
    .map((k) => `the templates set ${k}, which MEANINGS in scripts/least-privilege.mjs does not explain`),
  ...Object.keys(MEANINGS)
    .filter((k) => !env.has(k))
    .map((k) => `MEANINGS explains ${k}, which no template sets`),
];
const envRows = [...env.entries()]
  .sort(([a], [b]) => a.localeCompare(b))
  .map(([key, { functions: fns, values }]) => {
    const who = fns.length === functionNames.length ? 'all' : fns.sort().join(', ');
    const shown = [...values].map((v) => code(v || '(empty)')).join(' or ');
    return `| \`${key}\` | ${who} | ${MEANINGS[key] ?? '?'} | ${shown} |`;
  });
const configuration = [
  'Generated from the synthesized templates by `node scripts/least-privilege.mjs` (checked in `npm test`), as `npm run synth` sets them:',
  '',
  '| variable | set on | meaning | value (`npm run synth`) |',
  '|---|---|---|---|',
  ...envRows,
].join('\n');

const docs = new Map(docPaths.map((path) => [path, readFileSync(path, 'utf8')]));
const original = new Map(docs);
const replace = (marker, body) => {
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  const holders = [...docs].filter(([, text]) => text.includes(start));
  if (holders.length !== 1) {
    problems.push(
      holders.length === 0
        ? `no ${start} … ${end} section in ${docPaths.join(', ')}`
        : `${start} appears in more than one file: ${holders.map(([path]) => path).join(', ')}`,
    );
    return;
  }
  const [path, text] = holders[0];
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (j < i || text.indexOf(start, i + 1) >= 0) {
    problems.push(`${path} has no single ${start} … ${end} section`);
    return;
  }
  docs.set(path, `${text.slice(0, i + start.length)}\n${body}\n${text.slice(j)}`);
};
replace('least-privilege', privilege);
replace('configuration', configuration);
if (problems.length) {
  console.error(`least-privilege: ${problems.join('\nleast-privilege: ')}`);
  process.exit(1);
}
const changed = [...docs.keys()].filter((path) => docs.get(path) !== original.get(path));
if (check) {
  if (changed.length) {
    console.error(
      `least-privilege: ${changed.join(', ')} disagree${changed.length === 1 ? 's' : ''} with the synthesized templates; run \`npm run synth && node scripts/least-privilege.mjs\` and commit the result`,
    );
    process.exit(1);
  }
  console.log(
    `least-privilege: ${docPaths.join(', ')} match the templates (${roles.length} roles, ${env.size} variables)`,
  );
} else {
  for (const path of changed) writeFileSync(path, docs.get(path));
  console.log(`least-privilege: wrote ${roles.length} roles and ${env.size} variables into ${docPaths.join(', ')}`);
}
