/** CredentialVendor over STS AssumeRole: a profile role session for one grant. */

import { AssumeRoleCommand, STSClient, type STSClientConfig } from '@aws-sdk/client-sts';
import type { CredentialRequest, CredentialVendor, VendedCredentials } from '../domain/ports.js';
import { clientDefaults } from './client-defaults.js';

export class StsCredentialVendor implements CredentialVendor {
  private readonly sts: STSClient;

  constructor(options: { awsSdkV3Client?: STSClient; clientConfig?: STSClientConfig } = {}) {
    this.sts = options.awsSdkV3Client ?? new STSClient({ ...clientDefaults(), ...options.clientConfig });
  }

  async assume(request: CredentialRequest): Promise<VendedCredentials> {
    const { Credentials } = await this.sts.send(
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
