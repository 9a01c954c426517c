// Loads every idempotency script onto each Redis node as soon as its
// connection is ready, and again after every reconnect: a Redis that
// restarted, or a replica promoted by a failover, starts with no scripts,
// and the first EVALSHA there would answer NOSCRIPT. For a Cluster this
// happens on every node the client connects to. A load that fails is only
// logged: the store still falls back to EVAL on NOSCRIPT.
import type { Cluster, Redis } from "ioredis";
import type { Logger } from "../logger.js";
import { IDEMPOTENCY_SCRIPTS } from "./redis-scripts.js";

export function preloadScriptsOnConnect(client: Redis | Cluster, logger: Logger): void {
  if (isCluster(client)) {
    // "+node" comes for each node the Cluster adds to its pool, before its
    // connection is made; the nodes it already has are loaded here too.
    for (const node of client.nodes("all")) watchNode(node, logger);
    client.on("+node", (node: Redis) => watchNode(node, logger));
    return;
  }
  watchNode(client, logger);
}

function watchNode(node: Redis, logger: Logger): void {
  const load = (): void => {
    void loadScripts(node).catch((error: unknown) => {
      logger.debug("could not load the idempotency scripts; the first call will load them", {
        node: `${node.options.host ?? ""}:${node.options.port ?? ""}`,
        error,
      });
    });
  };
  node.on("ready", load);
  if (node.status === "ready") load();
}

async function loadScripts(node: Redis): Promise<void> {
  await Promise.all(IDEMPOTENCY_SCRIPTS.map((source) => node.script("LOAD", source)));
}

function isCluster(client: Redis | Cluster): client is Cluster {
  return client.isCluster;
}
