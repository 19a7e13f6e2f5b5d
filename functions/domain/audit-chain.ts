/**
 * Tamper evidence for the audit trail.
 *
 * - **Per grant, a hash chain.** Each event stores `prevHash` (the hash of the event before it)
 *   and `hash`, a SHA-256 over the canonical JSON of everything stored in the event except
 *   the table keys and `hash` itself. The first event's `prevHash` is the grant's *anchor*: a
 *   hash over the grant's immutable facts (who, which profile, why, when), so editing the
 *   reason on the grant record breaks the chain too. The grant record keeps the head
 *   (`lastHash`) and the count (`eventCount`), so a deleted last event shows.
 * - **Across grants, a ledger number.** Every grant (DENIED ones too) takes the next number of
 *   one atomic counter when it is created; a number with no grant is a deleted grant (or an
 *   activation whose first write failed, which then answered 5xx). The counter's value shows a
 *   deletion of the newest grants.
 * - **Outside the table, anchors.** Every alert carries the event's hash and the grant's
 *   ledger number, and each export lands in a versioned bucket: someone who can rewrite the
 *   table (and recompute every hash) still cannot rewrite what subscribers received or what
 *   was exported before.
 *
 * Pure functions over plain objects: the adapters, the fakes and the export report all use them.
 */
import { createHash } from 'node:crypto';
import type { AuditEvent, NewAuditEvent } from './audit-event.js';

/** JSON with object keys sorted at every level, no whitespace, `undefined` members dropped. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The grant facts that never change after creation; the anchor of its chain. */
export const ANCHOR_FIELDS = [
  'id',
  'sequence',
  'profile',
  'owner',
  'principalArn',
  'targetType',
  'targetName',
  'account',
  'sessionUserId',
  'reason',
  'ticket',
  'createdAt',
  'policyName',
  'scheduleName',
  'grants',
] as const;
export type AnchorFacts = { readonly [K in (typeof ANCHOR_FIELDS)[number]]?: unknown };

/** `prevHash` of a grant's first event. */
export function anchorHash(grant: AnchorFacts): string {
  const facts: Record<string, unknown> = { chain: 'breakglass/v1' };
  for (const field of ANCHOR_FIELDS) facts[field] = grant[field];
  return sha256Hex(canonicalJson(facts));
}

/** Attributes that are not part of an event's hashed content. */
const UNHASHED = new Set(['pk', 'sk', 'hash']);

/** The hash of a stored event: over every attribute but the table keys and `hash`. */
export function eventHash(event: object): string {
  const content: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) if (!UNHASHED.has(key)) content[key] = value;
  return sha256Hex(canonicalJson(content));
}

/** Where a chain broke, for a person to read. */
export interface ChainBreak {
  /** The event's `seq`, or 0 for the grant record itself. */
  readonly seq: number;
  readonly problem: string;
}

export type ChainVerdict =
  | { readonly ok: true; readonly events: number; readonly head: string }
  | ({ readonly ok: false } & ChainBreak);

/** What the verifier reads of a grant record. */
export type ChainedGrant = AnchorFacts & { readonly eventCount?: unknown; readonly lastHash?: unknown };
/** What the verifier reads of an event: every stored attribute. */
export type ChainedEvent = object & { readonly seq?: unknown; readonly prevHash?: unknown; readonly hash?: unknown };

/**
 * Recomputes a grant's chain and reports the first break: a missing or extra event, an
 * event whose content no longer matches its hash, a link to the wrong predecessor, or a
 * grant record whose head or count disagrees with its events.
 * `events` may come in any order.
 */
export function verifyChain(grant: ChainedGrant, events: readonly ChainedEvent[]): ChainVerdict {
  const sorted = [...events].sort((a, b) => Number(a.seq) - Number(b.seq));
  let previous = anchorHash(grant);
  for (let i = 0; i < sorted.length; i++) {
    const event = sorted[i]!;
    const expectedSeq = i + 1;
    if (event.seq !== expectedSeq) {
      return {
        ok: false,
        seq: expectedSeq,
        problem:
          Number(event.seq) > expectedSeq
            ? `event ${expectedSeq} is missing`
            : `event ${String(event.seq)} appears twice`,
      };
    }
    if (event.prevHash !== previous) {
      return {
        ok: false,
        seq: expectedSeq,
        problem:
          i === 0
            ? "the first event does not link to the grant record: the grant's facts (reason, requester, profile, times) were changed"
            : `event ${expectedSeq} does not link to event ${i}`,
      };
    }
    if (event.hash !== eventHash(event))
      return { ok: false, seq: expectedSeq, problem: `event ${expectedSeq} was changed after it was written` };
    previous = event.hash as string;
  }
  if (grant.eventCount !== sorted.length) {
    return {
      ok: false,
      seq: 0,
      problem: `the grant record counts ${String(grant.eventCount)} events but ${sorted.length} exist`,
    };
  }
  if (grant.lastHash !== previous)
    return { ok: false, seq: 0, problem: "the grant record's head hash does not match its last event" };
  return { ok: true, events: sorted.length, head: previous };
}

/** What {@link sealEvent} needs of the grant an event is appended to. */
export type SealableGrant = AnchorFacts & {
  readonly id: string;
  readonly principalArn: string;
  readonly profile: string;
  readonly eventCount: number;
  readonly lastHash?: string;
};

/**
 * The event as stored: the composed event, its place in the grant's log, the facts the audit
 * indexes serve (requester, profile, day), and its link and hash. Adapters store exactly this.
 */
export function sealEvent(grant: SealableGrant, event: NewAuditEvent): AuditEvent {
  const seq = grant.eventCount + 1;
  const prevHash = seq === 1 ? anchorHash(grant) : grant.lastHash;
  if (!prevHash) throw new TypeError(`grant ${grant.id} has ${grant.eventCount} events but no head hash`);
  const record = {
    ...event,
    grantId: grant.id,
    seq,
    requester: grant.principalArn,
    profile: grant.profile,
    day: event.at.slice(0, 10),
    prevHash,
  };
  return { ...record, hash: eventHash(record) };
}
