/**
 * Spokes in the emulator: what the BreakGlassSpoke stack (or the hub's StackSet) creates in a member
 * account, created in moto's copy of that account.
 *
 * moto serves several accounts and tells them apart by the credentials: by default every request is
 * in 123456789012, and the credentials STS AssumeRole returns for a role of another account act in
 * that account (moto docs, "Multi-Account support"; checked by test/integration/accounts/moto-accounts.test.ts).
 * moto does not check trust policies, so AssumeRole into any role ARN of an account gives
 * credentials there: that is how the seed reaches a spoke, and also why a *missing* manager role
 * cannot be told apart from a present one in the emulator (the missing profile role can; AWS's
 * AccessDenied on AssumeRole is covered with aws-sdk-client-mock).
 */
import { IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { profileAccounts, SPOKE_MANAGER_ROLE_NAME, SPOKE_MANAGER_ROLE_PATH } from '../functions/domain/accounts.js';
import type { ProfileSet } from '../functions/domain/profile.js';
import { PROFILE_ROLE_PATH, profileRolePools } from '../functions/domain/profile-roles.js';
import { ACCOUNT, emulatorConfig, ensureRole } from './seed.js';

/** The sandbox's spoke account and its alias (deploy context `accountAliases` in a real deployment). */
export const SANDBOX_SPOKE_ACCOUNT = '210987654321';
export const SANDBOX_ACCOUNT_ALIASES: Readonly<Record<string, string>> = { [SANDBOX_SPOKE_ACCOUNT]: 'sandbox-spoke' };

/** An IAM client acting in `account` of the emulator (via AssumeRole, as moto derives the account from credentials). */
export async function iamIn(endpoint: string, account: string, roleName = 'OrganizationAccountAccessRole') {
  const config = emulatorConfig(endpoint);
  if (account === ACCOUNT) return new IAMClient(config);
  const { Credentials } = await new STSClient(config).send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/${roleName}`, RoleSessionName: 'sandbox-seed' }),
  );
  return new IAMClient({
    ...config,
    credentials: {
      accessKeyId: Credentials!.AccessKeyId!,
      secretAccessKey: Credentials!.SecretAccessKey!,
      sessionToken: Credentials!.SessionToken!,
    },
  });
}

/** The spoke accounts the profiles name (every account but the hub's). */
export function spokeAccounts(profiles: ProfileSet, hub = ACCOUNT): string[] {
  return [...new Set(profiles.profiles.flatMap((p) => p.accounts ?? []))].filter((a) => a !== hub).sort();
}

/** The profiles whose roles a given account holds: the hub holds those that name no account or name it. */
export function profilesIn(profiles: ProfileSet, account: string, hub = ACCOUNT): ProfileSet {
  return {
    profiles: profiles.profiles.filter((p) => profileAccounts(p, { hub }).includes(account)),
  };
}

/**
 * Seeds one spoke: the manager role (trusting the hub's lifecycle roles) and the profile roles of
 * the profiles that grant there (trusting the hub's credential role). Returns the profile role names.
 */
export async function seedSpoke(
  endpoint: string,
  account: string,
  options: {
    profiles: ProfileSet;
    protectedResources: readonly string[];
    credentialRoleArn: string;
    lifecycleRoleArns: readonly string[];
    /** Leave the profile roles out (a spoke deployed without this profile). */
    withoutProfileRoles?: boolean;
  },
): Promise<string[]> {
  const iam = await iamIn(endpoint, account);
  await ensureRole(
    iam,
    SPOKE_MANAGER_ROLE_NAME,
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: [...options.lifecycleRoleArns] }, Action: 'sts:AssumeRole' }],
    }),
    SPOKE_MANAGER_ROLE_PATH,
  );
  if (options.withoutProfileRoles) return [];
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: options.credentialRoleArn },
        Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
      },
    ],
  });
  const roles = profileRolePools(profilesIn(options.profiles, account), options.protectedResources).flatMap(
    (p) => p.roleNames,
  );
  for (const role of roles) await ensureRole(iam, role, trust, PROFILE_ROLE_PATH);
  return roles;
}
