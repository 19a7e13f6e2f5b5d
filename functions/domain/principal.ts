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
 * for an assumed role, the role it is a session of. A session ARN carries no role path, so a
 * role pattern with a path (`role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_*`, as IAM
 * shows Identity Center roles) is matched by its last segment: role names are unique in an
 * account whatever their path.
 */
export function principalMatchesAny(patterns: readonly string[], principal: Principal): boolean {
  return patterns.some(
    (p) =>
      arnMatches(p, principal.arn) ||
      (principal.kind === 'assumed-role' &&
        (arnMatches(p, principal.entityArn) || arnMatches(withoutRolePath(p), principal.entityArn))),
  );
}

/** `arn:…:role/a/b/Name*` → `arn:…:role/Name*`; other patterns unchanged. */
function withoutRolePath(pattern: string): string {
  const match = /^(arn:[^:]+:iam::[^:]+:role\/)(.*\/)([^/]*)$/.exec(pattern);
  return match ? `${match[1]}${match[3]}` : pattern;
}

/** IAM Identity Center's roles: `AWSReservedSSO_<permission set>_<hex>`, under `/aws-reserved/sso.amazonaws.com/`. */
export const IDENTITY_CENTER_ROLE = /^AWSReservedSSO_[\w+=,.@-]+$/;
/** Service-linked roles (path `/aws-service-role/`, names `AWSServiceRoleFor…`). */
export const SERVICE_LINKED_ROLE = /^AWSServiceRoleFor[\w+=,.@-]*$/;

/**
 * Whether IAM refuses to change this role's policies: Identity Center roles and service-linked
 * roles answer PutRolePolicy with `UnmodifiableEntity`. A grant for such a caller must go to a
 * profile role (`grantTo: "profileRole"`).
 */
export function isProtectedRole(roleName: string): boolean {
  return IDENTITY_CENTER_ROLE.test(roleName) || SERVICE_LINKED_ROLE.test(roleName);
}

/**
 * The person behind a principal: the one notion of "who" for per-person limits, "already holds
 * this profile", the requester checks (revoke, extend, credentials) and the two-person review.
 *
 * - an Identity Center session (`assumed-role/AWSReservedSSO_…/<session>`): `sso:<account>:<session>`.
 *   Identity Center names the session after the signed-in user and nobody else can choose it,
 *   so the same user through any permission set of the account is the same person. The account
 *   is part of it: a same-named session in another account (whose owner controls its roles) is
 *   someone else.
 *
 *   Recognising Identity Center by the role *name* alone is only safe with the API's resource
 *   policy the stack sets: a session ARN carries no role path, and anyone with iam:CreateRole can
 *   make a role named `AWSReservedSSO_x` at path `/` and name its session `alice@example.com`.
 *   The resource policy denies `execute-api:Invoke` to `aws:PrincipalArn` `…:role/AWSReservedSSO_*`
 *   outside `…:role/aws-reserved/sso.amazonaws.com/` (the principal ARN in the request context
 *   carries the path), so such a session never reaches this code. Without that policy, this
 *   function must not be trusted for Identity Center callers;
 * - an IAM user: the user's ARN;
 * - any other role session: the session ARN (`…:assumed-role/<role>/<session>`).
 *
 * Consequence for a role whose trust policy does not pin session names: whoever may assume that
 * role can name a session `alice` and be the same person as Alice for break-glass (use her grant's
 * credentials, extend or revoke it). Pin them in the role's trust policy
 * (`"StringEquals": {"sts:RoleSessionName": "${aws:username}"}`, or require `sts:SourceIdentity`),
 * or let people reach break-glass through Identity Center.
 */
export function personOf(principal: Principal): string {
  if (principal.kind === 'user') return principal.entityArn;
  if (IDENTITY_CENTER_ROLE.test(principal.entityName)) return `sso:${principal.accountId}:${principal.sessionName}`;
  return principal.arn;
}

/** The person behind an ARN that may not parse (recorded denials): the ARN itself then. */
export function personOfArn(arn: string): string {
  const principal = parsePrincipalArn(arn);
  return principal ? personOf(principal) : arn;
}
