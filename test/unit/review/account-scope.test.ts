/** Hostile review MEDIUM-1 and LOW: which accounts a caller may activate a profile in. */
import { describe, expect, it } from 'vitest';
import { resolveAccount } from '../../../functions/domain/accounts.js';
import { activateGrant, DEFAULT_RULES } from '../../../functions/domain/activate-grant.js';
import { ForbiddenError, ValidationError } from '../../../functions/domain/errors.js';
import { parseProfiles } from '../../../functions/domain/profile.js';
import { ACCOUNT, fakePorts } from '../../support/fakes.js';

const SPOKE = '210987654321';
const OTHER = '111122223333';
const SPOKE_CALLER = `arn:aws:sts::${SPOKE}:assumed-role/SpokeResponder/eve`;
const rules = { ...DEFAULT_RULES, accounts: { hub: ACCOUNT } };
const set = (crossAccount?: boolean) =>
  parseProfiles({
    version: 1,
    profiles: [
      {
        name: 'spk',
        description: 'spoke access',
        owner: 'o@example.com',
        maxDurationMinutes: 60,
        accounts: [ACCOUNT, SPOKE, OTHER],
        ...(crossAccount === undefined ? {} : { crossAccount }),
        eligible: [`arn:aws:iam::${SPOKE}:role/SpokeResponder`, `arn:aws:iam::${ACCOUNT}:role/Responder`],
        statements: [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::logs/*'] }],
      },
    ],
  });
const activate = (profiles: ReturnType<typeof set>, account: string, arn = SPOKE_CALLER) =>
  activateGrant(
    fakePorts(),
    profiles,
    { caller: { arn, userId: 'AROAEXAMPLE:eve' }, body: { profile: 'spk', reason: 'spoke incident now', account } },
    rules,
  );

describe('the accounts a caller may activate in', () => {
  it('a caller of a spoke account activates only in its own account by default (403 for the hub or another spoke)', async () => {
    await expect(activate(set(), ACCOUNT)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(activate(set(), OTHER)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(activate(set(), SPOKE)).resolves.toMatchObject({ grant: { status: 'ACTIVE', account: SPOKE } });
  });

  it('with "crossAccount": true, a spoke caller may activate in any account the profile lists', async () => {
    await expect(activate(set(true), OTHER)).resolves.toMatchObject({ grant: { status: 'ACTIVE', account: OTHER } });
  });

  it("the hub's callers activate in every account the profile lists", async () => {
    const hubCaller = `arn:aws:sts::${ACCOUNT}:assumed-role/Responder/alice`;
    await expect(activate(set(), OTHER, hubCaller)).resolves.toMatchObject({ grant: { account: OTHER } });
  });

  it('without ACCOUNT_ID and without accounts in the profile, a requested account is refused (fail closed)', () => {
    expect(() => resolveAccount({ name: 'demo' }, SPOKE, {})).toThrow(ValidationError);
    expect(resolveAccount({ name: 'demo' }, undefined, {})).toEqual({});
  });
});
