// Positions and diagnostics: every problem found in a policy file names the file, line and column.

/** A place in the policy file; line and column are 1-based. */
export interface SourcePos {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export type Severity = 'error' | 'warning';

/** One problem found in a policy file. Messages never contain password values. */
export interface Diagnostic extends SourcePos {
  readonly severity: Severity;
  readonly message: string;
  /** The nearest valid name, for a misspelt one. */
  readonly suggestion?: string;
}

export function error(pos: SourcePos, message: string, suggestion?: string): Diagnostic {
  return make('error', pos, message, suggestion);
}

export function warning(pos: SourcePos, message: string, suggestion?: string): Diagnostic {
  return make('warning', pos, message, suggestion);
}

function make(severity: Severity, pos: SourcePos, message: string, suggestion: string | undefined): Diagnostic {
  const base = { file: pos.file, line: pos.line, column: pos.column, severity, message };
  return suggestion === undefined ? base : { ...base, suggestion };
}

/** By file, line, column, then message, so output is stable. */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  return [...list].sort(
    (a, b) =>
      a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.message.localeCompare(b.message),
  );
}

/** Drop exact repeats (the same problem reached by two routes). */
export function uniqueDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return list.filter((d) => {
    const key = `${d.severity}\u0000${d.line}\u0000${d.column}\u0000${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** `FILE:LINE:COL: error: message`, plus an indented `did you mean` line when there is a suggestion. */
export function formatDiagnostic(d: Diagnostic): string {
  const head = `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`;
  return d.suggestion === undefined ? head : `${head}\n  did you mean \`${d.suggestion}\`?`;
}
