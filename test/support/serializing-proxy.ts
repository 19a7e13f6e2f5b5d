/**
 * A loopback proxy in front of moto that forwards DynamoDB requests one at a time (everything
 * else passes through concurrently). moto's threaded server copies a table for every
 * TransactWriteItems while other threads write to it, and fails with "dictionary changed size
 * during iteration" (HTTP 500, an HTML body) under concurrent activations; DynamoDB itself has no
 * such failure. Conditions and conflicts are still decided by moto, request by request.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';

export interface SerializingProxy {
  readonly endpoint: string;
  close(): Promise<void>;
}

export async function startSerializingProxy(target: string): Promise<SerializingProxy> {
  const upstream = new URL(target);
  let tail: Promise<void> = Promise.resolve();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const forward = () =>
        new Promise<void>((done) => {
          const out = httpRequest({ hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
            up.on('end', done);
            up.on('error', done);
          });
          out.on('error', () => {
            res.writeHead(502);
            res.end();
            done();
          });
          out.end(body);
        });
      if (String(req.headers['x-amz-target'] ?? '').startsWith('DynamoDB_')) {
        tail = tail.then(forward);
      } else {
        void forward();
      }
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { endpoint: `http://127.0.0.1:${port}`, close: () => new Promise((ok) => server.close(() => ok())) };
}
