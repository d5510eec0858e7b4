// One throwaway PostgreSQL server for the whole run; every test file makes its own databases on it.
import type { TestProject } from 'vitest/node';
import { startCluster, type Cluster } from '../../src/pg/cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgProvider: string;
  }
}

let cluster: Cluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  cluster = await startCluster({ fast: true, log: (line) => process.stderr.write(`[test server] ${line}\n`) });
  project.provide('pgAdminUrl', cluster.url('postgres'));
  project.provide('pgProvider', cluster.provider);
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
}
