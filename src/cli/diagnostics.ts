import type { Diagnostic } from '../policy/diagnostic.js';
import { err, errColour } from './output.js';

/** `FILE:LINE:COL: error: message` plus `did you mean` for a misspelt name. */
export function diagnosticLine(d: Diagnostic): string {
  const label = d.severity === 'error' ? errColour.red('error') : errColour.yellow('warning');
  const head = `${d.file}:${d.line}:${d.column}: ${label}: ${d.message}`;
  return d.suggestion === undefined ? head : `${head}\n  did you mean \`${d.suggestion}\`?`;
}

export function printDiagnostics(list: readonly Diagnostic[]): void {
  for (const d of [...list].sort((a, b) => a.line - b.line || a.column - b.column)) err(diagnosticLine(d));
}

export function plural(n: number, word: string, words = `${word}s`): string {
  return `${n} ${n === 1 ? word : words}`;
}
