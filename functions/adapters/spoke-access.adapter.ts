/**
 * AccessManager across accounts: a target in the hub's own account goes to the hub's IAM; a target
 * in a spoke account goes to that account's IAM, through the spoke's manager role
 * (`/breakglass/breakglass-spoke-manager`, see `domain/accounts.ts`), assumed with STS.
 *
 * The manager role's credentials are cached per account for their lifetime (less a margin), so a
 * sweep over one spoke's twenty roles assumes it once. A Lambda function's own credentials are an
 * assumed-role session, so this AssumeRole is role chaining, which AWS caps at one hour: "Role
 * chaining limits your AWS CLI or AWS API role session to a maximum of one hour … if you assume a
 * role using role chaining and provide a DurationSeconds parameter value greater than one hour, the
 * operation fails" (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html,
 * DurationSeconds). Hence {@link MANAGER_SESSION_SECONDS}.
 *
 * A spoke that is missing or refuses — AssumeRole denied (no manager role: STS answers AccessDenied
 * for a role that does not exist, as for one whose trust policy does not name the caller), IAM
 * AccessDenied with the manager's credentials, throttling past the retries, or the profile role
 * absent — becomes a {@link SpokeUnavailableError} naming the account and what to deploy.
 */
import type { IAMClientConfig } from '@aws-sdk/client-iam';
import type { STSClient, STSClientConfig } from '@aws-sdk/client-sts';
import { accountLabel, isSpoke, SPOKE_MANAGER_ROLE_NAME, spokeManagerRoleArn } from '../domain/accounts.js';
import { BreakGlassError, SpokeUnavailableError } from '../domain/errors.js';
import type { AccessManager, PolicyTarget } from '../domain/ports.js';
import { clientDefaults } from './client-defaults.js';
import { IAM_MAX_ATTEMPTS, IamPolicyAdapter } from './iam-policy.adapter.js';

/** The longest a chained role session may last (one hour, see the module comment). */
export const MANAGER_SESSION_SECONDS = 3600;
/** Cached manager credentials are renewed this long before they expire, so no call starts on a dying session. */
export const MANAGER_RENEW_MARGIN_MS = 5 * 60_000;

/** The credentials of one manager role session. */
export interface ManagerCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

export interface SpokeAccessOptions {
  /** The hub's account (`ACCOUNT_ID`): targets there, or with no account, use `hub`. */
  readonly hubAccount?: string;
  /** @default 'aws' */
  readonly partition?: string;
  /** Account id → alias (deploy context `accountAliases`), for messages. */
  readonly aliases?: Readonly<Record<string, string>>;
  /** The hub's own IAM. @default an {@link IamPolicyAdapter} with the function's credentials */
  readonly hub?: AccessManager;
  readonly sts?: STSClient;
  readonly stsConfig?: STSClientConfig;
  /** Config of the per-spoke IAM clients (their credentials are the manager session's). */
  readonly iamConfig?: IAMClientConfig;
  /** The AccessManager for one spoke, given the manager's credentials. @default an IamPolicyAdapter over them */
  readonly spokeAdapter?: (account: string, credentials: ManagerCredentials) => AccessManager;
  /** @default the function name, else `breakglass-hub` */
  readonly sessionName?: string;
  readonly now?: () => number;
}

/** AWS error names that mean "this spoke refuses us" rather than "this one call failed". */
const REFUSALS = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'InvalidClientTokenId']);
const THROTTLING = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded']);

export class SpokeAccessManager implements AccessManager {
  private readonly hub: AccessManager;
  /** STS, imported on the first spoke call: a function that only ever touches the hub never loads it (cold start). */
  private sts?: Promise<{ client: STSClient; sts: typeof import('./sts-client.js') }>;
  private readonly partition: string;
  private readonly now: () => number;
  private readonly sessionName: string;
  private readonly cache = new Map<string, Promise<{ access: AccessManager; renewAt: number }>>();

  constructor(private readonly options: SpokeAccessOptions = {}) {
    this.hub = options.hub ?? new IamPolicyAdapter();
    this.partition = options.partition ?? 'aws';
    this.now = options.now ?? Date.now;
    this.sessionName = (options.sessionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'breakglass-hub')
      .replace(/[^\w+=,.@-]/g, '-')
      .slice(0, 64);
  }

  listPolicies(target: PolicyTarget, prefix: string): Promise<string[]> {
    return this.call(target, 'list the policies of', (access) => access.listPolicies(target, prefix));
  }

  read(target: PolicyTarget, policyName: string): Promise<string | undefined> {
    return this.call(target, 'read a policy of', (access) => access.read(target, policyName));
  }

  inlinePolicyUsage(target: PolicyTarget, exceptPolicyName: string): Promise<number> {
    return this.call(target, 'read the policies of', (access) => access.inlinePolicyUsage(target, exceptPolicyName));
  }

  attach(target: PolicyTarget, policyName: string, document: string): Promise<void> {
    return this.call(target, 'put a policy on', (access) => access.attach(target, policyName, document), true);
  }

  detach(target: PolicyTarget, policyName: string): Promise<'detached' | 'absent'> {
    return this.call(target, 'delete a policy from', (access) => access.detach(target, policyName));
  }

  /** Forgets an account's cached manager session (a refusal may mean the spoke changed). */
  forget(account: string): void {
    this.cache.delete(account);
  }

  private async call<T>(
    target: PolicyTarget,
    what: string,
    run: (access: AccessManager) => Promise<T>,
    missingRoleIsSpokeProblem = false,
  ): Promise<T> {
    if (!isSpoke(target.account, this.options.hubAccount)) return run(this.hub);
    const account = target.account;
    const access = await this.managerFor(account);
    try {
      return await run(access);
    } catch (error) {
      if (error instanceof BreakGlassError) throw error; // the adapter's own (e.g. PolicySizeLimitError)
      const name = (error as Error).name;
      const label = accountLabel(account, this.options.aliases?.[account]);
      if (REFUSALS.has(name) || THROTTLING.has(name)) {
        this.forget(account);
        throw new SpokeUnavailableError(
          account,
          `Spoke account ${label} refused to let break-glass ${what} ${target.type} ${target.name} (${name}: ${message(error)}). Redeploy the break-glass spoke there (the BreakGlassSpoke stack or the hub's StackSet) so its ${SPOKE_MANAGER_ROLE_NAME} role may manage role/breakglass/profile/*.`,
          { cause: error },
        );
      }
      if (missingRoleIsSpokeProblem && name === 'NoSuchEntityException') {
        throw new SpokeUnavailableError(
          account,
          `Spoke account ${label} has no ${target.type} ${target.name}: deploy the break-glass spoke there with this profile (the BreakGlassSpoke stack or the hub's StackSet, after adding the account to the profile's "accounts").`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  /** The spoke's AccessManager, over a cached manager session (one AssumeRole per account at a time). */
  private async managerFor(account: string): Promise<AccessManager> {
    const cached = this.cache.get(account);
    if (cached) {
      const entry = await cached.catch(() => undefined);
      if (entry && this.now() < entry.renewAt) return entry.access;
      if (this.cache.get(account) === cached) this.cache.delete(account);
    }
    const pending = this.assumeManager(account);
    this.cache.set(account, pending);
    // A failure is not cached: the next call tries again (the spoke may have been deployed meanwhile).
    pending.catch(() => {
      if (this.cache.get(account) === pending) this.cache.delete(account);
    });
    return (await pending).access;
  }

  private async assumeManager(account: string): Promise<{ access: AccessManager; renewAt: number }> {
    const roleArn = spokeManagerRoleArn(this.partition, account);
    let credentials: ManagerCredentials;
    try {
      this.sts ??= import('./sts-client.js').then((sts) => ({
        sts,
        client: this.options.sts ?? new sts.STSClient({ ...clientDefaults(), ...this.options.stsConfig }),
      }));
      const { client, sts } = await this.sts;
      const { Credentials } = await client.send(
        new sts.AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: this.sessionName,
          DurationSeconds: MANAGER_SESSION_SECONDS,
        }),
      );
      if (!Credentials?.AccessKeyId || !Credentials.SecretAccessKey || !Credentials.SessionToken)
        throw new Error('STS AssumeRole answered without credentials');
      credentials = {
        accessKeyId: Credentials.AccessKeyId,
        secretAccessKey: Credentials.SecretAccessKey,
        sessionToken: Credentials.SessionToken,
        expiration: Credentials.Expiration
          ? new Date(Credentials.Expiration)
          : new Date(this.now() + MANAGER_SESSION_SECONDS * 1000),
      };
    } catch (error) {
      const name = (error as Error).name;
      const label = accountLabel(account, this.options.aliases?.[account]);
      const why = THROTTLING.has(name)
        ? 'STS throttled every attempt'
        : REFUSALS.has(name)
          ? 'the role is missing or does not trust this hub'
          : 'STS did not answer';
      throw new SpokeUnavailableError(
        account,
        `Spoke account ${label} is not reachable: AssumeRole on ${roleArn} failed (${name}: ${message(error)}; ${why}). Deploy the break-glass spoke in ${account} (the BreakGlassSpoke stack, or the hub's StackSet with -c spokeOrganizationalUnits=ou-…) so that its ${SPOKE_MANAGER_ROLE_NAME} role trusts this hub's functions.`,
        { cause: error },
      );
    }
    const access =
      this.options.spokeAdapter?.(account, credentials) ??
      new IamPolicyAdapter({
        clientConfig: {
          ...clientDefaults(),
          maxAttempts: IAM_MAX_ATTEMPTS,
          ...this.options.iamConfig,
          credentials: {
            accessKeyId: credentials.accessKeyId,
            secretAccessKey: credentials.secretAccessKey,
            sessionToken: credentials.sessionToken,
            expiration: credentials.expiration,
          },
        },
      });
    return { access, renewAt: credentials.expiration.getTime() - MANAGER_RENEW_MARGIN_MS };
  }
}

function message(error: unknown): string {
  return ((error as Error).message ?? String(error)).replace(/\s+/g, ' ').slice(0, 300);
}
