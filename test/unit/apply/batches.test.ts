import { describe, expect, test } from 'vitest';
import { batches } from '../../../src/apply/apply.js';

const items = (...sizes: number[]) => sizes.map((n, i) => ({ i, sql: 'x'.repeat(n) }));
const shape = (b: { i: number }[][]) => b.map((batch) => batch.map((s) => s.i));

describe('apply batches', () => {
  test('plan order kept, at most maxStatements per batch, none empty', () => {
    expect(shape(batches(items(1, 1, 1, 1, 1), 2, 1000))).toEqual([[0, 1], [2, 3], [4]]);
    expect(shape(batches(items(1, 1, 1), 3, 1000))).toEqual([[0, 1, 2]]);
    expect(batches([], 3, 1000)).toEqual([]);
  });

  test('a batch closes before it would pass maxBytes; a statement larger than maxBytes goes alone', () => {
    expect(shape(batches(items(40, 40, 40, 10), 100, 100))).toEqual([[0, 1], [2, 3]]);
    expect(shape(batches(items(10, 500, 10), 100, 100))).toEqual([[0], [1], [2]]);
  });

  test('the default limits: 2,500 small statements make three batches', () => {
    expect(batches(items(...Array.from({ length: 2500 }, () => 50))).map((b) => b.length)).toEqual([1000, 1000, 500]);
  });
});
