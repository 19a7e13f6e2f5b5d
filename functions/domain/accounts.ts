/**
 * Many accounts: one hub, many spokes.
 *
 * The hub (API, table, topic, functions) lives in one account. A profile may grant in other
 * accounts of the organization (`"accounts": ["210987654321", …]`); each such *spoke* holds the
 * profile roles of the profiles that target it and one manager role,
 * `/breakglass/breakglass-spoke-manager`, that only the hub's lifecycle functions may assume and
 * that may only put, delete, list and read inline policies on `role/breakglass/profile/*`. No
 * state lives in a spoke: the grant, its events and its alerts stay in the hub and carry the
 * account (and its alias from the deploy context, never looked up during an outage).
 */
import { ForbiddenError, SpokeUnavailableError, ValidationError } from './errors.js';
import type { Profile } from './profile.js';

/** The manager role every spoke has (same name in every account, so the hub may assume only this name). */
export const SPOKE_MANAGER_ROLE_NAME = 'breakglass-spoke-manager';
/** Its IAM path. */
export const SPOKE_MANAGER_ROLE_PATH = '/breakglass/';

export function spokeManagerRoleArn(partition: string, account: string): string {
  return `arn:${partition}:iam::${account}:role${SPOKE_MANAGER_ROLE_PATH}${SPOKE_MANAGER_ROLE_NAME}`;
}

/** What the deployment knows about accounts (configuration, not looked up). */
export interface AccountDirectory {
  /** The hub's own account id, when configured (`ACCOUNT_ID`). */
  readonly hub?: string;
  /** Account id → alias, from the deploy context `accountAliases`. */
  readonly aliases?: Readonly<Record<string, string>>;
}

/** The accounts a profile grants in: its `accounts`, or the hub's own. */
export function profileAccounts(profile: Pick<Profile, 'accounts'>, directory: AccountDirectory = {}): string[] {
  return profile.accounts ? [...profile.accounts] : directory.hub ? [directory.hub] : [];
}

/** `210987654321 (prod-payments)`, or the id alone when no alias is known. */
export function accountLabel(account: string, alias?: string): string {
  return alias ? `${account} (${alias})` : account;
}

/**
 * The account a request grants in, or undefined when neither the profile nor the deployment
 * names one (a single-account deployment without `ACCOUNT_ID`: the hub, as before accounts).
 * @throws ValidationError when the profile has several accounts and the request names none, or
 * the request names an account the profile does not grant in.
 */
export function resolveAccount(
  profile: Pick<Profile, 'name' | 'accounts'> & { readonly crossAccount?: boolean },
  requested: string | undefined,
  directory: AccountDirectory = {},
  callerAccount?: string,
): { account?: string; alias?: string } {
  const resolved = resolveListed(profile, requested, directory);
  // A caller of a spoke account activates only in its own account, unless the profile says `crossAccount`: a
  // spoke's admin can make any principal of the spoke look eligible, but must not thereby reach other accounts.
  // The hub's callers reach every account the profile lists (that is what a hub is for).
  if (
    callerAccount !== undefined &&
    directory.hub !== undefined &&
    callerAccount !== directory.hub &&
    !profile.crossAccount &&
    resolved.account !== callerAccount
  )
    throw new ForbiddenError(
      `A caller of account ${callerAccount} may activate profile "${profile.name}" only in account ${callerAccount}, not in ${resolved.account ?? 'the hub'} (the profile would need "crossAccount": true)`,
    );
  return resolved;
}

function resolveListed(
  profile: Pick<Profile, 'name' | 'accounts'>,
  requested: string | undefined,
  directory: AccountDirectory,
): { account?: string; alias?: string } {
  const accounts = profileAccounts(profile, directory);
  const label = (a: string) => accountLabel(a, directory.aliases?.[a]);
  if (requested === undefined) {
    if (accounts.length > 1)
      throw new ValidationError(
        `profile "${profile.name}" grants in ${accounts.length} accounts; name one with "account": ${accounts.map(label).join(', ')}`,
      );
    const account = accounts[0];
    return account ? withAlias(account, directory) : {};
  }
  // No account is known (no `accounts`, no ACCOUNT_ID): only the function's own one, never one the caller names.
  if (accounts.length === 0)
    throw new ValidationError(
      `profile "${profile.name}" names no accounts and this deployment knows no hub account (ACCOUNT_ID): omit "account"`,
    );
  if (!accounts.includes(requested))
    throw new ValidationError(
      `profile "${profile.name}" does not grant in account ${requested}; it grants in ${accounts.map(label).join(', ')}`,
    );
  return withAlias(requested, directory);
}

function withAlias(account: string, directory: AccountDirectory): { account: string; alias?: string } {
  const alias = directory.aliases?.[account];
  return alias ? { account, alias } : { account };
}

/** Whether an account is a spoke (reached through its manager role) rather than the hub itself. */
export function isSpoke(account: string | undefined, hub: string | undefined): account is string {
  return account !== undefined && account !== hub;
}

/**
 * The spoke's own words, for a message that also says what happened to the grant: the
 * {@link SpokeUnavailableError} in `error` or its causes, followed by a space; '' otherwise.
 */
export function spokeNote(error: unknown): string {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++)
    if (e instanceof SpokeUnavailableError) return `${e.message} `;
  return '';
}
