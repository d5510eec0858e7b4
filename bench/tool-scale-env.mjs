// A kept server and files for profiling section 2 by hand (`node --cpu-prof bin/tenantctl ...`): the same
// generated schema and policy file as bench/tool-scale.mjs, left behind instead of measured.
//
//   node bench/tool-scale-env.mjs up --dir /tmp/ts [--tables 500] [--users 1000] [--tenants 100]
//       starts a detached server in --dir, prints the environment to use (also in --dir/env.sh)
//   node bench/tool-scale-env.mjs db --dir /tmp/ts --name run1 [--tables 500] [--users 1000] [--tenants 100]
//       another database (and logins prefixed run1_) on the same server, for another cold apply
//   node bench/tool-scale-env.mjs down --dir /tmp/ts
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { startCluster, stopServer } from '../dist/pg/cluster.js';
import { scramVerifier } from '../dist/pg/scram.js';
import { cli, log, login, num, parseFlags, urlFor, PASSWORD } from './lib.mjs';
import { policyDoc, schemaSql } from './tool-scale.mjs';

const [action, ...rest] = process.argv.slice(2);
const flags = parseFlags(rest);
const dir = typeof flags.dir === 'string' ? flags.dir : undefined;
if (!dir) throw new Error('--dir is required');
const TABLES = num(flags, 'tables', 500);
const USERS = num(flags, 'users', 1000);
const TENANTS = num(flags, 'tenants', 100);
const stateFile = join(dir, 'cluster.json');

async function makeDatabase(cluster, name) {
  const database = `tool_${name}`;
  const prefix = `${name}_`;
  const operator = { user: `${prefix}admin`, password: 'bench-admin-pw' };
  const su = login(cluster.url);
  await su.unsafe(`CREATE ROLE ${operator.user} LOGIN CREATEROLE PASSWORD '${operator.password}'`);
  await su.unsafe(`CREATE DATABASE ${database} OWNER ${operator.user}`);
  await su.end();
  const url = urlFor({ url: (db) => cluster.url.replace(/\/[^/]*$/, `/${db}`) }, database, operator.user, operator.password);
  const op = login(url);
  await op.unsafe(schemaSql(TABLES));
  await op.end();
  cli(['migrate', 'up'], { DATABASE_URL: url });
  const reg = login(url);
  await reg.unsafe(`INSERT INTO tenant_registry.tenants (slug, name, status)
    SELECT 't' || lpad(i::text, 3, '0'), 'Tenant ' || i, 'active' FROM generate_series(1, ${TENANTS}) i`);
  await reg.end();
  const doc = policyDoc(TABLES, USERS, TENANTS, prefix, scramVerifier(PASSWORD));
  const text = YAML.stringify(doc);
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  const changed = text.replace(`'***@' || split_part(email, '@', 2)`, `'[hidden]'`);
  writeFileSync(join(dir, `${name}-changed.yaml`), changed);
  writeFileSync(join(dir, `${name}.env`), `export DATABASE_URL='${url}'\nexport FILE='${file}'\nexport CHANGED='${join(dir, `${name}-changed.yaml`)}'\n`);
  log(`database ${database}: source ${join(dir, `${name}.env`)}`);
}

if (action === 'up') {
  mkdirSync(dir, { recursive: true });
  const c = await startCluster({ provider: 'local', fast: false, dir, keep: true, detach: true, log });
  const state = { url: c.url(), binDir: c.binDir, dataDir: c.dataDir };
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
  await makeDatabase(state, typeof flags.name === 'string' ? flags.name : 'base');
} else if (action === 'db') {
  const state = JSON.parse(readFileSync(stateFile, 'utf8'));
  await makeDatabase(state, String(flags.name));
} else if (action === 'down') {
  if (existsSync(stateFile)) {
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    stopServer(state.binDir, state.dataDir, 'fast');
    log(`stopped the server of ${dir} (remove the directory by hand)`);
  }
} else {
  throw new Error('usage: up | db | down --dir DIR');
}
