// Worker-thread entry of checkPolicyFileOffThread (check-thread.ts): check one file, post the CheckResult (plain
// data: diagnostics and the model), exit.
//
// No top-level await, and nothing happens until this module has been evaluated: the thread says `started` from a
// macrotask, after every module is evaluated, and only then may the caller stop it. Worker.terminate() while a
// thread is still evaluating an ES module (as a top-level await would keep it doing for the whole check) can
// abort the whole process in Node 20 ("Check failed: (location_) != nullptr" in V8's
// SourceTextModule::ExecuteAsyncModule; nodejs/node#43182 is that family of bugs). A rejection is uncaught here,
// and reaches the caller as the worker's 'error' event.
import { parentPort, workerData } from 'node:worker_threads';
import { checkPolicyFile } from './check.js';
import type { CheckerMessage } from './check-thread.js';

const { path, file } = workerData as { path: string; file: string };
const post = (message: CheckerMessage): void => parentPort?.postMessage(message);
setImmediate(() => {
  post({ kind: 'started' });
  void checkPolicyFile(path, file).then((result) => post({ kind: 'result', result }));
});
