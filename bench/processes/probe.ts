// "Is it serving yet?": one Connect JSON call over a fresh HTTP/1.1
// connection, repeated until the server answers. RemoveLambdaPermission of an
// absent statement with allowMissing succeeds on the demo seed and changes
// nothing, and the baseline answers it too.
import { request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

export const probePath = "/permission.v1.PermissionService/RemoveLambdaPermission";
export const probeBody = JSON.stringify({ functionName: "demo", statementId: "bench-absent", allowMissing: true });

/** The HTTP status of one probe call, or undefined when nothing answered (refused, reset). */
export async function probeOnce(
  baseUrl: string,
  headers: Readonly<Record<string, string>> = {},
): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(
      new URL(probePath, baseUrl),
      { method: "POST", agent: false, headers: { "content-type": "application/json", ...headers }, timeout: 5_000 },
      (res) => {
        res.resume();
        res.once("end", () => resolve(res.statusCode));
        res.once("error", () => resolve(undefined));
      },
    );
    req.once("error", () => resolve(undefined));
    req.once("timeout", () => req.destroy());
    req.end(probeBody);
  });
}

export interface WaitOptions {
  readonly timeoutMs: number;
  /** Only HTTP 200 counts (a served call); otherwise any answer does. */
  readonly requireOk: boolean;
  readonly headers?: Readonly<Record<string, string>>;
  /** Gives up at once when this turns true (the process exited). */
  readonly abandoned?: () => boolean;
}

/** Polls every few ms; resolves with the status that counted, rejects on timeout. */
export async function waitUntilServing(baseUrl: string, options: WaitOptions): Promise<number> {
  const deadline = Date.now() + options.timeoutMs;
  let last: number | undefined;
  for (;;) {
    last = await probeOnce(baseUrl, options.headers);
    if (last !== undefined && (!options.requireOk || last === 200)) return last;
    if (options.abandoned?.() === true) throw new Error(`the process exited before ${baseUrl} answered`);
    if (Date.now() > deadline) {
      throw new Error(
        `${baseUrl} did not ${options.requireOk ? "answer 200" : "answer"} within ${options.timeoutMs} ms (last: ${last ?? "no answer"})`,
      );
    }
    await sleep(last === undefined ? 3 : 20);
  }
}
