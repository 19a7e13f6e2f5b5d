/** AccessManager over IAM inline policies (PutRolePolicy / PutUserPolicy and their Delete). */

import {
  DeleteRolePolicyCommand,
  DeleteUserPolicyCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  IAMClient,
  type IAMClientConfig,
  LimitExceededException,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { PolicySizeLimitError } from '../domain/errors.js';
import { iamPolicySize } from '../domain/policy-builder.js';
import type { AccessManager, PolicyTarget } from '../domain/ports.js';
import { clientDefaults } from './client-defaults.js';

/**
 * IAM's control plane has low, unpublished rate limits; a throttled call is retried with
 * exponential backoff and jitter rather than surfacing to a responder mid-outage.
 */
export const IAM_MAX_ATTEMPTS = 8;

export class IamPolicyAdapter implements AccessManager {
  private readonly iam: IAMClient;

  constructor(options: { awsSdkV3Client?: IAMClient; clientConfig?: IAMClientConfig } = {}) {
    this.iam =
      options.awsSdkV3Client ??
      new IAMClient({ ...clientDefaults(), maxAttempts: IAM_MAX_ATTEMPTS, ...options.clientConfig });
  }

  async listPolicies(target: PolicyTarget, prefix: string): Promise<string[]> {
    const names: string[] = [];
    let marker: string | undefined;
    do {
      const page =
        target.type === 'role'
          ? await this.iam.send(new ListRolePoliciesCommand({ RoleName: target.name, Marker: marker }))
          : await this.iam.send(new ListUserPoliciesCommand({ UserName: target.name, Marker: marker }));
      names.push(...(page.PolicyNames ?? []).filter((n) => n.startsWith(prefix)));
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return names;
  }

  async read(target: PolicyTarget, policyName: string): Promise<string | undefined> {
    try {
      const { PolicyDocument } = await (target.type === 'role'
        ? this.iam.send(new GetRolePolicyCommand({ RoleName: target.name, PolicyName: policyName }))
        : this.iam.send(new GetUserPolicyCommand({ UserName: target.name, PolicyName: policyName })));
      // IAM returns the document URL-encoded.
      return PolicyDocument === undefined ? undefined : decodeURIComponent(PolicyDocument);
    } catch (error) {
      if (error instanceof NoSuchEntityException) return undefined;
      throw error;
    }
  }

  async inlinePolicyUsage(target: PolicyTarget, exceptPolicyName: string): Promise<number> {
    let total = 0;
    let marker: string | undefined;
    do {
      const page =
        target.type === 'role'
          ? await this.iam.send(new ListRolePoliciesCommand({ RoleName: target.name, Marker: marker }))
          : await this.iam.send(new ListUserPoliciesCommand({ UserName: target.name, Marker: marker }));
      for (const name of page.PolicyNames ?? []) {
        if (name === exceptPolicyName) continue;
        const { PolicyDocument } = await (target.type === 'role'
          ? this.iam.send(new GetRolePolicyCommand({ RoleName: target.name, PolicyName: name }))
          : this.iam.send(new GetUserPolicyCommand({ UserName: target.name, PolicyName: name }))
        ).catch((error: unknown) => {
          // Detached between the listing and this read (an expiry, a revocation): it no longer counts.
          if (error instanceof NoSuchEntityException) return { PolicyDocument: '' };
          throw error;
        });
        // IAM returns the document URL-encoded.
        total += iamPolicySize(decodeURIComponent(PolicyDocument ?? ''));
      }
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return total;
  }

  async attach(target: PolicyTarget, policyName: string, document: string): Promise<void> {
    try {
      if (target.type === 'role') {
        await this.iam.send(
          new PutRolePolicyCommand({ RoleName: target.name, PolicyName: policyName, PolicyDocument: document }),
        );
      } else {
        await this.iam.send(
          new PutUserPolicyCommand({ UserName: target.name, PolicyName: policyName, PolicyDocument: document }),
        );
      }
    } catch (error) {
      // A concurrent grant filled the entity between our size check and this put.
      if (error instanceof LimitExceededException)
        throw new PolicySizeLimitError(
          `IAM refused the policy: the inline policies of ${target.type} ${target.name} would exceed IAM's size limit`,
          { cause: error },
        );
      throw error;
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
