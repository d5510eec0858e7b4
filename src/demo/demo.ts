// A local demo server that outlives the command: state in DIR/demo.json, started and stopped with pg_ctl.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionUrl, portInUse, serverRunning, startCluster, stopServer, type ProviderName } from '../pg/cluster.js';
import { DEMO_DATABASE, DEMO_OPERATOR, DEMO_TENANTS, DEMO_USER_PASSWORD, setupDemoDatabase } from './setup.js';

export const DEFAULT_DEMO_PORT = 5434;

export interface DemoState {
  readonly version: 1;
  readonly provider: ProviderName;
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  readonly dataDir: string;
  readonly binDir: string;
  readonly database: string;
  readonly startedAt: string;
}

export class DemoError extends Error {
  override name = 'DemoError';
}

/** Default: a directory of this OS user under the temp dir, which the postgres system user can reach. */
export function defaultDemoDir(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return join(tmpdir(), `tenantctl-demo-${uid}`);
}

const stateFile = (dir: string): string => join(dir, 'demo.json');

export function readDemoState(dir: string): DemoState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(dir), 'utf8')) as DemoState;
  } catch {
    return undefined;
  }
}

export function isDemoRunning(state: DemoState): boolean {
  return serverRunning(state.binDir, state.dataDir);
}

export type UpResult = { kind: 'already-running'; state: DemoState } | { kind: 'started'; state: DemoState };

export async function demoUp(options: { port: number; dir: string; log: (line: string) => void }): Promise<UpResult> {
  const existing = readDemoState(options.dir);
  if (existing && isDemoRunning(existing)) return { kind: 'already-running', state: existing };
  if (existing) {
    options.log(`removing a stopped demo left in ${options.dir}`);
    rmSync(options.dir, { recursive: true, force: true });
  } else if (existsSync(options.dir)) {
    throw new DemoError(`${options.dir} exists and is not a tenantctl demo; remove it or choose another --dir`);
  }
  if (await portInUse(options.port)) {
    throw new DemoError(`port ${options.port} on 127.0.0.1 is already in use; choose another one with --port`);
  }
  const forced = process.env['TENANTCTL_PG_PROVIDER'] as ProviderName | undefined;
  if (forced === 'external' || forced === 'testcontainers') {
    throw new DemoError(`the demo runs its own server from local binaries; TENANTCTL_PG_PROVIDER=${forced} does not apply (use local or embedded)`);
  }
  options.log('starting PostgreSQL');
  let cluster;
  try {
    cluster = await startCluster({
      port: options.port,
      dir: options.dir,
      keep: true,
      detach: true,
      providers: ['local', 'embedded'],
      ...(forced ? { provider: forced } : {}),
      log: options.log,
    });
  } catch (e) {
    rmSync(options.dir, { recursive: true, force: true });
    throw e;
  }
  const state: DemoState = {
    version: 1,
    provider: cluster.provider,
    host: cluster.host,
    port: cluster.port,
    dir: options.dir,
    dataDir: cluster.dataDir as string,
    binDir: cluster.binDir as string,
    database: DEMO_DATABASE,
    startedAt: new Date().toISOString(),
  };
  writeFileSync(stateFile(options.dir), JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  try {
    await setupDemoDatabase({ superuserUrl: cluster.url('postgres'), database: DEMO_DATABASE, operator: DEMO_OPERATOR, applyPolicies: true, log: options.log });
  } catch (e) {
    demoDown(options.dir);
    throw e;
  }
  return { kind: 'started', state };
}

/** Stop the demo's server and remove its directory. True when there was a demo to remove. */
export function demoDown(dir: string): boolean {
  const state = readDemoState(dir);
  if (!state) return false;
  stopServer(state.binDir, state.dataDir, 'fast');
  if (serverRunning(state.binDir, state.dataDir)) stopServer(state.binDir, state.dataDir, 'immediate');
  rmSync(dir, { recursive: true, force: true });
  return true;
}

export function demoLogins(state: DemoState): { user: string; tenant: string; url: string }[] {
  return DEMO_TENANTS.map((t) => ({
    user: t.user,
    tenant: t.slug,
    url: connectionUrl({ host: state.host, port: state.port, user: t.user, password: DEMO_USER_PASSWORD }, state.database),
  }));
}

export function operatorUrl(state: DemoState): string {
  return connectionUrl({ host: state.host, port: state.port, user: DEMO_OPERATOR.user, password: DEMO_OPERATOR.password }, state.database);
}

export const QUICK_VERIFICATION = [
  'SELECT DISTINCT org FROM orders;',
  'SELECT first_name, ssn FROM customers LIMIT 3;',
  'SELECT credit_card FROM customers;',
] as const;
