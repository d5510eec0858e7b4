// Differential fuzzing, long run: `npm run fuzz` (FUZZ_RUNS cases, default 1000; FUZZ_SEED, default the
// current time, printed so that a failure can be replayed; FUZZ_PATH with FUZZ_SEED replays the failure that
// fast-check reported, FUZZ_RUNS=1; FUZZ_SHRINK_MS bounds shrinking, default 20 min).
// See docs/fuzzing.md.
import { describe, expect, it } from 'vitest';
import { fuzz } from './harness.js';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 1000);
const SEED = Number(process.env['FUZZ_SEED'] ?? Date.now() % 2 ** 31);
const SHRINK_MS = Number(process.env['FUZZ_SHRINK_MS'] ?? 20 * 60_000);
const PATH = process.env['FUZZ_PATH'];
const APPLY = process.env['FUZZ_APPLY'] === 'cli' ? 'cli' : 'in-process';

describe('differential fuzzing (long run)', () => {
  it(`${RUNS} random cases agree with the reference (seed ${SEED})`, async () => {
    const started = Date.now();
    let done = 0;
    process.stderr.write(`[fuzz] seed ${SEED}, ${RUNS} cases, apply ${APPLY}\n`);
    const counts = await fuzz({
      runs: RUNS,
      seed: SEED,
      shrinkBudgetMs: SHRINK_MS,
      apply: APPLY,
      ...(PATH ? { path: PATH } : {}),
      onCase: () => {
        done++;
        if (done % 50 === 0) process.stderr.write(`[fuzz] ${done}/${RUNS} cases, ${Math.round((Date.now() - started) / 1000)} s\n`);
      },
    }).catch((e: unknown) => {
      process.stderr.write(`[fuzz] FAILED after ${Math.round((Date.now() - started) / 1000)} s, seed ${SEED}\n`);
      throw e;
    });
    const seconds = Math.round((Date.now() - started) / 1000);
    process.stderr.write(
      `[fuzz] seed ${SEED}: ${RUNS} cases in ${seconds} s: ${counts.compared} applied and compared (${counts.reads} table reads: ${counts.withRows} with rows, ${counts.absent} of absent tables; ${counts.writes} writes, ${counts.wrote} of them changing rows), ${counts.refused} refused as expected; no difference\n`,
    );
    expect(counts.compared + counts.refused).toBe(RUNS);
  });
});
