// YAML text -> the value it means, and a tree of where each node was written.
//
// js-yaml's documented event API does the parsing (`parseEvents`: one flat list of events with source offsets)
// and the construction (`constructFromEvents`, YAML 1.2 core schema). This file only walks the same events once
// more to keep the offsets: mapping keys to their key and value nodes, sequence items in order, aliases to the
// node they name. (The `yaml` package gave both in one Document, but at 6-8 times the cost: 0.3-0.4 s of a
// no-op plan on a 270 kB file, issue #9.) Nothing here decides what a scalar means: the value comes from
// js-yaml alone, and the tree only says where its parts were written.
import { CORE_SCHEMA, EVENT_ID, SCALAR_STYLE, YAMLException, constructFromEvents, getScalarValue, load, parseEvents, type Event } from 'js-yaml';

/** Where a node was written. Offsets index the text; `start` is where its content starts (props excluded). */
export type SourceNode = SourceScalar | SourceMapping | SourceSequence;

export interface SourceScalar {
  readonly kind: 'scalar';
  readonly start: number;
  /** End of the raw source of the scalar (quotes and block-scalar lines included). */
  readonly end: number;
  /** The scalar's text as decoded (before the schema gives it a type). */
  readonly text: string;
}

export interface SourceMapping {
  readonly kind: 'mapping';
  readonly start: number;
  /** Keyed by each key's text: look keys up with entryOf(). */
  readonly entries: Map<string, { readonly key: SourceNode; readonly value: SourceNode }>;
}

export interface SourceSequence {
  readonly kind: 'sequence';
  readonly start: number;
  readonly items: SourceNode[];
}

export type YamlResult =
  | { readonly ok: true; readonly value: unknown; readonly root: SourceNode | null }
  | { readonly ok: false; readonly offset: number; readonly message: string; readonly syntax: boolean };

/**
 * How many nodes aliases may add once expanded. Aliases are shared, not copied, in the value, but every later
 * stage (schema validation, normalising) walks them as copies: `a: &a [x, x]`, `b: &b [*a, *a]`, ... doubles
 * the work per line, so a small file could describe billions of nodes.
 */
export const MAX_ALIAS_EXPANSION = 1_000_000;

const QUOTED = new Set<number>([SCALAR_STYLE.SINGLE_QUOTED, SCALAR_STYLE.DOUBLE_QUOTED]);
const BLOCK = new Set<number>([SCALAR_STYLE.LITERAL_BLOCK, SCALAR_STYLE.FOLDED_BLOCK]);

const MESSAGES: Readonly<Record<string, string>> = {
  'duplicated mapping key': 'duplicate key: a key may appear only once in a mapping',
  'tab characters must not be used in indentation': 'tabs are not allowed as indentation in YAML; use spaces',
  'deficient indentation': 'a line inside `[...]`, `{...}` or a quoted string is indented less than it must be, or the bracket or quote is never closed',
  'deficient indentation at the end': 'the file ends inside `[...]`, `{...}` or a quoted string: a bracket or quote is never closed',
  'unexpected end of the stream within a flow collection': 'the file ends inside `[...]` or `{...}`: a bracket is never closed',
};

interface Frame {
  readonly node: SourceMapping | SourceSequence;
  readonly anchor: string | null;
  /** A mapping's key waiting for its value. */
  key: SourceNode | null;
  /** This collection and everything below it, aliases counted at their expanded size. */
  size: number;
}

/** Parse one YAML document. Syntax errors, duplicate keys, unknown aliases and alias bombs are errors. */
export function parseYaml(text: string): YamlResult {
  let events: Event[];
  try {
    events = parseEvents(text, {});
  } catch (e) {
    return failure(e, true, text);
  }
  const documents = events.filter((e) => e.type === EVENT_ID.DOCUMENT).length;
  if (documents > 1) {
    return { ok: false, offset: secondDocumentOffset(text, events), message: 'the file contains more than one YAML document (a second `---`); a policy file is one document', syntax: true };
  }
  const index = indexEvents(text, events);
  if ('message' in index) return { ok: false, offset: index.offset, message: index.message, syntax: false };
  let value: unknown;
  try {
    [value] = constructFromEvents(events, { source: text, schema: CORE_SCHEMA });
  } catch (e) {
    return failure(e, false, text);
  }
  return { ok: true, value: value ?? null, root: index.root };
}

function failure(e: unknown, syntax: boolean, text: string): YamlResult {
  if (!(e instanceof YAMLException)) throw e;
  const offset = e.mark?.position ?? 0;
  // Indentation that falls short at the very end of the file is a bracket that was never closed.
  const reason = e.reason === 'deficient indentation' && text.slice(offset).trim() === '' ? 'deficient indentation at the end' : e.reason;
  const message = MESSAGES[reason] ?? reason.replace(/^unidentified alias "(.*)"$/, 'unknown alias `*$1`: an alias must come after its anchor (`&$1`)');
  // A duplicate key is a fault in how the file is written, whichever stage finds it.
  return { ok: false, offset, message, syntax: syntax || reason === 'duplicated mapping key' };
}

/** Build the source tree; every event is visited once. */
function indexEvents(text: string, events: readonly Event[]): { root: SourceNode | null } | { offset: number; message: string } {
  const stack: Frame[] = [];
  const anchors = new Map<string, { node: SourceNode; size: number; open: boolean }>();
  let root: SourceNode | null = null;
  let written = 0;
  let expanded = 0;
  let lastEnd = 0;

  const attach = (node: SourceNode, size: number): void => {
    const top = stack[stack.length - 1];
    if (!top) {
      root = node;
      return;
    }
    top.size += size;
    if (top.node.kind === 'sequence') top.node.items.push(node);
    else if (top.key === null) top.key = node;
    else {
      top.node.entries.set(keyText(top.key), { key: top.key, value: node });
      top.key = null;
    }
  };
  // Anchor and alias ranges hold the name without its `&` or `*`.
  const anchorName = (e: { anchorStart: number; anchorEnd: number }): string | null =>
    e.anchorStart >= 0 ? text.slice(e.anchorStart, e.anchorEnd) : null;

  for (const e of events) {
    switch (e.type) {
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        written++;
        expanded++;
        const node: SourceMapping | SourceSequence =
          e.type === EVENT_ID.MAPPING ? { kind: 'mapping', start: e.start, entries: new Map() } : { kind: 'sequence', start: e.start, items: [] };
        const anchor = anchorName(e);
        if (anchor !== null) anchors.set(anchor, { node, size: 1, open: true });
        stack.push({ node, anchor, key: null, size: 1 });
        lastEnd = e.start + 1;
        break;
      }
      case EVENT_ID.POP: {
        const frame = stack.pop();
        if (!frame) break; // the document's end
        if (frame.anchor !== null && anchors.get(frame.anchor)?.node === frame.node) anchors.set(frame.anchor, { node: frame.node, size: frame.size, open: false });
        attach(frame.node, frame.size);
        break;
      }
      case EVENT_ID.SCALAR: {
        written++;
        expanded++;
        const node = scalarNode(text, e, lastEnd);
        lastEnd = node.end;
        const anchor = anchorName(e);
        if (anchor !== null) anchors.set(anchor, { node, size: 1, open: false });
        attach(node, 1);
        break;
      }
      case EVENT_ID.ALIAS: {
        written++;
        const name = text.slice(e.anchorStart, e.anchorEnd);
        const target = anchors.get(name);
        // An unknown alias is reported by the construction, with js-yaml's position.
        if (!target) return { root: null };
        if (target.open) return { offset: e.anchorStart - 1, message: `the alias \`*${name}\` is inside the collection it names: a policy file cannot contain itself` };
        expanded += target.size;
        if (expanded - written > MAX_ALIAS_EXPANSION) {
          return { offset: e.anchorStart - 1, message: `the aliases (\`*name\`) in this file expand to more than ${MAX_ALIAS_EXPANSION.toLocaleString('en-US')} nodes; write the values out, or nest fewer aliases` };
        }
        attach(target.node, target.size);
        lastEnd = e.anchorEnd;
        break;
      }
    }
  }
  return { root };
}

function scalarNode(text: string, e: Extract<Event, { type: typeof EVENT_ID.SCALAR }>, after: number): SourceScalar {
  const decoded = getScalarValue(text, e);
  if (e.valueStart < 0) {
    // An empty value (`key:`): where the value would start, after the key's colon, as the yaml package said.
    const colon = text.indexOf(':', after);
    const at = colon >= 0 && /^[ \t]*$/.test(text.slice(after, colon)) ? colon + 1 : after;
    return { kind: 'scalar', start: at, end: at, text: decoded };
  }
  if (QUOTED.has(e.style)) return { kind: 'scalar', start: e.valueStart - 1, end: e.valueEnd + 1, text: decoded };
  if (BLOCK.has(e.style)) {
    // The content starts on the line after the `|` or `>` header: point at the header.
    const from = Math.max(after, e.tagEnd, e.anchorEnd);
    const header = text.slice(from, e.valueStart).search(/[|>]/);
    return { kind: 'scalar', start: header >= 0 ? from + header : e.valueStart, end: e.valueEnd, text: decoded };
  }
  return { kind: 'scalar', start: e.valueStart, end: e.valueEnd, text: decoded };
}

/** The key as written; entryOf() finds the few whose meaning differs from their text (`~`, `0x1F`, `1.0`). */
function keyText(key: SourceNode): string {
  return key.kind === 'scalar' ? key.text : `\u0000${key.start}`;
}

/**
 * The entry of `mapping` whose key is `key` in the constructed value (where keys are `String` of the key's
 * value). Most keys are their own text; a plain scalar the schema reads as null, a number or a boolean is found
 * by reading it as the schema does, only when asked (an error position).
 */
export function entryOf(mapping: SourceMapping, key: string): { readonly key: SourceNode; readonly value: SourceNode } | undefined {
  const direct = mapping.entries.get(key);
  if (direct) return direct;
  for (const entry of mapping.entries.values()) {
    if (entry.key.kind !== 'scalar') continue;
    try {
      if (String(load(entry.key.text, { schema: CORE_SCHEMA })) === key) return entry;
    } catch {
      // not a scalar the schema reads: not this key
    }
  }
  return undefined;
}

/** Where the second document starts: its `---` line, else its first node. */
function secondDocumentOffset(text: string, events: readonly Event[]): number {
  let seen = 0;
  let firstNode = -1;
  let lastBefore = 0;
  for (const e of events) {
    if (e.type === EVENT_ID.DOCUMENT) seen++;
    else if (seen === 1) lastBefore = Math.max(lastBefore, 'valueEnd' in e ? e.valueEnd : 'start' in e ? e.start : e.type === EVENT_ID.ALIAS ? e.anchorEnd : 0);
    else if (seen === 2 && firstNode < 0) firstNode = 'valueStart' in e ? e.valueStart : 'start' in e ? e.start : -1;
  }
  const marker = /^---(?=\s|$)/gm;
  marker.lastIndex = lastBefore;
  const m = marker.exec(text);
  return m ? m.index : Math.max(firstNode, 0);
}
