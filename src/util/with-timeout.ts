// A promise raced against a timer: what `work` settles with, unless
// `timeoutMs` passes first; then what `onTimeout` returns (or throws). The
// timer is cleared either way, so nothing keeps the process up after the
// work ends. `work` itself is not stopped: a caller that can stop it (an
// AbortController) does so.

export async function withTimeout<T>(work: Promise<T>, timeoutMs: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (error) {
        reject(error);
      }
    }, timeoutMs);
  });
  try {
    return await Promise.race([work, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
