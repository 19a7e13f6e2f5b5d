/**
 * The sandbox's stand-in for CloudTrail. moto records no API calls, so this loopback proxy sits in
 * front of it: a responder points their AWS SDK or CLI at it (`AWS_ENDPOINT_URL`), every request
 * goes through to moto unchanged, and each one signed with credentials break-glass vended (the
 * access key id `POST /grants/{id}/credentials` returned) becomes a CloudTrail-shaped record, handed
 * to the capture handler as EventBridge would hand it (`AWS API Call via CloudTrail`). So
 * `breakglass activity <id>` shows a responder's calls within seconds, as it would in AWS.
 *
 * The record follows CloudTrail's documented format (CloudTrail User Guide, "CloudTrail record
 * contents for management, data, and network activity events", and "CloudTrail userIdentity element"):
 * `eventVersion`, `userIdentity` (`AssumedRole`, with `sessionContext.sessionIssuer` naming the role
 * with its path), `eventTime`, `eventSource`, `eventName`, `awsRegion`, `sourceIPAddress`,
 * `userAgent`, `errorCode`/`errorMessage`, `requestParameters`, `requestID`, `eventID`, `readOnly`,
 * `eventType`, `managementEvent`, `recipientAccountId`, `eventCategory`. What it cannot know as AWS
 * does, it derives and says so here:
 * - `eventName`: the query protocol's `Action`, the JSON protocol's `X-Amz-Target`, else (REST
 *   services such as S3) from the method and path (`GET /` → `ListBuckets`, `GET /b` →
 *   `ListObjects`, `GET /b/k` → `GetObject`, `PUT /b/k` → `PutObject`, `DELETE /b/k` → `DeleteObject`);
 * - `readOnly`: true for `Get*`, `List*`, `Describe*`, `Head*`, `Lookup*`, `Query`, `Scan`;
 * - `errorCode`: the `Code` (XML) or `__type` (JSON) of an error response;
 * - `responseElements`: never (break-glass never keeps them either).
 * Calls signed with any other key (the handlers' own, seeding) pass through unrecorded, like the
 * EventBridge rule, which matches break-glass sessions only.
 *
 * A spoke grant's session acts in the spoke's account (moto derives the account from the
 * credentials), so its record is the spoke's: `recipientAccountId`, the identity's account and the
 * envelope's `account` are the spoke's, as the hub's activity bus receives an event its spoke's rule
 * forwarded (EventBridge keeps the event's `account`). The stand-in delivers it straight to the
 * capture, which checks those accounts against the grant's.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { GetRoleCommand, type IAMClient } from '@aws-sdk/client-iam';
import { CLOUDTRAIL_DETAIL_TYPE } from '../functions/domain/activity.js';
import { grantSessionName, PROFILE_ROLE_PATH } from '../functions/domain/profile-roles.js';
import type { ApiHandler } from './api-server.js';
import { iamIn } from './spokes.js';

/** Who a vended access key belongs to. */
export interface VendedSession {
  readonly grantId: string;
  /** The account the session acts in (a spoke's for a spoke grant). @default the recorder's account */
  readonly account?: string;
  readonly roleArn: string;
  readonly roleId: string;
  readonly sessionName: string;
  readonly issuedAt: string;
}

export interface RecorderOptions {
  /** moto, where every request goes. */
  readonly target: string;
  readonly account: string;
  /** Receives each record in its EventBridge envelope (the capture handler). */
  readonly deliver: (event: Record<string, unknown>) => Promise<unknown>;
  readonly log?: (line: string) => void;
  /** The clock of `eventTime` (tests). */
  readonly now?: () => Date;
}

const READ_ONLY = /^(Get|List|Describe|Head|Lookup|Query$|Scan$|BatchGet)/;

/** The AWS API call a request is, as far as the wire shows it. */
export function describeCall(
  method: string,
  url: URL,
  headers: IncomingMessage['headers'],
  body: string,
):
  | { service: string; region: string; accessKeyId: string; action: string; parameters: Record<string, unknown> }
  | undefined {
  const auth = headers.authorization;
  // SigV4: Credential=<key>/<date>/<region>/<service>/aws4_request
  const m = typeof auth === 'string' ? /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(auth) : null;
  const q = url.searchParams.get('X-Amz-Credential');
  const presigned = q ? /^([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request$/.exec(q) : null;
  const cred = m ?? presigned;
  if (!cred) return undefined;
  const [, accessKeyId, region, service] = cred as unknown as [string, string, string, string];
  const form = /application\/x-www-form-urlencoded/.test(String(headers['content-type'] ?? ''))
    ? new URLSearchParams(body)
    : undefined;
  const query = form?.get('Action') ? form : url.searchParams.get('Action') ? url.searchParams : undefined;
  if (query) {
    const parameters: Record<string, unknown> = {};
    for (const [k, v] of query)
      if (k !== 'Action' && k !== 'Version') parameters[k.charAt(0).toLowerCase() + k.slice(1)] = v;
    return { service, region, accessKeyId, action: query.get('Action')!, parameters };
  }
  const target = headers['x-amz-target'];
  if (typeof target === 'string') {
    let parameters: Record<string, unknown> = {};
    try {
      const parsed = JSON.parse(body || '{}');
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) parameters = parsed;
    } catch {
      // not JSON: no parameters
    }
    return { service, region, accessKeyId, action: target.slice(target.lastIndexOf('.') + 1), parameters };
  }
  // REST (S3 path style).
  const [bucket, ...rest] = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const key = rest.join('/');
  const action =
    method === 'GET' && !bucket
      ? 'ListBuckets'
      : method === 'GET' && !key
        ? 'ListObjects'
        : method === 'GET'
          ? 'GetObject'
          : method === 'PUT' && !key
            ? 'CreateBucket'
            : method === 'PUT'
              ? 'PutObject'
              : method === 'DELETE' && !key
                ? 'DeleteBucket'
                : method === 'DELETE'
                  ? 'DeleteObject'
                  : method === 'HEAD' && !key
                    ? 'HeadBucket'
                    : method === 'HEAD'
                      ? 'HeadObject'
                      : `${method}${key ? 'Object' : 'Bucket'}`;
  return {
    service,
    region,
    accessKeyId,
    action,
    parameters: { ...(bucket ? { bucketName: bucket } : {}), ...(key ? { key } : {}) },
  };
}

/** The error code and message of a failed response (XML `<Code>`, JSON `__type`). */
export function errorOf(status: number, body: string): { errorCode?: string; errorMessage?: string } {
  if (status < 400) return {};
  const xml = /<Code>([^<]+)<\/Code>/.exec(body);
  const xmlMessage = /<Message>([^<]*)<\/Message>/.exec(body);
  if (xml) return { errorCode: xml[1]!, ...(xmlMessage ? { errorMessage: xmlMessage[1]! } : {}) };
  try {
    const parsed = JSON.parse(body) as { __type?: string; message?: string; Message?: string };
    if (parsed.__type)
      return {
        errorCode: parsed.__type.slice(parsed.__type.lastIndexOf('#') + 1),
        ...(parsed.message || parsed.Message ? { errorMessage: (parsed.message ?? parsed.Message)! } : {}),
      };
  } catch {
    // not JSON
  }
  return { errorCode: `Http${status}` };
}

export class CloudTrailRecorder {
  private readonly sessions = new Map<string, VendedSession>();
  private server?: Server;
  private readonly pending = new Set<Promise<unknown>>();
  /** Records delivered, and failures to deliver (tests and the log). */
  delivered = 0;
  failed = 0;

  constructor(private readonly options: RecorderOptions) {}

  /** Remembers who a vended access key belongs to (the sandbox calls it when credentials are issued). */
  register(accessKeyId: string, session: VendedSession): void {
    this.sessions.set(accessKeyId, session);
  }

  /** The CloudTrail record of a call by a vended session. */
  record(
    session: VendedSession,
    call: NonNullable<ReturnType<typeof describeCall>>,
    context: { sourceIp: string; userAgent?: string; status: number; responseBody: string; requestId?: string },
  ): Record<string, unknown> {
    const roleName = session.roleArn.slice(session.roleArn.lastIndexOf('/') + 1);
    const account = session.account ?? this.options.account;
    const time = (this.options.now?.() ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const isS3Object = call.service === 's3' && /Object$/.test(call.action);
    return {
      eventVersion: '1.09',
      userIdentity: {
        type: 'AssumedRole',
        principalId: `${session.roleId}:${session.sessionName}`,
        arn: `arn:aws:sts::${account}:assumed-role/${roleName}/${session.sessionName}`,
        accountId: account,
        accessKeyId: call.accessKeyId,
        sessionContext: {
          sessionIssuer: {
            type: 'Role',
            principalId: session.roleId,
            arn: session.roleArn,
            accountId: account,
            userName: roleName,
          },
          attributes: { creationDate: session.issuedAt, mfaAuthenticated: 'false' },
        },
      },
      eventTime: time,
      eventSource: `${call.service}.amazonaws.com`,
      eventName: call.action,
      awsRegion: call.region,
      sourceIPAddress: context.sourceIp,
      ...(context.userAgent ? { userAgent: context.userAgent } : {}),
      ...errorOf(context.status, context.responseBody),
      requestParameters: Object.keys(call.parameters).length ? call.parameters : null,
      responseElements: null,
      requestID: context.requestId ?? randomUUID(),
      eventID: randomUUID(),
      readOnly: READ_ONLY.test(call.action),
      eventType: 'AwsApiCall',
      managementEvent: !isS3Object,
      recipientAccountId: account,
      eventCategory: isS3Object ? 'Data' : 'Management',
    };
  }

  /** The EventBridge envelope CloudTrail's events arrive in. */
  envelope(record: Record<string, unknown>): Record<string, unknown> {
    const service = String(record.eventSource).replace(/\.amazonaws\.com$/, '');
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': CLOUDTRAIL_DETAIL_TYPE,
      source: `aws.${service}`,
      // The account the call was recorded in: kept when a spoke's rule forwards the event to the hub's bus.
      account: typeof record.recipientAccountId === 'string' ? record.recipientAccountId : this.options.account,
      time: record.eventTime,
      region: record.awsRegion,
      resources: [],
      detail: record,
    };
  }

  async start(port: number): Promise<number> {
    const target = new URL(this.options.target);
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const upstream = request(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: { ...req.headers, host: req.headers.host ?? target.host },
          },
          (answer) => {
            const out: Buffer[] = [];
            answer.on('data', (c: Buffer) => out.push(c));
            answer.on('end', () => {
              const responseBody = Buffer.concat(out);
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              res.end(responseBody);
              this.observe(
                req,
                body.toString('utf8'),
                answer.statusCode ?? 502,
                responseBody.toString('utf8'),
                answer.headers,
              );
            });
          },
        );
        upstream.on('error', (e) => {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`cloudtrail stand-in: moto unreachable: ${e.message}`);
        });
        upstream.end(body);
      });
    });
    await new Promise<void>((ok, fail) => {
      this.server!.once('error', fail);
      this.server!.listen(port, '127.0.0.1', ok);
    });
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : port;
  }

  private observe(
    req: IncomingMessage,
    body: string,
    status: number,
    responseBody: string,
    headers: IncomingMessage['headers'],
  ): void {
    const call = describeCall(req.method ?? 'GET', new URL(req.url ?? '/', 'http://local'), req.headers, body);
    if (!call) return;
    const session = this.sessions.get(call.accessKeyId);
    if (!session) return; // not a break-glass session: the rule would not match it either
    const requestId = headers['x-amzn-requestid'] ?? headers['x-amz-request-id'];
    const record = this.record(session, call, {
      sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
      ...(typeof req.headers['user-agent'] === 'string' ? { userAgent: req.headers['user-agent'] } : {}),
      status,
      responseBody,
      ...(typeof requestId === 'string' ? { requestId } : {}),
    });
    const delivery = this.options
      .deliver(this.envelope(record))
      .then(
        () => {
          this.delivered += 1;
          this.options.log?.(
            `[cloudtrail stand-in] ${record.eventTime} ${call.service}:${call.action} by ${session.sessionName} → grant ${session.grantId}`,
          );
        },
        (e: unknown) => {
          this.failed += 1;
          this.options.log?.(`[cloudtrail stand-in] delivery failed: ${e instanceof Error ? e.message : String(e)}`);
        },
      )
      .finally(() => this.pending.delete(delivery));
    this.pending.add(delivery);
  }

  /** Waits for the deliveries under way (tests). */
  async settle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  async stop(): Promise<void> {
    await this.settle().catch(() => undefined);
    await new Promise<void>((ok) => (this.server ? this.server.close(() => ok()) : ok()));
  }
}

/**
 * The sandbox's wiring: the recorder in front of moto, delivering to the capture handler, and the
 * credentials route wrapped so each access key it vends is registered with its grant's session.
 */
export async function startCloudTrailStandIn(options: {
  readonly target: string;
  readonly account: string;
  readonly port: number;
  readonly iam: IAMClient;
  readonly log: (line: string) => void;
}): Promise<{ recorder: CloudTrailRecorder; port: number; recordCredentials: (handler: ApiHandler) => ApiHandler }> {
  const capture = (await import('../functions/handlers/capture-activity.js')).lambdaHandler;
  const recorder = new CloudTrailRecorder({
    target: options.target,
    account: options.account,
    deliver: (event) => capture(event),
    log: options.log,
  });
  const port = await recorder.start(options.port);
  const roleIds = new Map<string, string>();
  const recordCredentials =
    (handler: ApiHandler): ApiHandler =>
    async (event, context) => {
      const result = await handler(event, context);
      if (result.statusCode !== 200) return result;
      const body = JSON.parse(result.body) as {
        credentials: { accessKeyId: string };
        grant: { id: string; targetName: string; account?: string };
      };
      // A spoke grant's session acts in the spoke: its calls are that account's (what its forwarding rule sends).
      const account = body.grant.account ?? options.account;
      const roleName = body.grant.targetName;
      let roleId = roleIds.get(`${account}/${roleName}`);
      if (!roleId) {
        const iam = account === options.account ? options.iam : await iamIn(options.target, account);
        const { Role } = await iam.send(new GetRoleCommand({ RoleName: roleName }));
        roleId = Role?.RoleId ?? 'AROASANDBOXROLE';
        roleIds.set(`${account}/${roleName}`, roleId);
      }
      recorder.register(body.credentials.accessKeyId, {
        grantId: body.grant.id,
        account,
        roleArn: `arn:aws:iam::${account}:role${PROFILE_ROLE_PATH}${roleName}`,
        roleId,
        sessionName: grantSessionName(body.grant.id),
        issuedAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      });
      return result;
    };
  return { recorder, port, recordCredentials };
}
