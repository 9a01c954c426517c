// The gateway's interceptors as one Connect interceptor, composed once.
// Connect applies its interceptors anew for every call (each one's outer
// function runs and allocates its closures per call); here the chains are
// built at start-up, and per call only the step that leads on to Connect's
// own `next` is looked up. Probe services (health) get their own, shorter
// chain instead of a per-interceptor "skip me" test.
import { createContextKey, type Interceptor } from "@connectrpc/connect";

type Next = Parameters<Interceptor>[0];

export interface InterceptorChains {
  /** Outermost first: for every call. */
  readonly calls: readonly Interceptor[];
  /** Outermost first: for the services named in `probeServices` instead. */
  readonly probes: readonly Interceptor[];
  readonly probeServices: ReadonlySet<string>;
}

const connectNextKey = createContextKey<Next | undefined>(undefined, { description: "connect next" });

/** Connect's continuation of this call, stored when the call enters the chain. */
const toConnect: Next = (req) => {
  const next = req.contextValues.get(connectNextKey);
  if (next === undefined) throw new Error("interceptor chain entered without Connect's next");
  return next(req);
};

function compose(interceptors: readonly Interceptor[]): Next {
  let next = toConnect;
  for (let i = interceptors.length - 1; i >= 0; i--) next = interceptors[i]!(next);
  return next;
}

export function composeInterceptors(chains: InterceptorChains): Interceptor {
  const calls = compose(chains.calls);
  const probes = compose(chains.probes);
  return (next) => (req) => {
    req.contextValues.set(connectNextKey, next);
    return (chains.probeServices.has(req.service.typeName) ? probes : calls)(req);
  };
}
