import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Route = (request: IncomingMessage, response: ServerResponse) => void;

export interface LoopbackServer {
  url: string;
  /** Requests seen, by path. */
  hits: Map<string, number>;
  /** The most requests in flight at one time. */
  peak: () => number;
  headers: IncomingMessage['headers'][];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 answering by path; anything else is 404. */
export async function startRegistry(routes: Record<string, Route>): Promise<LoopbackServer> {
  const hits = new Map<string, number>();
  const headers: IncomingMessage['headers'][] = [];
  let inFlight = 0;
  let peak = 0;
  const server: Server = createServer((request, response) => {
    const path = request.url ?? '';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    headers.push(request.headers);
    inFlight++;
    peak = Math.max(peak, inFlight);
    response.on('close', () => inFlight--);
    const route = routes[path];
    if (route) route(request, response);
    else response.writeHead(404).end('{"error":"not found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    hits,
    peak: () => peak,
    headers,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const json = (body: unknown, status = 200): Route => (_request, response) => {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};
