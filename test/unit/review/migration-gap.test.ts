/** Hostile review MEDIUM-4: grants ACTIVE before the lean activation was deployed hold no claims until swept. */
import { describe, expect, it } from 'vitest';
import { activateGrant, DEFAULT_RULES } from '../../../functions/domain/activate-grant.js';
import { sweep } from '../../../functions/domain/sweep.js';
import { ALICE, ALICE_ID, fakePorts, testProfiles } from '../../support/fakes.js';

describe('deploying the lean activation over live grants', () => {
  it('the sweeper backfills the holds of an ACTIVE grant recorded without them: the same person then gets it back as existing', async () => {
    // Prepare
    const ports = fakePorts();
    const profiles = testProfiles();
    const input = {
      caller: { arn: ALICE, userId: ALICE_ID },
      body: { profile: 'demo', reason: 'prod is down, need access' },
    };
    const { grant: first } = await activateGrant(ports, profiles, input, DEFAULT_RULES);
    ports.store.holds.clear(); // what a table written before holds existed looks like: no PERSON#…/HOLDS item

    // Act
    const report = await sweep(ports, []);
    const again = await activateGrant(ports, profiles, input, DEFAULT_RULES);
    const second = await sweep(ports, []);

    // Assess
    expect(report.holdsBackfilled).toBe(1);
    expect(second.holdsBackfilled).toBeUndefined(); // nothing missing any more: nothing written
    expect(again).toMatchObject({ existing: true, grant: { id: first.id } });
  });
});
