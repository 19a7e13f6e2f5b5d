/**
 * The one derivation from eligibility to IAM entities: which roles and users some
 * `grantTo: "caller"` profile's `eligible` patterns can match. The stacks turn it into the
 * resources of the functions' `iam:Put*Policy` / `iam:Delete*Policy` permissions
 * (`infra/profiles.ts`, `policyTargets`); the sweeper lists the inline policies of the ones it can
 * name (`sweep.ts`, `sweepTargets`). One function, so the sweeper and the IAM permissions cannot
 * disagree about whose policies break-glass writes.
 *
 * A session pattern (`arn:aws:sts::<acct>:assumed-role/R/s`) is role R; a role or user ARN
 * pattern is that entity. Profiles that grant through profile roles are not here: their grants
 * are written on the profile roles only.
 */
import type { ProfileSet } from './profile.js';

export interface EligibleEntity {
  readonly kind: 'role' | 'user';
  /** The IAM ARN pattern of the entity (a session pattern's role), as IAM permissions take it. */
  readonly arn: string;
  /** The entity's name without its path, as IAM's API takes it. */
  readonly name: string;
  /** The name or path holds `*` or `?`: it may match many entities and names none. */
  readonly wildcard: boolean;
  /** The profile and pattern it comes from (for messages). */
  readonly source: { readonly profile: string; readonly pattern: string };
}

const SESSION = /^arn:([\w-]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/;
const ENTITY = /^arn:[\w-]+:iam::\d{12}:(role|user)\/(.+)$/;

export function eligibleEntities(set: ProfileSet): EligibleEntity[] {
  const out: EligibleEntity[] = [];
  for (const profile of set.profiles.filter((p) => p.grantTo === 'caller')) {
    for (const pattern of profile.eligible) {
      const source = { profile: profile.name, pattern };
      const session = SESSION.exec(pattern);
      if (session) {
        const name = session[3]!;
        out.push({
          kind: 'role',
          arn: `arn:${session[1]}:iam::${session[2]}:role/${name}`,
          name,
          wildcard: /[*?]/.test(name),
          source,
        });
        continue;
      }
      const entity = ENTITY.exec(pattern);
      if (!entity) continue;
      const pathAndName = entity[2]!;
      out.push({
        kind: entity[1] as 'role' | 'user',
        arn: pattern,
        name: pathAndName.slice(pathAndName.lastIndexOf('/') + 1),
        wildcard: /[*?]/.test(pathAndName),
        source,
      });
    }
  }
  return out;
}
