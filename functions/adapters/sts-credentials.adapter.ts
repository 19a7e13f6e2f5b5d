/** CredentialVendor over STS AssumeRole: a profile role session for one grant. */

import type { STSClient, STSClientConfig } from '@aws-sdk/client-sts';
import type { CredentialRequest, CredentialVendor, VendedCredentials } from '../domain/ports.js';
import { clientDefaults } from './client-defaults.js';

/**
 * STS is loaded on the first request (`sts-client.ts`), not at cold start: issue-credentials carries it in its
 * bundle (`BUNDLES_STS`), the drill runner (which vends only after its grant is active) loads the runtime's copy.
 */
export class StsCredentialVendor implements CredentialVendor {
  private client?: Promise<STSClient>;

  constructor(private readonly options: { awsSdkV3Client?: STSClient; clientConfig?: STSClientConfig } = {}) {}

  private sts(): Promise<STSClient> {
    this.client ??= this.options.awsSdkV3Client
      ? Promise.resolve(this.options.awsSdkV3Client)
      : import('./sts-client.js').then(
          ({ STSClient }) => new STSClient({ ...clientDefaults(), ...this.options.clientConfig }),
        );
    return this.client;
  }

  async assume(request: CredentialRequest): Promise<VendedCredentials> {
    const [sts, { AssumeRoleCommand }] = await Promise.all([this.sts(), import('./sts-client.js')]);
    const { Credentials } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: request.roleArn,
        RoleSessionName: request.sessionName,
        // Set once, kept for the whole session and any chained one; the profile roles' trust policy
        // allows sts:SetSourceIdentity for the credential function.
        SourceIdentity: request.sourceIdentity,
        DurationSeconds: request.durationSeconds,
      }),
    );
    if (
      !Credentials?.AccessKeyId ||
      !Credentials.SecretAccessKey ||
      !Credentials.SessionToken ||
      !Credentials.Expiration
    ) {
      throw new Error('STS AssumeRole answered without credentials');
    }
    return {
      accessKeyId: Credentials.AccessKeyId,
      secretAccessKey: Credentials.SecretAccessKey,
      sessionToken: Credentials.SessionToken,
      expiration: new Date(Credentials.Expiration).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
  }
}
