// "Did you mean" for misspelt names: the nearest candidate by edit distance, if it is near enough.

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate nearest to `name`, or undefined when none is plausibly what was meant: a case-insensitive
 * match always is; otherwise the distance may be at most 2 and at most 40% of the longer name.
 */
export function suggest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of new Set(candidates)) {
    if (candidate === name) continue;
    const score = candidate.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name.toLowerCase(), candidate.toLowerCase());
    const limit = Math.min(2, Math.floor(Math.max(name.length, candidate.length) * 0.4));
    if (score <= Math.max(limit, 0) && (score < bestScore || (score === bestScore && best !== undefined && candidate < best))) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}
