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
 * error, so each test file bundles its thirteen functions once.
 */
export function app(context: Record<string, unknown> = {}, options: { bundle?: boolean } = {}) {
  const bundling = options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {};
  return buildApp(new App({ context: { account: '123456789012', region: 'eu-west-1', securityPrincipals: SECURITY, ...bundling, ...context } }));
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
