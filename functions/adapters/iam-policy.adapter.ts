/** AccessManager over IAM inline policies (PutRolePolicy / PutUserPolicy and their Delete). */
import {
  DeleteRolePolicyCommand,
  DeleteUserPolicyCommand,
  IAMClient,
  NoSuchEntityException,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  type IAMClientConfig,
} from '@aws-sdk/client-iam';
import type { AccessManager, PolicyTarget } from '../domain/ports.js';

/**
 * IAM's control plane has low, unpublished rate limits; a throttled call is retried with
 * exponential backoff and jitter rather than surfacing to a responder mid-outage.
 */
export const IAM_MAX_ATTEMPTS = 8;

export class IamPolicyAdapter implements AccessManager {
  private readonly iam: IAMClient;

  constructor(options: { awsSdkV3Client?: IAMClient; clientConfig?: IAMClientConfig } = {}) {
    this.iam = options.awsSdkV3Client ?? new IAMClient({ maxAttempts: IAM_MAX_ATTEMPTS, ...options.clientConfig });
  }

  async attach(target: PolicyTarget, policyName: string, document: string): Promise<void> {
    if (target.type === 'role') {
      await this.iam.send(new PutRolePolicyCommand({ RoleName: target.name, PolicyName: policyName, PolicyDocument: document }));
    } else {
      await this.iam.send(new PutUserPolicyCommand({ UserName: target.name, PolicyName: policyName, PolicyDocument: document }));
    }
  }

  async detach(target: PolicyTarget, policyName: string): Promise<'detached' | 'absent'> {
    try {
      if (target.type === 'role') {
        await this.iam.send(new DeleteRolePolicyCommand({ RoleName: target.name, PolicyName: policyName }));
      } else {
        await this.iam.send(new DeleteUserPolicyCommand({ UserName: target.name, PolicyName: policyName }));
      }
      return 'detached';
    } catch (error) {
      if (error instanceof NoSuchEntityException) return 'absent';
      throw error;
    }
  }
}
