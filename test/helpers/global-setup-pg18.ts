// The integration suite again, on PostgreSQL 18 (the binaries of the pg18-server optional dependency), so that
// every behaviour, and a second apply being a no-op, is checked on a second major.
import type { TestProject } from 'vitest/node';
import { PG18_BIN_DIR } from './pg18.js';
import { startTestServer } from './global-setup.js';

export { teardown } from './global-setup.js';

export async function setup(project: TestProject): Promise<void> {
  await startTestServer(project, { provider: 'local', binDir: PG18_BIN_DIR });
}
