/**
 * What the hub-and-spoke tests rely on in the emulator: moto serves several accounts and derives the
 * account from the credentials. By default every request is in 123456789012; credentials returned by
 * STS AssumeRole for a role of another account act in that account (moto docs, "Multi-Account
 * support"). moto does not check the role exists or trusts the caller, which AWS does: that path is
 * covered with aws-sdk-client-mock (test/unit/adapters/spoke-access.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { CreateRoleCommand, GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, inject, it } from 'vitest';
import { emulatorConfig } from '../../../sandbox/seed.js';

describe('moto serves several accounts', () => {
  it('acts in the account of the role assumed, and keeps each account’s IAM apart', async () => {
    const config = emulatorConfig(inject('motoEndpoint'));
    const hubSts = new STSClient(config);
    expect((await hubSts.send(new GetCallerIdentityCommand({}))).Account).toBe('123456789012');
    // Act: assume a role in another account (moto does not require it to exist)
    const { Credentials } = await hubSts.send(
      new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::333344445555:role/anything', RoleSessionName: 'probe' }),
    );
    const spoke = {
      ...config,
      credentials: {
        accessKeyId: Credentials!.AccessKeyId!,
        secretAccessKey: Credentials!.SecretAccessKey!,
        sessionToken: Credentials!.SessionToken!,
      },
    };
    const me = await new STSClient(spoke).send(new GetCallerIdentityCommand({}));
    expect(me.Account).toBe('333344445555');
    expect(me.Arn).toBe('arn:aws:sts::333344445555:assumed-role/anything/probe');
    // A role created with the spoke's credentials exists in the spoke only
    const name = `probe-${randomBytes(4).toString('hex')}`;
    const created = await new IAMClient(spoke).send(
      new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: '{}' }),
    );
    expect(created.Role!.Arn).toBe(`arn:aws:iam::333344445555:role/${name}`);
    await expect(new IAMClient(config).send(new GetRoleCommand({ RoleName: name }))).rejects.toMatchObject({
      name: 'NoSuchEntityException',
    });
  });
});
