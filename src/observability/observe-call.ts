// When a call ends, for interceptors that record it (metrics, access log,
// spans). A unary call ends when its handler returns; a streaming one only
// when its response stream is finished, fails, or is abandoned by the client.
import type { Interceptor, StreamResponse, UnaryResponse } from "@connectrpc/connect";

type Next = Parameters<Interceptor>[0];
type Request = Parameters<Next>[0];
type Response = UnaryResponse | StreamResponse;

/**
 * Runs `next(req)` and calls `end(state, error)` exactly once when the call
 * is over; `error` is undefined for success. A shared `end` and a per-call
 * `state` object, so a call allocates no closure of its own.
 */
export async function observeCall<S>(
  next: Next,
  req: Request,
  end: (state: S, error: unknown) => void,
  state: S,
): Promise<Response> {
  let res: Response;
  try {
    res = await next(req);
  } catch (error) {
    end(state, error);
    throw error;
  }
  if (!res.stream) {
    end(state, undefined);
    return res;
  }
  return { ...res, message: observeStream(res.message, req.signal, end, state) };
}

async function* observeStream<T, S>(
  messages: AsyncIterable<T>,
  signal: AbortSignal,
  end: (state: S, error: unknown) => void,
  state: S,
): AsyncIterable<T> {
  let error: unknown;
  try {
    yield* messages;
  } catch (thrown) {
    error = thrown;
    throw thrown;
  } finally {
    // Stopped early without an error: the client went away.
    end(state, error === undefined && signal.aborted ? (signal.reason ?? new Error("cancelled")) : error);
  }
}
