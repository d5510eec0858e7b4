import postgres from 'postgres';

export type Sql = postgres.Sql;

export interface ConnectOptions {
  /** --database-url; else DATABASE_URL; else postgres.js reads PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE. */
  databaseUrl?: string | undefined;
  /** Connections in the pool. Commands that hold a session advisory lock use 1. */
  max?: number;
  applicationName?: string;
  onNotice?: (notice: postgres.Notice) => void;
  /**
   * Read the server's array types when connecting (postgres.js fetch_types; default true): needed to pass or
   * receive arrays as JS arrays. It reads every array type of the database, 0.1 s with 2,500 relations (each has
   * one): `plan`, whose queries bind no JS array and aggregate lists as JSON, connects without it.
   */
  fetchTypes?: boolean;
}

/** Where a command connects, in the order cli.md gives. */
export function resolveDatabaseUrl(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (explicit !== undefined && explicit !== '') return explicit;
  const fromEnv = env['DATABASE_URL'];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined;
}

export function connect(options: ConnectOptions = {}): Sql {
  const url = resolveDatabaseUrl(options.databaseUrl);
  const config: postgres.Options<{}> = {
    max: options.max ?? 1,
    connect_timeout: 10,
    idle_timeout: 0,
    fetch_types: options.fetchTypes ?? true,
    onnotice: options.onNotice ?? (() => {}),
    connection: { application_name: options.applicationName ?? 'tenantctl' },
  };
  return (url === undefined ? postgres(config) : postgres(url, config)) as Sql;
}

/** A short description of the target, password left out, for log lines. */
export function describeTarget(sql: Sql): string {
  const o = sql.options;
  const host = Array.isArray(o.host) ? o.host.join(',') : String(o.host);
  const port = Array.isArray(o.port) ? o.port.join(',') : String(o.port);
  return `${o.user}@${host}:${port}/${o.database}`;
}
