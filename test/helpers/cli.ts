// Run the built CLI as a user would: a child process, its exit code, stdout and stderr.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/tenantctl', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  cwd?: string;
  /** Close the read end of the child's stdout at once, as `| head` does once it has its lines: every write fails (EPIPE). */
  closeStdout?: boolean;
  /** The same for stderr (`2>&1 | head` closes both). */
  closeStderr?: boolean;
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      // A clean environment: no DATABASE_URL or PG* variables leak in from the developer's shell.
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'], NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    if (options.closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    if (options.closeStderr) child.stderr.destroy();
    else child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Run the CLI with stdout on /dev/full, which fails every write with ENOSPC (a full disk). */
export function runCliToFullDisk(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stderr: string } {
  const full = openSync('/dev/full', 'w');
  try {
    const r = spawnSync(process.execPath, [BIN, ...args], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8', env: { PATH: process.env['PATH'], NO_COLOR: '1', ...env } });
    return { code: r.status, stderr: r.stderr };
  } finally {
    closeSync(full);
  }
}
