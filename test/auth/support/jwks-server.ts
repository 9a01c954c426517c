// An identity provider's JWKS endpoint for tests: a real HTTPS server on
// loopback with a test CA's certificate, counting its fetches, and a fetch
// for jose that trusts that CA (the production default is the global fetch,
// which trusts the system CAs plus NODE_EXTRA_CA_CERTS).
import { once } from "node:events";
import * as https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { FetchImplementation, JSONWebKeySet } from "jose";

export interface JwksServer {
  readonly url: URL;
  setKeys(jwks: JSONWebKeySet): void;
  /** How many times the JWKS was fetched. */
  fetches(): number;
  /** Resolves once the JWKS has been fetched `count` times in all. */
  fetched(count: number): Promise<void>;
  close(): Promise<void>;
}

export async function startJwksServer(tls: { cert: Buffer; key: Buffer }, jwks: JSONWebKeySet): Promise<JwksServer> {
  let keys = jwks;
  let fetches = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  const server = https.createServer(tls, (req, res) => {
    if (req.url !== "/.well-known/jwks.json") {
      res.writeHead(404).end();
      return;
    }
    fetches++;
    res.writeHead(200, { "content-type": "application/jwk-set+json" }).end(JSON.stringify(keys));
    for (const waiter of waiters.filter((w) => fetches >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  const sockets = new Set<Socket>();
  server.on("secureConnection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`https://127.0.0.1:${port}/.well-known/jwks.json`),
    setKeys: (next) => void (keys = next),
    fetches: () => fetches,
    fetched: (count) =>
      fetches >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve })),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** A fetch (as jose calls it) over node:https that trusts `ca`. */
export function fetchTrusting(ca: Buffer): FetchImplementation {
  return (url, options) =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = {};
      options.headers.forEach((value, name) => (headers[name] = value));
      const req = https.request(
        url,
        { method: options.method, headers, ca, signal: options.signal, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500 })));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end();
    });
}
