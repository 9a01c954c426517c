// The first interceptor of every call: no identity, no call. A refusal is
// UNAUTHENTICATED with an ErrorInfo reason naming what was wrong; nothing
// after this interceptor runs for it.
import { Code, type Interceptor } from "@connectrpc/connect";
import { gatewayError, retryInfo } from "../errors.js";
import type { Logger } from "../logger.js";
import { AuthenticationError, AuthenticationUnavailableError, type Authenticator } from "./authenticator.js";
import { callerContextKey } from "./identity.js";
import { peerContextKey } from "./peer.js";

const UNAVAILABLE_RETRY_MS = 1_000;

export function createAuthenticationInterceptor(authenticator: Authenticator, logger: Logger): Interceptor {
  return (next) => async (req) => {
    const peer = req.contextValues.get(peerContextKey);
    let identity;
    try {
      identity = await authenticator.authenticate({ header: req.header, peer });
    } catch (error) {
      if (error instanceof AuthenticationError) {
        logger.info("authentication failed", {
          method: req.method.name,
          reason: error.reason,
          remoteAddress: peer?.remoteAddress,
        });
        throw gatewayError(Code.Unauthenticated, error.message, error.reason, [], { ...error.metadata });
      }
      if (error instanceof AuthenticationUnavailableError) {
        logger.warn("authentication unavailable", { method: req.method.name, error });
        throw gatewayError(Code.Unavailable, error.message, "AUTHENTICATION_UNAVAILABLE", [
          retryInfo(UNAVAILABLE_RETRY_MS),
        ]);
      }
      logger.error("authentication failed unexpectedly", { method: req.method.name, error });
      throw gatewayError(Code.Internal, "internal error", "INTERNAL", []);
    }
    req.contextValues.set(callerContextKey, identity);
    return next(req);
  };
}
