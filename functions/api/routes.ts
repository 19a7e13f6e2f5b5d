/**
 * The API, declared once: every route with its method, path, the function that serves it, its
 * request body schema and query parameters, and who may call it. Read by the CDK API
 * (`infra/constructs/break-glass-api.ts`), the local sandbox (`sandbox/main.ts`), the CLI's
 * client (`cli/client.ts`), the OpenAPI description (`npm run openapi` → `docs/openapi.json`)
 * and the API reference (`docs/reference-api.md`). No AWS import: the CLI bundles it.
 */
import type { z } from 'zod';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../domain/paging.js';
import { AUDIT_QUERY_PARAMETERS } from '../domain/query-audit.js';
import {
  activationRequestSchema,
  controlRequestSchema,
  DRILL_ID_PATTERN,
  DRILL_MODES,
  drillRequestSchema,
  extensionRequestSchema,
  GRANT_ID_PATTERN,
  REASON_MAX,
  REASON_MIN,
  reviewRequestSchema,
  revokeRequestSchema,
  TICKET_MAX,
} from '../domain/requests.js';

/**
 * The functions behind the API: construct id in the stack, handler module under
 * `functions/handlers/`. One function may serve several routes (the kill switch). `madeBy: 'drills'`:
 * made by the drill construct (`infra/constructs/drills.ts`), and deployed only when the profiles have a
 * drill profile; the others by `BreakGlassFunctions`, always.
 */
export const API_FUNCTIONS = {
  createGrant: { id: 'CreateGrant', handler: 'create-grant' },
  revokeGrant: { id: 'RevokeGrant', handler: 'revoke-grant' },
  extendGrant: { id: 'ExtendGrant', handler: 'extend-grant' },
  killSwitch: { id: 'KillSwitch', handler: 'kill-switch' },
  getGrant: { id: 'GetGrant', handler: 'get-grant' },
  listGrants: { id: 'ListGrants', handler: 'list-grants' },
  listProfiles: { id: 'ListProfiles', handler: 'list-profiles' },
  reviewGrant: { id: 'ReviewGrant', handler: 'review-grant' },
  queryAudit: { id: 'QueryAudit', handler: 'query-audit' },
  issueCredentials: { id: 'IssueCredentials', handler: 'issue-credentials' },
  getActivity: { id: 'GetActivity', handler: 'get-activity' },
  startDrill: { id: 'StartDrill', handler: 'start-drill', madeBy: 'drills' },
  listDrills: { id: 'ListDrills', handler: 'list-drills', madeBy: 'drills' },
} as const;
export type ApiFunctionName = keyof typeof API_FUNCTIONS;
/** The API functions the drill construct makes. */
export type DrillApiFunctionName = {
  [K in ApiFunctionName]: (typeof API_FUNCTIONS)[K] extends { readonly madeBy: 'drills' } ? K : never;
}[ApiFunctionName];
/** The API functions every deployment has (`BreakGlassFunctions` makes them). */
export type ServiceApiFunctionName = Exclude<ApiFunctionName, DrillApiFunctionName>;
/** Whether every deployment has the function (not only one with a drill profile). */
export const isServiceApiFunction = (name: ApiFunctionName): name is ServiceApiFunctionName =>
  !('madeBy' in API_FUNCTIONS[name]);

/**
 * Who may call a route. Every route needs a SigV4-signed request from an IAM principal of the
 * account (API Gateway's AWS_IAM); the function then decides:
 * - `caller` — any such principal; what it sees may depend on who it is;
 * - `eligible` — a principal in the profile's `eligible` list (others are refused, recorded and announced);
 * - `requester` — the person who requested the grant;
 * - `requester-or-security` — that person, or a security principal (`securityPrincipals`);
 * - `security` — a security principal only;
 * - `reviewer` — a reviewer principal (`reviewerPrincipals`), never for a grant of their own.
 */
export const CALLER_RULES = {
  caller: 'any IAM principal of the account that may invoke the API',
  eligible: "a principal in the profile's eligible list (a refusal is recorded and announced)",
  requester: 'the person who requested the grant',
  'requester-or-security': 'the person who requested the grant, or a security principal',
  security: 'a security principal (securityPrincipals)',
  reviewer: 'a reviewer principal (reviewerPrincipals), never for their own grant',
  'requester-security-or-reviewer': 'the person who requested the grant, a security principal or a reviewer',
} as const;
export type CallerRule = keyof typeof CALLER_RULES;

/** A request body: its schema (zod, the one the function parses with) and the model name API Gateway gives it. */
export interface RequestBody {
  /** API Gateway model and OpenAPI component name (alphanumeric). */
  readonly model: string;
  readonly schema: z.ZodType;
  /**
   * The body may be left out (then every field takes its default). API Gateway validates a body only
   * against the model of its content type and skips validation when none matches (API Gateway developer
   * guide, "Request validation for REST APIs": "If no matching content type is found, request validation
   * is not performed"), so a request without a body reaches the function, which parses it as absent.
   * @default false
   */
  readonly optional?: boolean;
  /** The rule of each field beyond its type, for people (docs/reference-api.md, OpenAPI descriptions). */
  readonly rules: Readonly<Record<string, string>>;
}

export interface QueryParameter {
  readonly name: string;
  readonly description: string;
}

/** The `{id}` of a path: what it identifies and the form the function accepts. */
export interface PathParameter {
  readonly description: string;
  /** A regular expression (ECMA-262, as JSON Schema and OpenAPI take it). */
  readonly pattern: string;
}

/** A grant id (`checkGrantId` in `functions/domain/requests.ts`). */
export const GRANT_ID: PathParameter = {
  description: 'the grant id (a UUID)',
  pattern: GRANT_ID_PATTERN.source,
};
/** A drill id (`getDrill` in `functions/domain/drill.ts`). */
export const DRILL_ID: PathParameter = {
  description: 'the drill id (POST /drills answers it)',
  pattern: DRILL_ID_PATTERN.source,
};

export interface RouteDefinition {
  readonly method: 'GET' | 'POST';
  /** API Gateway resource path, e.g. `/grants/{id}/revoke`. */
  readonly path: string;
  readonly function: ApiFunctionName;
  /** Unique, for OpenAPI and generated clients. */
  readonly operationId: string;
  readonly summary: string;
  readonly callers: CallerRule;
  /** The status of a success. @default 200 */
  readonly success?: 200 | 202;
  /** What the `{id}` of the path is. @default {@link GRANT_ID} */
  readonly idParameter?: PathParameter;
  readonly body?: RequestBody;
  readonly query?: readonly QueryParameter[];
  /** Request headers the function reads besides the body. */
  readonly headers?: readonly QueryParameter[];
}

const JUSTIFICATION = `a justification: at least ${REASON_MIN} characters after trimming, not a few repeated characters; at most ${REASON_MAX} characters as sent`;
const STOP_REASON = `a stop reason: not blank; at most ${REASON_MAX} characters as sent`;

export const ACTIVATION_BODY: RequestBody = {
  model: 'Activation',
  schema: activationRequestSchema,
  rules: {
    profile: 'the name of a profile (GET /profiles lists those the caller may activate)',
    reason: JUSTIFICATION,
    durationMinutes: "whole minutes, 1 to the profile's maxDurationMinutes; default min(60, that maximum)",
    ticket: `one line of printable text, at most ${TICKET_MAX} characters, matching the profile's ticket pattern; required when the profile says so`,
    account:
      "a 12-digit account id among the profile's accounts (GET /profiles lists them); required when it has several",
  },
};
export const REVOCATION_BODY: RequestBody = {
  model: 'Revocation',
  schema: revokeRequestSchema,
  rules: { reason: STOP_REASON },
};
export const EXTENSION_BODY: RequestBody = {
  model: 'Extension',
  schema: extensionRequestSchema,
  rules: {
    minutes: "whole minutes added to the expiry, at least 1, within the profile's maxTotalMinutes",
    reason: JUSTIFICATION,
  },
};
export const REVIEW_BODY: RequestBody = {
  model: 'Review',
  schema: reviewRequestSchema,
  rules: { outcome: '"justified" or "unjustified"', notes: JUSTIFICATION },
};
export const DRILL_BODY: RequestBody = {
  model: 'DrillRequest',
  schema: drillRequestSchema,
  optional: true,
  rules: {
    mode: `${DRILL_MODES.map((m) => `"${m}"`).join(' or ')}: how the drill ends its grant (revoke it, or let a one-minute grant expire); default "revoke"`,
  },
};
export const CONTROL_BODY: RequestBody = {
  model: 'Control',
  schema: controlRequestSchema,
  rules: { profile: 'a profile name; omitted: every profile', reason: STOP_REASON },
};

const PAGE: readonly QueryParameter[] = [
  { name: 'limit', description: `page size, 1–${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE})` },
  { name: 'nextToken', description: 'the nextToken of the previous page' },
];

const AUDIT_QUERY: Readonly<Record<(typeof AUDIT_QUERY_PARAMETERS)[number], string>> = {
  requester: 'ARN of the requesting IAM user or role session',
  profile: 'profile name',
  eventType: 'an audit event type, e.g. ACTIVATED',
  from: 'ISO 8601 date or time (default: 7 days before `to` without another filter)',
  to: 'ISO 8601 date or time; a date alone means the whole day (default: now)',
  limit: PAGE[0]!.description,
  nextToken: PAGE[1]!.description,
};

const ROUTE_LIST = [
  {
    method: 'POST',
    path: '/grants',
    function: 'createGrant',
    operationId: 'activateGrant',
    summary: 'Activate a profile: a time-bound grant for the caller',
    callers: 'eligible',
    body: ACTIVATION_BODY,
    headers: [
      {
        name: 'Idempotency-Key',
        description: 'a retry with the same key and body returns the first answer instead of a second grant',
      },
    ],
  },
  {
    method: 'GET',
    path: '/grants',
    function: 'listGrants',
    operationId: 'listGrants',
    summary: 'Grants, newest first, paginated',
    callers: 'caller',
    query: [{ name: 'status', description: 'PENDING, ACTIVE, EXPIRED, REVOKED, FAILED or DENIED' }, ...PAGE],
  },
  {
    method: 'GET',
    path: '/grants/{id}',
    function: 'getGrant',
    operationId: 'getGrant',
    summary: 'One grant, its audit events and whether their hash chain holds',
    callers: 'caller',
  },
  {
    method: 'POST',
    path: '/grants/{id}/revoke',
    function: 'revokeGrant',
    operationId: 'revokeGrant',
    summary: 'End a grant now',
    callers: 'requester-or-security',
    body: REVOCATION_BODY,
  },
  {
    method: 'POST',
    path: '/grants/{id}/extend',
    function: 'extendGrant',
    operationId: 'extendGrant',
    summary: 'Extend an active grant',
    callers: 'requester',
    body: EXTENSION_BODY,
  },
  {
    method: 'POST',
    path: '/grants/{id}/review',
    function: 'reviewGrant',
    operationId: 'reviewGrant',
    summary: 'Record the post-incident review of an ended grant',
    callers: 'reviewer',
    body: REVIEW_BODY,
  },
  {
    // No body: the grant id in the path and the SigV4 caller are the whole request.
    method: 'POST',
    path: '/grants/{id}/credentials',
    function: 'issueCredentials',
    operationId: 'issueCredentials',
    summary: "Temporary credentials of a profile-role grant's role",
    callers: 'requester',
  },
  {
    method: 'GET',
    path: '/grants/{id}/activity',
    function: 'getActivity',
    operationId: 'getActivity',
    summary: 'The calls made with a grant (action logging), newest first, and their summary',
    callers: 'requester-security-or-reviewer',
    query: [...PAGE],
  },
  {
    method: 'GET',
    path: '/audit',
    function: 'queryAudit',
    operationId: 'queryAudit',
    summary: 'Audit events of all grants, filtered, newest first, paginated',
    callers: 'caller',
    query: AUDIT_QUERY_PARAMETERS.map((name) => ({ name, description: AUDIT_QUERY[name] })),
  },
  {
    method: 'GET',
    path: '/profiles',
    function: 'listProfiles',
    operationId: 'listProfiles',
    summary: 'The profiles the caller may activate, with exactly what each grants',
    callers: 'caller',
  },
  {
    method: 'GET',
    path: '/freeze',
    function: 'killSwitch',
    operationId: 'getFreeze',
    summary: 'The kill switch: which profiles are frozen',
    callers: 'caller',
  },
  {
    method: 'POST',
    path: '/freeze',
    function: 'killSwitch',
    operationId: 'freeze',
    summary: 'Freeze activations of every profile or of one',
    callers: 'security',
    body: CONTROL_BODY,
  },
  {
    method: 'POST',
    path: '/unfreeze',
    function: 'killSwitch',
    operationId: 'unfreeze',
    summary: 'Lift a freeze',
    callers: 'security',
    body: CONTROL_BODY,
  },
  {
    method: 'POST',
    path: '/revoke-all',
    function: 'killSwitch',
    operationId: 'revokeAll',
    summary: 'Revoke every active grant, or those of one profile',
    callers: 'security',
    body: CONTROL_BODY,
  },
  {
    // 202 at once: a drill outlasts API Gateway's 29 seconds; the caller polls GET /drills/{id}.
    method: 'POST',
    path: '/drills',
    function: 'startDrill',
    operationId: 'startDrill',
    summary: 'Start a drill: rehearse the whole break-glass path with the drill profile',
    callers: 'security',
    success: 202,
    body: DRILL_BODY,
  },
  {
    method: 'GET',
    path: '/drills',
    function: 'listDrills',
    operationId: 'listDrills',
    summary: 'The last drill, its age in days, and the recent ones',
    callers: 'security',
  },
  {
    method: 'GET',
    path: '/drills/{id}',
    function: 'listDrills',
    operationId: 'getDrill',
    summary: "A drill's progress: its steps so far, then its result",
    callers: 'security',
    idParameter: DRILL_ID,
  },
] as const satisfies readonly RouteDefinition[];
/** Every route of the API. */
export const ROUTES: readonly RouteDefinition[] = ROUTE_LIST;
/** The operation id of a route (OpenAPI's `operationId`; the CLI calls routes by it). */
export type OperationId = (typeof ROUTE_LIST)[number]['operationId'];

/** The request bodies, one per model name. */
export function requestBodies(): RequestBody[] {
  const byModel = new Map<string, RequestBody>();
  for (const route of ROUTES) if (route.body) byModel.set(route.body.model, route.body);
  return [...byModel.values()];
}

/** The routes a function serves, as `METHOD /path` (its description in the stack). */
export function routesServedBy(name: ApiFunctionName): string[] {
  return ROUTES.filter((r) => r.function === name).map((r) => `${r.method} ${r.path}`);
}

/** The route of an operation. */
export function routeOf(operationId: OperationId): RouteDefinition {
  const found = ROUTES.find((r) => r.operationId === operationId);
  if (!found) throw new Error(`No route for operation ${operationId}`);
  return found;
}

/**
 * The path of a route with its parameters filled in (URI-encoded), for clients:
 * `routePath('/grants/{id}/revoke', { id })` → `/grants/0f8f…/revoke`. Throws when a parameter is
 * missing or the path is not a declared route.
 */
export function routePath(path: string, params: Readonly<Record<string, string>> = {}): string {
  if (!ROUTES.some((r) => r.path === path)) throw new Error(`No route with path ${path}`);
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`Path parameter ${name} is required for ${path}`);
    return encodeURIComponent(value);
  });
}
