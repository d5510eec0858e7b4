// Worker-thread entry of checkPolicyFileOffThread (check-thread.ts): check one file, post the CheckResult (plain
// data: diagnostics and the model), exit.
import { parentPort, workerData } from 'node:worker_threads';
import { checkPolicyFile } from './check.js';

const { path, file } = workerData as { path: string; file: string };
parentPort?.postMessage(await checkPolicyFile(path, file));
