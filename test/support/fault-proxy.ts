/**
 * A loopback proxy in front of moto that makes chosen AWS calls fail: a server error, a
 * throttle (in each protocol's own error format), or a timeout (no answer). The handlers talk
 * to it through AWS_ENDPOINT_URL; what they leave behind is read from moto directly.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';

export type FaultMode = 'error' | 'throttle' | 'timeout';

export interface FaultRule {
  /** `service:Action`, e.g. `iam:PutRolePolicy`, `dynamodb:TransactWriteItems`, `scheduler:CreateSchedule`. */
  readonly action: string;
  readonly mode: FaultMode;
  /** Only calls whose body contains this text match (e.g. one transaction among several). @default any */
  readonly match?: string;
  /** Let this many matching calls through first. @default 0 */
  readonly skip?: number;
  /** Fail this many matching calls, then let the rest through. @default Infinity */
  readonly times?: number;
}

export interface FaultProxy {
  readonly endpoint: string;
  /** Calls seen, `service:Action`, in order. */
  readonly calls: string[];
  inject(rule: FaultRule): void;
  clear(): void;
  close(): Promise<void>;
}

/** REST-JSON Scheduler calls are named by method and path. */
function schedulerAction(method: string, path: string): string {
  if (path.startsWith('/schedule-groups'))
    return `${method === 'POST' ? 'Create' : method === 'DELETE' ? 'Delete' : 'Get'}ScheduleGroup`;
  if (path.startsWith('/schedules/'))
    return (
      { POST: 'CreateSchedule', PUT: 'UpdateSchedule', DELETE: 'DeleteSchedule', GET: 'GetSchedule' }[method] ?? method
    );
  return 'ListSchedules';
}

export function actionOf(req: IncomingMessage, body: string): string {
  const service =
    /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? 'unknown';
  const target = req.headers['x-amz-target'];
  if (target) return `${service}:${String(target).split('.').pop()}`;
  const form = /(?:^|&)Action=([A-Za-z]+)/.exec(body);
  if (form) return `${service}:${form[1]}`;
  if (service === 'scheduler')
    return `scheduler:${schedulerAction(req.method ?? 'GET', (req.url ?? '/').split('?')[0]!)}`;
  return `${service}:${req.method} ${req.url}`;
}

function fail(res: ServerResponse, service: string, mode: Exclude<FaultMode, 'timeout'>): void {
  const code = mode === 'throttle' ? 'ThrottlingException' : 'InternalFailure';
  if (service === 'iam' || service === 'sns') {
    res.writeHead(mode === 'throttle' ? 400 : 500, { 'content-type': 'text/xml' });
    res.end(
      `<ErrorResponse><Error><Type>${mode === 'throttle' ? 'Sender' : 'Receiver'}</Type><Code>${mode === 'throttle' ? 'Throttling' : 'ServiceFailure'}</Code><Message>injected ${mode}</Message></Error><RequestId>fault</RequestId></ErrorResponse>`,
    );
  } else if (service === 'dynamodb') {
    res.writeHead(mode === 'throttle' ? 400 : 500, { 'content-type': 'application/x-amz-json-1.0' });
    res.end(
      JSON.stringify({
        __type: `com.amazonaws.dynamodb.v20120810#${mode === 'throttle' ? 'ThrottlingException' : 'InternalServerError'}`,
        message: `injected ${mode}`,
      }),
    );
  } else {
    res.writeHead(mode === 'throttle' ? 429 : 500, {
      'content-type': 'application/json',
      'x-amzn-errortype': mode === 'throttle' ? code : 'InternalServerException',
    });
    res.end(JSON.stringify({ Message: `injected ${mode}` }));
  }
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const rules: Array<FaultRule & { seen: number; failed: number }> = [];
  const calls: string[] = [];
  const held = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const action = actionOf(req, body.toString('utf8'));
      calls.push(action);
      const rule = rules.find((r) => r.action === action && (r.match === undefined || body.includes(r.match)));
      if (rule) {
        rule.seen += 1;
        if (rule.seen > (rule.skip ?? 0) && rule.failed < (rule.times ?? Infinity)) {
          rule.failed += 1;
          if (rule.mode === 'timeout') {
            held.add(res); // never answered: the client's request timeout fires
            return;
          }
          return fail(res, action.split(':')[0]!, rule.mode);
        }
      }
      const forward = httpRequest(
        { hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      forward.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      forward.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    calls,
    inject: (rule) => rules.push({ ...rule, seen: 0, failed: 0 }),
    clear: () => {
      rules.length = 0;
      for (const res of held) res.destroy();
      held.clear();
    },
    close: () =>
      new Promise((r) => {
        for (const res of held) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
