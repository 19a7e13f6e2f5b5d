/**
 * The OpenAPI 3 description and the API reference, generated from the route table
 * (`npm run openapi` writes `docs/openapi.json` and `docs/reference-api.md`; a test checks both are
 * up to date and that the description is valid OpenAPI).
 */
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, NEXT_TOKEN_MAX } from '../domain/paging.js';
import { REASON_MAX, REASON_MIN, TICKET_MAX } from '../domain/requests.js';
import { type RequestJsonSchema, requestJsonSchema } from './json-schema.js';
import {
  CALLER_RULES,
  GRANT_ID,
  isServiceApiFunction,
  type RequestBody,
  ROUTES,
  type RouteDefinition,
  requestBodies,
} from './routes.js';

/** Said of a route whose function is deployed only with a drill profile. */
const DRILLS_ONLY = 'Deployed only when the profiles have a drill profile (docs/drills.md).';

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

/** The request body's schema with each field's rule as its description. */
function bodySchema(body: RequestBody): RequestJsonSchema {
  const schema = requestJsonSchema(body.schema, body.model);
  const properties = Object.fromEntries(
    Object.entries(schema.properties ?? {}).map(([name, p]) => [
      name,
      body.rules[name] ? { ...p, description: body.rules[name] } : p,
    ]),
  );
  return { ...schema, properties };
}

function operation(route: RouteDefinition): Record<string, unknown> {
  const pathParams = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    description: (route.idParameter ?? GRANT_ID).description,
    schema: { type: 'string', pattern: (route.idParameter ?? GRANT_ID).pattern },
  }));
  const query = (route.query ?? []).map((q) => ({
    name: q.name,
    in: 'query',
    required: false,
    description: q.description,
    schema: { type: 'string' },
  }));
  const headers = (route.headers ?? []).map((h) => ({
    name: h.name,
    in: 'header',
    required: false,
    description: h.description,
    schema: { type: 'string', maxLength: 128 },
  }));
  const error = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  return {
    operationId: route.operationId,
    summary: route.summary,
    description: `Who may call: ${CALLER_RULES[route.callers]}.${isServiceApiFunction(route.function) ? '' : ` ${DRILLS_ONLY}`}`,
    'x-breakglass-callers': route.callers,
    ...(pathParams.length || query.length || headers.length
      ? { parameters: [...pathParams, ...query, ...headers] }
      : {}),
    ...(route.body
      ? {
          requestBody: {
            required: !route.body.optional,
            content: { 'application/json': { schema: { $ref: `#/components/schemas/${route.body.model}` } } },
          },
        }
      : {}),
    responses: {
      [String(route.success ?? 200)]: {
        description: route.success === 202 ? 'Accepted (started; follow it with the route that reads it)' : 'OK',
        content: { 'application/json': { schema: { type: 'object' } } },
      },
      '400': error('invalid request (the message says what is wrong)'),
      '403': error('not allowed (for an activation: recorded and announced)'),
      default: error('other errors: 404 no such grant, profile or drill, 409 conflict, 423 frozen, 429/503 busy'),
    },
  };
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'break-glass',
      version: '1',
      description:
        'Emergency access to AWS: time-bound, narrowly scoped IAM grants with audit, alerts and automatic revocation. Every request is SigV4-signed (API Gateway AWS_IAM). Generated from functions/api/routes.ts by `npm run openapi`.',
    },
    servers: [
      {
        url: 'https://{apiId}.execute-api.{region}.amazonaws.com/v1',
        variables: { apiId: { default: 'abc123' }, region: { default: 'eu-west-1' } },
      },
    ],
    security: [{ sigv4: [] }],
    paths,
    components: {
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          description: 'AWS Signature Version 4 for the execute-api service',
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
      },
      schemas: {
        Error: ERROR_SCHEMA,
        ...Object.fromEntries(requestBodies().map((b) => [b.model, bodySchema(b)])),
      },
    },
  };
}

/** `docs/reference-api.md`: routes, who may call, request fields and their rules. */
export function apiReference(): string {
  const lines = [
    '# API reference',
    '',
    '<!-- Generated from functions/api/routes.ts by `npm run openapi`; do not edit by hand (a test compares). -->',
    '',
    'Every request is SigV4-signed for `execute-api` (API Gateway `AWS_IAM`) by an IAM principal of the',
    'deployment account; the function behind the route then decides who may call it. The machine-readable',
    'description is [openapi.json](openapi.json) (OpenAPI 3.0). Errors are `{ "error": { "code", "message" } }`.',
    '',
    '| Method | Path | Who may call | Body | Summary |',
    '|---|---|---|---|---|',
    ...ROUTES.map(
      (r) =>
        `| ${r.method} | \`${r.path}\` | ${r.callers} | ${r.body ? `[${r.body.model}](#${r.body.model.toLowerCase()})` : '—'} | ${r.summary}${isServiceApiFunction(r.function) ? '' : ' (drills*)'} |`,
    ),
    '',
    `(drills*) ${DRILLS_ONLY}`,
    '',
    '## Who may call',
    '',
    ...Object.entries(CALLER_RULES).map(([k, v]) => `- \`${k}\`: ${v}.`),
    '',
    '## Request bodies',
    '',
    'Bodies are JSON objects; an unknown field is refused (400). API Gateway checks each body against a model',
    'generated from the same schema the function parses with; the function checks the rules a model cannot say',
    "(trimming, repeated characters, a ticket's forbidden characters, a profile's limits).",
  ];
  for (const body of requestBodies()) {
    const schema = requestJsonSchema(body.schema, body.model);
    const required = new Set(schema.required ?? []);
    const used = ROUTES.filter((r) => r.body?.model === body.model).map((r) => `${r.method} \`${r.path}\``);
    lines.push(
      '',
      `### ${body.model}`,
      '',
      `Used by ${used.join(', ')}.${body.optional ? ' The body may be left out: every field then takes its default.' : ''}`,
      '',
      '| Field | Type | Required | Rule |',
      '|---|---|---|---|',
    );
    for (const [name, p] of Object.entries(schema.properties ?? {})) {
      const type = p.enum ? p.enum.map((e) => `"${e}"`).join(' \\| ') : p.type;
      lines.push(`| \`${name}\` | ${type} | ${required.has(name) ? 'yes' : 'no'} | ${body.rules[name] ?? ''} |`);
    }
  }
  const withQuery = ROUTES.filter((r) => r.query?.length);
  lines.push('', '## Query parameters', '');
  for (const r of withQuery) {
    lines.push(
      `${r.method} \`${r.path}\`:`,
      '',
      ...(r.query ?? []).map((q) => `- \`${q.name}\`: ${q.description}`),
      '',
    );
  }
  lines.push(
    `Every list takes \`limit\` (1–${MAX_PAGE_SIZE}, default ${DEFAULT_PAGE_SIZE}) and \`nextToken\` (opaque, at most ${NEXT_TOKEN_MAX} characters: pass back the one a page returned), parsed by one function (\`functions/domain/paging.ts\`). Unknown query parameters of \`GET /audit\` are refused.`,
    '',
    '## Text rules',
    '',
    'One rule per text field (`functions/domain/requests.ts`):',
    '',
    `- a **justification** (\`reason\` of an activation or an extension, \`notes\` of a review) is read by a reviewer later: at least ${REASON_MIN} characters after trimming, and not a few repeated characters;`,
    `- a **stop reason** (\`reason\` of a revocation, freeze, unfreeze or revoke-all) must only not be blank: stopping access is never harder than granting it;`,
    `- every one is at most ${REASON_MAX} characters as sent (API Gateway's model says the same), a ticket at most ${TICKET_MAX}.`,
    '',
  );
  return lines.join('\n');
}
