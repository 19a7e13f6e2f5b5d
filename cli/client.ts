/**
 * The CLI's HTTP client: SigV4-signs each request with the standard AWS credential chain
 * (env, shared profiles, SSO, instance/container roles) for `execute-api`. Against the local
 * sandbox (a loopback endpoint) it sends `X-Local-Principal` instead of signing.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { type OperationId, routeOf, routePath } from '../functions/api/routes.js';

export interface ClientOptions {
  readonly endpoint: string;
  readonly region?: string;
  /** Named AWS profile for the credential chain. */
  readonly awsProfile?: string;
  /** Local sandbox identity (only sent to a loopback endpoint). */
  readonly localPrincipal?: string;
  /** Sign even a loopback endpoint (tests). */
  readonly forceSign?: boolean;
  /** Sent as `Idempotency-Key` (activation). */
  readonly idempotencyKey?: string;
  /** How long to wait for the answer. @default 30000 */
  readonly timeoutMs?: number;
}

export interface ApiResponse {
  readonly status: number;
  /** The parsed JSON answer; its shape is the route's (see cli/wire.ts), read with a type assertion at the call. */
  readonly body: unknown;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
}

export function isLoopback(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(url.hostname);
}

/** `abc123.execute-api.eu-west-1.amazonaws.com` → `eu-west-1`. */
export function regionFromHost(host: string): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(host)?.[1];
}

export async function request(
  options: ClientOptions,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiResponse> {
  let base: URL;
  try {
    base = new URL(options.endpoint.endsWith('/') ? options.endpoint : `${options.endpoint}/`);
  } catch {
    throw new ConfigError(
      `The endpoint "${options.endpoint}" is not a URL (e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/v1)`,
    );
  }
  const url = new URL(path.replace(/^\//, ''), base);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = {
    host: url.host,
    accept: 'application/json',
    'user-agent': 'breakglass-cli/0.1',
  };
  if (payload !== undefined) headers['content-type'] = 'application/json';
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;

  const local = isLoopback(url) && !options.forceSign;
  if (local) {
    if (!options.localPrincipal)
      throw new ConfigError(
        'The local sandbox needs an identity: pass --principal <ARN> or set BREAKGLASS_LOCAL_PRINCIPAL',
      );
    headers['x-local-principal'] = options.localPrincipal;
  } else {
    const region = options.region ?? regionFromHost(url.hostname);
    if (!region) throw new ConfigError('Cannot tell the API region: pass --region or set AWS_REGION');
    const signer = new SignatureV4({
      service: 'execute-api',
      region,
      sha256: Sha256,
      credentials: defaultProvider(options.awsProfile ? { profile: options.awsProfile } : {}),
    });
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    let signed;
    try {
      signed = await signer.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query,
        headers,
        ...(payload !== undefined ? { body: payload } : {}),
      });
    } catch (error) {
      throw new ConfigError(
        `No AWS credentials to sign with (${(error as Error).name}). Sign in (aws sso login, or set AWS_PROFILE) and retry.`,
      );
    }
    Object.assign(headers, signed.headers);
  }
  delete headers.host;

  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      ...(payload !== undefined ? { body: payload } : {}),
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
  } catch (error) {
    throw new NetworkError(
      `Cannot reach ${url.origin}: ${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}`,
    );
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    // API Gateway's own errors are JSON, but a proxy in between may answer HTML.
    parsed = { error: { code: `HTTP${res.status}`, message: text.slice(0, 300) } };
  }
  return { status: res.status, body: parsed };
}

/**
 * Calls a route of the API's route table (`functions/api/routes.ts`) by its operation id: the
 * method and path come from the table, path parameters are filled in and encoded, query
 * parameters that are set are appended.
 */
export function callRoute(
  options: ClientOptions,
  operationId: OperationId,
  args: {
    readonly params?: Readonly<Record<string, string>>;
    readonly query?: Readonly<Record<string, string | undefined>>;
    readonly body?: unknown;
  } = {},
): Promise<ApiResponse> {
  const route = routeOf(operationId);
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(args.query ?? {})) if (v !== undefined) query.set(k, v);
  const qs = query.toString();
  return request(options, route.method, `${routePath(route.path, args.params)}${qs ? `?${qs}` : ''}`, args.body);
}
