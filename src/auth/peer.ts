// The transport facts of a call (who connected, what TLS verified), handed
// from the HTTP server to the interceptors as a Connect context value.
import type * as http from "node:http";
import type * as http2 from "node:http2";
import type { X509Certificate } from "node:crypto";
import { createContextKey } from "@connectrpc/connect";
import { errorMessage } from "../util/error-message.js";

export interface PeerTls {
  /** Whether the client certificate chains to the configured CA bundle. */
  readonly authorized: boolean;
  /** OpenSSL's reason when not authorized, e.g. "UNABLE_TO_VERIFY_LEAF_SIGNATURE". */
  readonly authorizationError?: string | undefined;
  /** Undefined when the client sent none. */
  readonly certificate?: X509Certificate | undefined;
}

export interface PeerInfo {
  readonly remoteAddress?: string | undefined;
  /** Undefined on a cleartext connection. */
  readonly tls?: PeerTls | undefined;
}

export const peerContextKey = createContextKey<PeerInfo | undefined>(undefined, { description: "peer" });

/** What the TLS socket of a request offers; HTTP/2's socket proxy forwards these too. */
interface MaybeTlsSocket {
  readonly remoteAddress?: string | undefined;
  readonly encrypted?: boolean;
  readonly authorized?: boolean;
  readonly authorizationError?: Error | string | null;
  getPeerX509Certificate?(): X509Certificate | undefined;
}

// One TLS handshake per connection: its facts are read once, not per call
// (an HTTP/2 connection carries many calls).
const peerOfConnection = new WeakMap<object, PeerInfo>();

/** The PeerInfo of a Node request (HTTP/1.1 or HTTP/2, TLS or cleartext), cached per connection. */
export function readPeerInfo(req: http.IncomingMessage | http2.Http2ServerRequest): PeerInfo {
  const connection: object = ("stream" in req ? req.stream.session?.socket : undefined) ?? req.socket;
  const cached = peerOfConnection.get(connection);
  if (cached !== undefined) return cached;
  const peer = peerInfoOfSocket(connection);
  peerOfConnection.set(connection, peer);
  return peer;
}

function peerInfoOfSocket(socket: MaybeTlsSocket): PeerInfo {
  if (socket.encrypted !== true || typeof socket.getPeerX509Certificate !== "function") {
    return { remoteAddress: socket.remoteAddress };
  }
  const error = socket.authorizationError;
  return {
    remoteAddress: socket.remoteAddress,
    tls: {
      authorized: socket.authorized === true,
      authorizationError: error === null || error === undefined ? undefined : errorMessage(error),
      certificate: socket.getPeerX509Certificate(),
    },
  };
}
