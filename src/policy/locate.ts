// From a path in the parsed value (["policies", 2, "filter"]) back to a line and column in the file.
import type { SourcePos } from './diagnostic.js';
import { linePos, type PolicySource } from './load.js';
import { entryOf, type SourceNode } from './yaml.js';

export type PathSegment = string | number;
export type Path = readonly PathSegment[];

interface Found {
  /** The deepest node reached along the path and how many segments it consumed. */
  readonly node: SourceNode | null;
  readonly depth: number;
  /** The key node of the last pair stepped through, when the path ended on a mapping entry. */
  readonly key: SourceNode | null;
}

function walk(source: PolicySource, path: Path): Found {
  let node = source.root;
  let key: SourceNode | null = null;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    if (node?.kind === 'mapping') {
      const entry = entryOf(node, String(seg));
      if (!entry) return { node, depth: i, key: null };
      key = entry.key;
      node = entry.value;
    } else if (node?.kind === 'sequence' && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) return { node, depth: i, key: null };
      key = null;
      node = item;
    } else {
      return { node, depth: i, key: null };
    }
  }
  return { node, depth: path.length, key };
}

export function offsetPos(source: PolicySource, offset: number): SourcePos {
  return linePos(source.file, source.lineStarts, offset);
}

/**
 * Where the value at `path` starts (or, with part 'key', where its key starts). A path that does not exist
 * (a missing key) resolves to the nearest existing ancestor.
 */
export function positionAt(source: PolicySource, path: Path, part: 'key' | 'value' = 'value'): SourcePos {
  const found = walk(source, path);
  const node = part === 'key' && found.depth === path.length && found.key ? found.key : found.node;
  return offsetPos(source, node?.start ?? 0);
}

/** True when the path exists in the document. */
export function hasPath(source: PolicySource, path: Path): boolean {
  return walk(source, path).depth === path.length;
}

/**
 * The file position of each character of the string scalar at `path` (index = offset into its value, plus one
 * for the end). Found by aligning the value with its raw source, which skips quotes, escapes and block
 * indentation; where that fails every offset maps to the scalar's start.
 */
export function scalarCharPositions(source: PolicySource, path: Path): readonly SourcePos[] {
  const found = walk(source, path);
  const node = found.node;
  const startOffset = node?.start ?? 0;
  const value = node?.kind === 'scalar' ? node.text : '';
  const raw = node?.kind === 'scalar' ? source.text.slice(node.start, node.end) : '';
  const offsets: number[] = [];
  let r = 0;
  for (let v = 0; v < value.length; v++) {
    const ch = value[v];
    while (r < raw.length && raw[r] !== ch) r++;
    if (r >= raw.length) {
      const fallback = Array.from({ length: value.length + 1 }, () => offsetPos(source, startOffset));
      return fallback;
    }
    offsets.push(startOffset + r);
    r++;
  }
  offsets.push(startOffset + Math.min(r, raw.length));
  return offsets.map((o) => offsetPos(source, o));
}
