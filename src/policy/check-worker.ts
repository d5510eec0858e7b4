// Worker-thread entry of checkPolicyFileOffThread (check-thread.ts): check one file, post the CheckResult (plain
// data: diagnostics and the model), exit.
//
// The thread says `started` first, and only then loads the check (one CommonJS file, scripts/bundle-check-worker.mjs)
// and runs it; the caller may stop the thread only after `started`. Worker.terminate() while a thread is still
// evaluating an ES module can abort the whole process in Node 20 ("Check failed: (location_) != nullptr" in V8's
// SourceTextModule::ExecuteAsyncModule; it happened in CI when this entry ran the check in a top-level await;
// nodejs/node#43182 is that family of bugs). So this module imports nothing but Node's own modules, has no
// top-level await, and says `started` from a macrotask, once it has been evaluated; a require() that the
// termination interrupts is ordinary JavaScript being stopped. A rejection is uncaught here, and reaches the
// caller as the worker's 'error' event.
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import type * as Check from './check.js';
import type { CheckerMessage } from './check-thread.js';

const { path, file } = workerData as { path: string; file: string };
const post = (message: CheckerMessage): void => parentPort?.postMessage(message);
setImmediate(() => {
  post({ kind: 'started' });
  const { checkPolicyFile } = createRequire(import.meta.url)('./check.bundle.cjs') as typeof Check;
  void checkPolicyFile(path, file).then((result) => post({ kind: 'result', result }));
});
