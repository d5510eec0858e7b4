// Part of `npm run build` (after tsc): the policy check's worker thread (src/policy/check-worker.ts) as one file.
//
// `tenantctl plan` starts that thread first and waits for it last, so its start-up is on the plan's critical
// path. Loaded as ES modules from dist/ and node_modules/ (yaml, zod and ~60 modules of ours), the thread took
// 130-180 ms to import what it needs, much of it the module loader waiting on file reads; as one file, 75 ms.
// libpg-query stays outside: it loads its WebAssembly from beside its own module.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const dist = (path) => fileURLToPath(new URL(`../dist/${path}`, import.meta.url));

await build({
  entryPoints: [dist('policy/check-worker.js')],
  outfile: dist('policy/check-worker.bundle.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['libpg-query'],
  logLevel: 'warning',
});
