// Turn what postgres.js throws into the one-line message users see: the server's words and SQLSTATE.

export interface ServerErrorFields {
  message: string;
  code?: string;
  detail?: string;
  hint?: string;
  position?: string;
  where?: string;
  severity?: string;
}

export function isServerError(e: unknown): e is Error & ServerErrorFields {
  return e instanceof Error && e.name === 'PostgresError' && typeof (e as { code?: unknown }).code === 'string';
}

/** `ERROR: relation "x" does not exist (SQLSTATE 42P01)` plus DETAIL/HINT lines when the server sent them. */
export function describeServerError(e: Error & ServerErrorFields): string {
  const lines = [`${e.severity ?? 'ERROR'}: ${e.message} (SQLSTATE ${e.code})`];
  if (e.detail) lines.push(`DETAIL: ${e.detail}`);
  if (e.hint) lines.push(`HINT: ${e.hint}`);
  return lines.join('\n');
}

/** Errors raised before or while connecting (refused, unknown host, authentication). */
export function describeConnectionError(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  const code = (e as { code?: unknown }).code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT' || code === 'CONNECT_TIMEOUT') {
    const address = (e as { address?: string; port?: number }).address;
    const port = (e as { port?: number }).port;
    const where = address ? ` ${address}${port ? `:${port}` : ''}` : '';
    return `could not connect to PostgreSQL${where}: ${e.message}`;
  }
  return undefined;
}

/** 1-based line and column of a 1-based character offset (the server's `position`) in `text`. */
export function lineAndColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, position - 1));
  const lines = before.split('\n');
  return { line: lines.length, column: (lines[lines.length - 1] ?? '').length + 1 };
}
