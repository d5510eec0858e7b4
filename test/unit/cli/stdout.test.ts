// bin/tenantctl when stdout fails with anything but EPIPE (a full disk): one line on stderr and exit 1, not a
// stack trace. /dev/full fails every write with ENOSPC. (A reader that goes away, EPIPE:
// test/integration/closed-stdout.test.ts.)
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { BIN } from '../../helpers/cli.js';
import { DEMO_POLICIES } from '../../helpers/demo.js';

function toFullDisk(args: string[]): { status: number | null; stderr: string } {
  const full = openSync('/dev/full', 'w');
  try {
    const r = spawnSync(process.execPath, [BIN, ...args], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8', env: { PATH: process.env['PATH'], NO_COLOR: '1' } });
    return { status: r.status, stderr: r.stderr };
  } finally {
    closeSync(full);
  }
}

describe.runIf(existsSync('/dev/full'))('stdout on a full disk', () => {
  test.each([[['validate', DEMO_POLICIES]], [['--help']], [['--version']]])('tenantctl %j exits 1 with one line', (args) => {
    const r = toFullDisk(args);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('error: cannot write to standard output: ENOSPC: no space left on device, write\n');
  });
});
