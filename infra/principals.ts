/**
 * The principals the deployment names (eligible, security, reviewer ARN patterns), as resource
 * policies and the synth-time account check see them.
 */
import { Token } from 'aws-cdk-lib';

const ACCOUNT_OF = /^arn:[^:]*:(?:iam|sts)::([^:]*):/;

/**
 * The `aws:PrincipalArn` patterns that cover the principals a list of ARN patterns names. For an
 * assumed-role session `aws:PrincipalArn` is the role's ARN, not the session's (IAM User Guide,
 * "AWS global condition context keys": aws:PrincipalArn), so a session pattern becomes its role:
 * in a resource policy it covers every session of that role.
 */
export function principalArnPatterns(patterns: readonly string[]): string[] {
  const out = new Set<string>();
  for (const pattern of patterns) {
    const session = /^arn:([^:]+):sts::([^:]+):assumed-role\/([^/]+)\/.*$/.exec(pattern);
    out.add(session ? `arn:${session[1]}:iam::${session[2]}:role/${session[3]}` : pattern);
  }
  return [...out];
}

/** Where a pattern came from, for the message that names it. */
export interface NamedPrincipal {
  readonly source: string;
  readonly pattern: string;
}

/**
 * Refuses (throws) principals that may lie outside the deployment's account: another account,
 * a wildcard in the account field, or no account at all. Break-glass attaches policies, and its
 * resource policies reason, only within its own account; a later version brings other accounts
 * in properly. The message names each refused pattern and where it came from.
 *
 * When the account is unresolved (an environment-agnostic synth, `npm run synth` without
 * `-c account`), the deployment account is unknown: every pattern must then name one and the
 * same literal account, the one the template is meant for. `cdk deploy` with credentials
 * resolves the account (CDK_DEFAULT_ACCOUNT) and checks against it.
 */
export function assertSameAccount(principals: readonly NamedPrincipal[], account: string): void {
  const accountOf = (p: NamedPrincipal) => ACCOUNT_OF.exec(p.pattern)?.[1] ?? '';
  const literal = (a: string) => /^\d{12}$/.test(a);
  const name = (p: NamedPrincipal) => `${p.source}: ${p.pattern}`;
  if (!Token.isUnresolved(account)) {
    const foreign = principals.filter((p) => accountOf(p) !== account);
    if (foreign.length) {
      throw new Error(
        `break-glass: these principals are not in the deployment's account ${account}, where break-glass can grant and check access:\n  - ${foreign.map(name).join('\n  - ')}\nName principals of account ${account} only (one deployment per account).`,
      );
    }
    return;
  }
  const unbound = principals.filter((p) => !literal(accountOf(p)));
  const accounts = [...new Set(principals.map(accountOf).filter(literal))].sort();
  if (unbound.length || accounts.length > 1) {
    const listed = [...unbound, ...(accounts.length > 1 ? principals.filter((p) => literal(accountOf(p))) : [])];
    throw new Error(
      `break-glass: the principals must all name one account, the deployment's (synth without -c account cannot tell which; found ${accounts.join(', ') || 'none'}):\n  - ${listed.map(name).join('\n  - ')}`,
    );
  }
}
