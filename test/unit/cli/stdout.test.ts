// bin/tenantctl when stdout fails with anything but EPIPE (a full disk): one line on stderr and exit 1, not a
// stack trace. /dev/full fails every write with ENOSPC. (A reader that goes away, EPIPE:
// test/integration/closed-stdout.test.ts.)
import { existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { runCliToFullDisk } from '../../helpers/cli.js';
import { DEMO_POLICIES } from '../../helpers/demo.js';

describe.runIf(existsSync('/dev/full'))('stdout on a full disk', () => {
  test.each([[['validate', DEMO_POLICIES]], [['--help']], [['--version']]])('tenantctl %j exits 1 with one line', (args) => {
    const r = runCliToFullDisk(args);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: cannot write to standard output: ENOSPC: no space left on device, write\n');
  });
});
