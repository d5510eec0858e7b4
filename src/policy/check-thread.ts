// checkPolicyFile on a worker thread, so that the main thread can connect and read the catalog meanwhile
// (`tenantctl plan`). Checking a large file is the YAML parser, zod and the semantic checks, about 0.25 s of CPU
// for 1,000 users; with their modules, 0.35 s that would otherwise come before the first byte sent to the server.
//
// This module imports neither check.js nor its dependencies (js-yaml, zod): the thread loads them, not the caller.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CheckResult } from './check.js';

/**
 * The worker script, when `npm run build` has made the check's one-file bundle beside it
 * (scripts/bundle-check-worker.mjs); else none (running from the TypeScript sources, as unit tests do).
 */
function workerScript(): URL | undefined {
  const script = new URL('./check-worker.js', import.meta.url);
  const ready = [script, new URL('./check.bundle.cjs', import.meta.url)].every((url) => existsSync(fileURLToPath(url)));
  return ready ? script : undefined;
}

/** What the thread posts (check-worker.ts): `started` once its module is evaluated, then the result. */
export type CheckerMessage = { readonly kind: 'started' } | { readonly kind: 'result'; readonly result: CheckResult };

/**
 * The same result as checkPolicyFile(path, file), computed on a worker thread; on this thread where there is no
 * worker script. `signal`: the result is no longer wanted; the promise rejects with the signal's reason at once,
 * and the thread is stopped as soon as it may be: once it has said `started` (check-worker.ts says why not before).
 */
export async function checkPolicyFileOffThread(path: string, file: string = path, signal?: AbortSignal): Promise<CheckResult> {
  const script = workerScript();
  if (!script) {
    const { checkPolicyFile } = await import('./check.js');
    return checkPolicyFile(path, file);
  }
  return new Promise<CheckResult>((resolve, reject) => {
    const worker = new Worker(script, { workerData: { path, file } });
    let started = false;
    const stop = (): void => {
      reject(signal?.reason);
      if (started) void worker.terminate();
    };
    signal?.addEventListener('abort', stop, { once: true });
    const done = (): void => signal?.removeEventListener('abort', stop);
    worker.on('message', (message: CheckerMessage) => {
      if (message.kind === 'result') {
        done();
        resolve(message.result);
      } else {
        started = true;
        if (signal?.aborted) void worker.terminate();
      }
    });
    worker.once('error', (e) => (done(), reject(e)));
    worker.once('exit', (code) => (done(), reject(new Error(`internal error: the policy check thread exited (code ${code}) without a result`))));
  });
}
