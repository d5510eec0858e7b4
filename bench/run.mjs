// `npm run bench` / `npm run bench:quick`: the sections of BENCHMARKS.md one after the other (each starts and
// stops its own throwaway PostgreSQL), then the report. `--only read,tool,online` picks sections; every other flag
// is passed to the sections (see the header of each script).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, log, parseFlags } from './lib.mjs';

const SECTIONS = { read: 'read-overhead.mjs', tool: 'tool-scale.mjs', online: 'online-provisioning.mjs' };
const argv = process.argv.slice(2);
const flags = parseFlags(argv);
const only = typeof flags.only === 'string' ? flags.only.split(',') : Object.keys(SECTIONS);
for (const name of only) if (!SECTIONS[name]) throw new Error(`--only: unknown section ${name}; expected ${Object.keys(SECTIONS).join(', ')}`);
const passed = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--only') i++;
  else if (!argv[i].startsWith('--only=')) passed.push(argv[i]);
}
const t0 = Date.now();
for (const name of only) {
  log(`section ${name}`);
  const r = spawnSync(process.execPath, [join(ROOT, 'bench', SECTIONS[name]), ...passed], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
spawnSync(process.execPath, [join(ROOT, 'bench', 'report.mjs'), ...(flags.quick === true ? ['--quick'] : [])], { stdio: 'inherit' });
log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
