// One throwaway PostgreSQL server for the whole run; every test file makes its own databases on it.
import type { TestProject } from 'vitest/node';
import { startCluster, type Cluster, type StartOptions } from '../../src/pg/cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgProvider: string;
  }
}

let cluster: Cluster | undefined;

export async function startTestServer(project: TestProject, options: StartOptions = {}): Promise<void> {
  const label = project.name ? `[test server ${project.name}]` : '[test server]';
  cluster = await startCluster({ fast: true, log: (line) => process.stderr.write(`${label} ${line}\n`), ...options });
  project.provide('pgAdminUrl', cluster.url('postgres'));
  project.provide('pgProvider', cluster.provider);
}

export async function setup(project: TestProject): Promise<void> {
  await startTestServer(project);
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
}
