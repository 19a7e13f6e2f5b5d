/** Shared by the infra tests: build the app as `cdk synth` would, and read function policies from a template. */
import { App } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../infra/app.js';
import { FUNCTION_ROLE_PATH } from '../../infra/constructs/breakglass-function.js';

export type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
export const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
export const resourcesOf = (s: Statement): unknown[] => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

export const SECURITY = 'arn:aws:iam::123456789012:role/Security';

/**
 * The app as `cdk synth` builds it from `context`. `bundle: false` skips esbuild (CDK's
 * `aws:cdk:bundling-stacks`): for the variants that only check IAM, environment or a synth
 * error, so each test file bundles its fourteen functions once.
 */
export function app(context: Record<string, unknown> = {}, options: { bundle?: boolean } = {}) {
  const bundling = options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {};
  return buildApp(
    new App({
      context: { account: '123456789012', region: 'eu-west-1', securityPrincipals: SECURITY, ...bundling, ...context },
    }),
  );
}

/** The policy statements of the role of each function, keyed by the function's construct id. */
export function functionPolicies(template: Template): Record<string, Statement[]> {
  const roles = template.findResources('AWS::IAM::Role', { Properties: { Path: FUNCTION_ROLE_PATH } });
  const policies = template.findResources('AWS::IAM::Policy');
  const out: Record<string, Statement[]> = {};
  for (const roleId of Object.keys(roles)) {
    const name = /Service(\w+?)Role/.exec(roleId)?.[1] ?? roleId;
    out[name] = Object.values(policies)
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
  }
  return out;
}

/** The logical id of the one resource of a type whose id starts with a prefix (e.g. `ServiceExportTableFunction`). */
export function logicalId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} named ${prefix}*, found ${ids.join(', ') || 'none'}`);
  return ids[0]!;
}

/**
 * A CloudFormation value as text, symbolically: `{Ref:Id}` and `{Id.Arn}` for references (a
 * stateful stack's export is traced back to its resource), `aws` for the partition, so ARN
 * patterns from one template compare with resource ARNs of either.
 */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(render).join(',');
  if (value && typeof value === 'object') {
    const [fn, arg] = Object.entries(value)[0] as [string, unknown];
    if (fn === 'Ref')
      return (
        (
          {
            'AWS::Partition': 'aws',
            'AWS::Region': 'eu-west-1',
            'AWS::AccountId': '123456789012',
            'AWS::URLSuffix': 'amazonaws.com',
          } as Record<string, string>
        )[arg as string] ?? `{Ref:${String(arg)}}`
      );
    if (fn === 'Fn::GetAtt') return `{${(arg as string[])[0]}.${(arg as string[])[1]}}`;
    if (fn === 'Fn::Join') return (arg as [string, unknown[]])[1].map(render).join((arg as [string, unknown[]])[0]);
    if (fn === 'Fn::ImportValue') {
      const m = /ExportsOutput(Ref|FnGetAtt)(\w+?[0-9A-F]{8})(\w*?)[0-9A-F]{8}$/.exec(render(arg));
      if (!m) throw new Error(`unknown import ${render(arg)}`);
      return m[1] === 'Ref' ? `{Ref:${m[2]}}` : `{${m[2]}.${m[3]}}`;
    }
  }
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

/** An IAM ARN pattern (`*`, `?`) as a regular expression. */
export function globToRegExp(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
  );
}
