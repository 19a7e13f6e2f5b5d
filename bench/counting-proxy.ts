/** A loopback HTTP proxy in front of moto that counts AWS API calls by service and action. */
import { createServer, request as httpRequest, type Server } from 'node:http';

export interface CallCounter {
  readonly endpoint: string;
  readonly counts: Map<string, number>;
  /** Milliseconds spent in the emulator per action (request received → response ended), summed. */
  readonly millis: Map<string, number>;
  total(): number;
  reset(): void;
  close(): Promise<void>;
}

function actionOf(headers: Record<string, string | string[] | undefined>, url: string, body: string): string {
  const auth = String(headers.authorization ?? '');
  const service = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(auth)?.[1] ?? 'unknown';
  const target = headers['x-amz-target'];
  if (target) return `${service}:${String(target).split('.').pop()}`;
  const form = /(?:^|&)Action=([A-Za-z]+)/.exec(body) ?? /[?&]Action=([A-Za-z]+)/.exec(url);
  if (form) return `${service}:${form[1]}`;
  return `${service}:/${url.split('?')[0]!.split('/')[1] ?? ''}`;
}

export async function startCountingProxy(target: string): Promise<CallCounter> {
  const upstream = new URL(target);
  const counts = new Map<string, number>();
  const millis = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const action = actionOf(req.headers, req.url ?? '', body.toString('utf8'));
      const key = action.includes(':/') ? action.replace(':/', `:${req.method} /`) : action;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      const t0 = performance.now();
      res.on('finish', () => millis.set(key, (millis.get(key) ?? 0) + performance.now() - t0));
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
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts,
    millis,
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    reset: () => {
      counts.clear();
      millis.clear();
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
