// Reading the policy file: bytes -> UTF-8 text -> YAML document that remembers where every node came from.
import { readFileSync, statSync } from 'node:fs';
import { error, type Diagnostic, type SourcePos } from './diagnostic.js';
import { parseYaml, type SourceNode } from './yaml.js';

export const MAX_POLICY_FILE_BYTES = 5 * 1024 * 1024;

/** The parsed file with what is needed to turn a node back into `file:line:column`. */
export interface PolicySource {
  readonly file: string;
  readonly text: string;
  /** Where each node of the document was written (null for an empty document). */
  readonly root: SourceNode | null;
  /** Offset of the start of each line. */
  readonly lineStarts: readonly number[];
}

export type LoadResult =
  | { readonly ok: true; readonly source: PolicySource; readonly value: unknown; readonly diagnostics: readonly Diagnostic[] }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

const start = (file: string): SourcePos => ({ file, line: 1, column: 1 });

/** Read and parse `path`; `file` is the name used in messages (defaults to the path as given). */
export function loadPolicyFile(path: string, file: string = path): LoadResult {
  const read = readPolicyBytes(path, file);
  if (!read.ok) return read;
  const decoded = decodeUtf8(read.bytes, file);
  if (typeof decoded !== 'string') return { ok: false, diagnostics: [decoded] };
  return parsePolicyText(decoded, file);
}

function readPolicyBytes(path: string, file: string): { ok: true; bytes: Uint8Array } | { ok: false; diagnostics: Diagnostic[] } {
  try {
    const size = statSync(path).size;
    if (size > MAX_POLICY_FILE_BYTES) {
      const mib = (size / 1024 / 1024).toFixed(1);
      return { ok: false, diagnostics: [error(start(file), `the file is ${mib} MiB; a policy file may be at most 5 MiB`)] };
    }
    return { ok: true, bytes: readFileSync(path) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String(code ?? e);
    return { ok: false, diagnostics: [error(start(file), `cannot read the policy file: ${why}`)] };
  }
}

/** UTF-8 text without a byte-order mark, or an error at the first byte that is not UTF-8. */
export function decodeUtf8(bytes: Uint8Array, file: string): string | Diagnostic {
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) {
    const lineStart = bytes.lastIndexOf(0x0a, bad - 1) + 1;
    let line = 1;
    for (let i = 0; i < lineStart; i++) if (bytes[i] === 0x0a) line++;
    const column = new TextDecoder().decode(bytes.subarray(lineStart, bad)).length + 1;
    const byte = bytes[bad]!.toString(16).toUpperCase().padStart(2, '0');
    return error({ file, line, column }, `the file is not valid UTF-8 (byte 0x${byte}); save it as UTF-8`);
  }
  const text = new TextDecoder('utf-8').decode(bytes);
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let n: number;
    let min: number;
    if (b < 0x80) { i++; continue; }
    else if (b >= 0xc2 && b <= 0xdf) { n = 1; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { n = 2; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { n = 3; min = 0x10000; }
    else return i;
    let cp = b & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

/** Parse YAML text, keeping source offsets; syntax errors, duplicate keys and bad aliases are errors. */
export function parsePolicyText(text: string, file: string): LoadResult {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_POLICY_FILE_BYTES) {
    return { ok: false, diagnostics: [error(start(file), `the file is ${(bytes / 1024 / 1024).toFixed(1)} MiB; a policy file may be at most 5 MiB`)] };
  }
  const parsed = parseYaml(text);
  const lineStarts = lineStartsOf(text);
  if (!parsed.ok) {
    // js-yaml's reasons are plain sentences with no source excerpt, so no password is echoed.
    const pos = linePos(file, lineStarts, parsed.offset);
    return { ok: false, diagnostics: [error(pos, `${parsed.syntax ? 'YAML syntax error' : 'YAML error'}: ${lowerFirst(parsed.message)}`)] };
  }
  if (parsed.root === null || (parsed.value === null && parsed.root.kind === 'scalar' && parsed.root.start === parsed.root.end)) {
    return { ok: false, diagnostics: [error(start(file), 'the file is empty; a policy file starts with `version: 1`')] };
  }
  return { ok: true, source: { file, text, root: parsed.root, lineStarts }, value: parsed.value, diagnostics: [] };
}

function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** 1-based line and column (in UTF-16 code units, as editors count) of `offset`. */
export function linePos(file: string, lineStarts: readonly number[], offset: number): SourcePos {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { file, line: lo + 1, column: offset - lineStarts[lo]! + 1 };
}

function lowerFirst(s: string): string {
  return s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s;
}
