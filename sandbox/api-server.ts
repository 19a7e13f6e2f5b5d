/**
 * A local stand-in for API Gateway: routes HTTP requests to the same Lambda handlers the
 * stacks deploy, as REST-API proxy events. Because there is no SigV4 authorizer here, the
 * caller's identity comes from the `X-Local-Principal` header, which this server (and only
 * this server) turns into `requestContext.identity`, looking up the role/user id in IAM as
 * API Gateway would report it. The deployed handlers never read that header.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { GetRoleCommand, GetUserCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { parsePrincipalArn } from '../functions/domain/principal.js';

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface Route {
  readonly method: string;
  /** e.g. `/grants/{id}/revoke` */
  readonly resource: string;
  readonly handler: ApiHandler;
}

export const PRINCIPAL_HEADER = 'x-local-principal';
const MAX_READ_BYTES = 256 * 1024;

function compile(resource: string): RegExp {
  return new RegExp(`^${resource.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}/?$`);
}

export function createApiServer(
  routes: readonly Route[],
  iam: IAMClient,
  log: (line: string) => void = () => {},
): Server {
  const compiled = routes.map((r) => ({ ...r, pattern: compile(r.resource) }));
  const server = createServer(async (req, res) => {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    let status = 500;
    try {
      const matching = compiled.filter((r) => r.pattern.test(url.pathname));
      const route = matching.find((r) => r.method === req.method);
      if (!route) {
        status = matching.length ? 405 : 404;
        return send(res, status, {
          error: {
            code: status === 405 ? 'MethodNotAllowed' : 'NotFound',
            message:
              status === 405
                ? `${req.method} is not allowed on ${url.pathname}`
                : `No route ${req.method} ${url.pathname}. Routes: ${routes.map((r) => `${r.method} ${r.resource}`).join(', ')}`,
          },
        });
      }
      const body = await readBody(req);
      if (body === undefined) {
        status = 413;
        return send(res, 413, {
          error: { code: 'PayloadTooLarge', message: `The request body must be at most ${MAX_READ_BYTES} bytes` },
        });
      }
      const event = await toEvent(req, url, route.resource, route.pattern, body, iam);
      const result = await route.handler(event, { awsRequestId: event.requestContext.requestId } as Context);
      status = result.statusCode;
      res.writeHead(result.statusCode, { ...(result.headers as Record<string, string>) });
      res.end(result.body);
    } catch (error) {
      // The handlers map their own errors; reaching here is a sandbox bug (or the client went away).
      log(`[api] sandbox error: ${(error as Error).stack ?? String(error)}`);
      status = 500;
      if (!res.headersSent)
        send(res, 500, { error: { code: 'InternalError', message: 'Internal error in the local sandbox' } });
      else res.destroy();
    } finally {
      log(`[api] ${req.method} ${url.pathname} ${status} ${Date.now() - started}ms`);
    }
  });
  // A client that resets its connection mid-request must not become an unhandled 'error' event.
  server.on('clientError', (error, socket) => {
    log(`[api] client error: ${error.message}`);
    socket.destroy();
  });
  return server;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_READ_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** What API Gateway's AWS_IAM authorization would put in `requestContext.identity`. */
async function identityFor(
  header: string | undefined,
  iam: IAMClient,
): Promise<{ userArn: string | null; caller: string | null }> {
  if (!header) return { userArn: null, caller: null };
  const principal = parsePrincipalArn(header.trim());
  if (!principal) return { userArn: header.trim(), caller: null };
  try {
    if (principal.kind === 'assumed-role') {
      const { Role } = await iam.send(new GetRoleCommand({ RoleName: principal.entityName }));
      return { userArn: principal.arn, caller: `${Role?.RoleId}:${principal.sessionName}` };
    }
    const { User } = await iam.send(new GetUserCommand({ UserName: principal.entityName }));
    return { userArn: principal.arn, caller: User?.UserId ?? null };
  } catch {
    // Unknown to IAM: signed by nobody real. Pass the ARN so the attempt is judged (and recorded).
    return { userArn: principal.arn, caller: null };
  }
}

async function toEvent(
  req: IncomingMessage,
  url: URL,
  resource: string,
  pattern: RegExp,
  body: string,
  iam: IAMClient,
): Promise<APIGatewayProxyEvent> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (typeof value === 'string' && key !== PRINCIPAL_HEADER) headers[key] = value;
  }
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = value;
  const pathParameters = pattern.exec(url.pathname)?.groups ?? null;
  const identity = await identityFor(req.headers[PRINCIPAL_HEADER] as string | undefined, iam);
  const requestId = randomUUID();
  return {
    resource,
    path: url.pathname,
    httpMethod: req.method ?? 'GET',
    headers,
    multiValueHeaders: {},
    queryStringParameters: Object.keys(query).length ? query : null,
    multiValueQueryStringParameters: null,
    pathParameters: pathParameters ? { ...pathParameters } : null,
    stageVariables: null,
    body: body.length ? body : null,
    isBase64Encoded: false,
    requestContext: {
      requestId,
      resourcePath: resource,
      httpMethod: req.method ?? 'GET',
      path: url.pathname,
      stage: 'local',
      accountId: '123456789012',
      apiId: 'local',
      protocol: 'HTTP/1.1',
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      authorizer: null,
      identity: {
        userArn: identity.userArn,
        caller: identity.caller,
        user: identity.caller,
        accountId: identity.userArn ? (identity.userArn.split(':')[4] ?? null) : null,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: req.headers['user-agent'] ?? null,
        accessKey: null,
        apiKey: null,
        apiKeyId: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
      } as unknown as APIGatewayProxyEvent['requestContext']['identity'],
    },
  };
}
