/**
 * IAM principals as break-glass sees them: who called, and which IAM entity (role or user)
 * the grant's inline policy goes on.
 */

export type PrincipalKind = 'assumed-role' | 'user';

export interface Principal {
  /** The caller's ARN exactly as IAM authenticated it (sts assumed-role or iam user). */
  readonly arn: string;
  readonly kind: PrincipalKind;
  readonly partition: string;
  readonly accountId: string;
  /** Role name (assumed-role) or user name (user): the entity that receives the policy. */
  readonly entityName: string;
  /** `arn:<p>:iam::<acct>:role/<name>` or `arn:<p>:iam::<acct>:user/<path/name>`. */
  readonly entityArn: string;
  /** Session name of an assumed role; undefined for users. */
  readonly sessionName?: string;
}

const ASSUMED_ROLE = /^arn:(aws|aws-cn|aws-us-gov):sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/([\w+=,.@-]{2,64})$/;
const USER = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):user\/((?:[\x21-\x7e]*\/)?)([\w+=,.@-]{1,64})$/;

/**
 * Parses the authenticated caller ARN. Returns undefined for anything that cannot receive an
 * inline policy (root, federated users, service principals, malformed input).
 */
export function parsePrincipalArn(arn: string): Principal | undefined {
  const role = ASSUMED_ROLE.exec(arn);
  if (role) {
    const [, partition, accountId, roleName, sessionName] = role as unknown as [string, string, string, string, string];
    return {
      arn,
      kind: 'assumed-role',
      partition,
      accountId,
      entityName: roleName,
      entityArn: `arn:${partition}:iam::${accountId}:role/${roleName}`,
      sessionName,
    };
  }
  const user = USER.exec(arn);
  if (user) {
    const [, partition, accountId, path, userName] = user as unknown as [string, string, string, string, string];
    return {
      arn,
      kind: 'user',
      partition,
      accountId,
      entityName: userName,
      entityArn: `arn:${partition}:iam::${accountId}:user/${path}${userName}`,
    };
  }
  return undefined;
}

/**
 * Matches an ARN against an IAM-style pattern where `*` is any run of characters and `?`
 * one character. Nothing else is special.
 */
export function arnMatches(pattern: string, arn: string): boolean {
  const source = pattern
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`).test(arn);
}

/**
 * True when one of the patterns names this principal: its own ARN (a session or a user), or,
 * for an assumed role, the role it is a session of.
 */
export function principalMatchesAny(patterns: readonly string[], principal: Principal): boolean {
  return patterns.some((p) => arnMatches(p, principal.arn) || (principal.kind === 'assumed-role' && arnMatches(p, principal.entityArn)));
}
