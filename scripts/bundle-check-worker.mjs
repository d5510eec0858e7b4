// Part of `npm run build` (after tsc): the policy check (src/policy/check.ts and what it imports) as one
// CommonJS file, dist/policy/check.bundle.cjs, which the check's worker thread (src/policy/check-worker.ts) loads.
//
// `tenantctl plan` starts that thread first and waits for it last, so its start-up is on the plan's critical
// path. Loaded as ES modules from dist/ and node_modules/ (yaml, zod and ~60 modules of ours), the thread took
// 130-180 ms to import what it needs, much of it the module loader waiting on file reads; as one file, 75 ms.
// CommonJS, not an ES module: the thread loads it with require() after it has told the caller it may be stopped,
// and a thread stopped while it evaluates an ES module can abort the whole process on Node 20 (check-worker.ts).
// libpg-query stays outside (its CommonJS entry): it loads its WebAssembly from beside its own module.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const dist = (path) => fileURLToPath(new URL(`../dist/${path}`, import.meta.url));

await build({
  entryPoints: [dist('policy/check.js')],
  outfile: dist('policy/check.bundle.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['libpg-query'],
  logLevel: 'warning',
});
