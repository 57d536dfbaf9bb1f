// The benchmark harness (src/bench.ts): the CI gate's comparison as pure functions (no timing), the folding of runs
// into results, and one real run of a benchmark ELF checked by its own self-check.
import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  compareToBaseline, formatGate, gateFigures, medianFigures, median, selfCheck, summarize, summarizeLinux, runElf, runSalusChild,
  chartSvg, formatTable, elfPath, BENCHMARKS, QEMU_CPU as BENCH_QEMU_CPU,
  type Baseline, type GateFigures, type RunSample, type BenchReport,
} from '../src/bench.js';
import { QEMU_CPU, REPO_ROOT } from './oracle.js';

const figures: GateFigures = {
  intmix: { speedup: 8, jitNorm: 0.5 },
  sha256: { speedup: 12, jitNorm: 0.9 },
  dispatch: { speedup: 5, jitNorm: 0.3 },
};
const baseline: Baseline = { version: 1, tolerance: 0.25, suiteTolerance: 0.15, basis: 'cpu', created: '2026-01-01T00:00:00Z', host: 'test', runs: 3, figures };

const scale = (f: GateFigures, k: (name: string, metric: 'speedup' | 'jitNorm') => number): GateFigures =>
  Object.fromEntries(Object.entries(f).map(([n, v]) => [n, { speedup: v.speedup * k(n, 'speedup'), jitNorm: v.jitNorm * k(n, 'jitNorm') }]));

describe('performance gate', () => {
  it('passes figures equal to the baseline', () => {
    const g = compareToBaseline(figures, baseline);
    expect(g.ok).toBe(true);
    expect(g.rows).toHaveLength(8); // 3 workloads x 2 figures, and the geomean of each figure
    expect(g.rows.every((r) => r.status === 'ok' && Math.abs(r.ratio - 1) < 1e-12)).toBe(true);
    expect(formatGate(g, baseline.tolerance)).toMatch(/PASS/);
  });

  it('fails a deliberate slowdown (every figure halved)', () => {
    const g = compareToBaseline(scale(figures, () => 0.5), baseline);
    expect(g.ok).toBe(false);
    expect(g.rows.every((r) => r.status === 'regressed')).toBe(true);
    const text = formatGate(g, baseline.tolerance);
    expect(text).toMatch(/FAIL: 8 regressed/);
    expect(text).toMatch(/intmix \| JIT\/interp speedup \| 8\.000 \| 4\.000 \| 0\.50 \| REGRESSED/);
  });

  it('fails when a single figure of a single workload regresses', () => {
    const g = compareToBaseline(scale(figures, (n, m) => (n === 'dispatch' && m === 'jitNorm' ? 0.7 : 1)), baseline);
    expect(g.ok).toBe(false);
    expect(g.rows.filter((r) => r.status === 'regressed').map((r) => `${r.workload}/${r.metric}`)).toEqual(['dispatch/jitNorm']);
  });

  it('passes noise within the tolerance, in both directions', () => {
    // Deterministic "noise": every figure moved by up to 20% (tolerance 25%).
    const wobble = [0.8, 1.2, 0.85, 1.15, 0.95, 1.05];
    let i = 0;
    const g = compareToBaseline(scale(figures, () => wobble[i++ % wobble.length]), baseline);
    expect(g.ok).toBe(true);
    expect(g.rows.some((r) => r.ratio < 0.85)).toBe(true);
  });

  it('treats the tolerance as a limit: just inside passes, just outside fails', () => {
    const only = (k: number) => scale(figures, (n) => (n === 'intmix' ? k : 1));
    expect(compareToBaseline(only(0.76), baseline).ok).toBe(true);
    expect(compareToBaseline(only(0.74), baseline).ok).toBe(false);
    // An explicit tolerance overrides the baseline's.
    expect(compareToBaseline(only(0.74), baseline, [], 0.3).ok).toBe(true);
  });

  it('fails a small slowdown of every workload through the geomean', () => {
    // 20% slower everywhere: within the per-workload tolerance (25%), beyond the geomean's (15%).
    const g = compareToBaseline(scale(figures, () => 0.8), baseline);
    expect(g.ok).toBe(false);
    expect(g.rows.filter((r) => r.status === 'regressed').map((r) => `${r.workload}/${r.metric}`)).toEqual(['(geomean)/speedup', '(geomean)/jitNorm']);
    expect(formatGate(g, 0.25, 0.15)).toMatch(/\(geomean\) \| JIT\/interp speedup .*REGRESSED \(limit 0\.85\)/);
    expect(compareToBaseline(scale(figures, () => 0.8), baseline, [], 0.25, 0.25).ok).toBe(true);
  });

  it('marks large improvements without failing', () => {
    const g = compareToBaseline(scale(figures, () => 2), baseline);
    expect(g.ok).toBe(true);
    expect(g.rows.every((r) => r.status === 'improved')).toBe(true);
    expect(formatGate(g, baseline.tolerance)).toMatch(/bench:baseline/);
  });

  it('reports a workload missing from the run, and fails', () => {
    const { sha256: _gone, ...rest } = figures;
    const g = compareToBaseline(rest, baseline);
    expect(g.ok).toBe(false);
    expect(g.missing).toEqual(['sha256']);
    expect(formatGate(g, baseline.tolerance)).toMatch(/sha256 .*MISSING/);
  });

  it('lists a workload not in the baseline without failing', () => {
    const g = compareToBaseline({ ...figures, nbody: { speedup: 3, jitNorm: 0.1 } }, baseline);
    expect(g.ok).toBe(true);
    expect(g.added).toEqual(['nbody']);
  });

  it('fails when the run has problems (a failed self-check)', () => {
    const g = compareToBaseline(figures, baseline, ['intmix [jit]: self-check failed']);
    expect(g.ok).toBe(false);
    expect(formatGate(g, baseline.tolerance)).toMatch(/PROBLEM: intmix \[jit\]/);
  });

  it('takes the median of each figure over runs for the baseline', () => {
    const runs = [scale(figures, () => 1), scale(figures, () => 3), scale(figures, () => 2)];
    expect(medianFigures(runs)).toEqual(scale(figures, () => 2));
    expect(median([3, 1, 2, 10])).toBe(2.5);
  });
});

describe('folding runs into results', () => {
  const out = (sum: string) => `intmix: ok ${sum}\n`;
  const sample = (engine: RunSample['engine'], seconds: number, extra: Partial<RunSample> = {}): RunSample => ({
    engine, instructions: engine === 'qemu' ? 0 : 100e6, seconds, code: 0, output: out('00000000deadbeef'),
    ...(engine === 'qemu' ? {} : { calibMops: 400, cpuSeconds: seconds / 2, calibCpuMops: 500 }), ...extra,
  });

  it('parses the self-check line', () => {
    expect(selfCheck('intmix', 'intmix: ok 0123456789abcdef\n')).toBe('0123456789abcdef');
    expect(selfCheck('intmix', 'intmix: FAIL checksum got 1 want 2\n')).toBeUndefined();
    expect(selfCheck('intmix', 'sha256: ok 0123456789abcdef\n')).toBeUndefined();
    expect(selfCheck('intmix', 'noise\nintmix: ok 0123456789abcdef\n')).toBeUndefined();
  });

  it('computes medians, speedup, QEMU ratio and the gate figures', () => {
    const w = summarize('intmix', 'x.elf', [
      sample('interp', 2, { secondHalfMips: 40 }), sample('jit', 0.2, { secondHalfMips: 500 }), sample('qemu', 0.1),
      sample('interp', 4, { secondHalfMips: 30 }), sample('jit', 0.25, { secondHalfMips: 900 }), sample('qemu', 0.3),
      sample('interp', 3, { secondHalfMips: 50 }), sample('jit', 0.5, { secondHalfMips: 600 }), sample('qemu', 0.2),
    ]);
    expect(w.problems).toEqual([]);
    expect(w.instructions).toBe(100e6);
    expect(w.interp?.seconds).toBe(3);
    expect(w.jit?.mips).toBeCloseTo(400);
    expect(w.qemu?.mips).toBeCloseTo(500);
    expect(w.speedup).toBeCloseTo(400 / (100 / 3));
    expect(w.jitOverQemu).toBeCloseTo(0.25 / 0.2);
    expect(w.steadySpeedup).toBeCloseTo(600 / 40); // medians of the second-half rates
    expect(w.jit?.normalized).toBeCloseTo(1);
    // CPU time: every run used half its wall time; calibration 500 Mops per CPU second.
    expect(w.jit?.cpuMips).toBeCloseTo(800);
    expect(w.cpuSpeedup).toBeCloseTo(w.speedup!);
    expect(w.jit?.cpuNormalized).toBeCloseTo(1.6);
    const rep: BenchReport = { version: 1, quick: true, date: '2026-01-01T00:00:00Z', host: { node: 'v20', cpu: 'test', cpus: 2, loadavg: [0, 0, 0] },
      reps: 3, qemu: '7.2', workloads: [w], pending: [{ name: 'linux-boot', reason: 'later' }] };
    expect(gateFigures(rep, 'wall')).toEqual({ intmix: { speedup: w.jit!.normalized! / w.interp!.normalized!, jitNorm: w.jit?.normalized } });
    expect(gateFigures(rep, 'cpu')).toEqual({ intmix: { speedup: w.jit!.cpuNormalized! / w.interp!.cpuNormalized!, jitNorm: w.jit?.cpuNormalized } });
    expect(gateFigures(rep, 'cpu').intmix.speedup).toBeCloseTo(w.cpuSpeedup!); // same calibration in every run here
    expect(gateFigures(rep)).toEqual(gateFigures(rep, 'cpu'));
    expect(formatTable(rep)).toMatch(/\| linux-boot \| pending: later/);
    expect(formatTable(rep)).toMatch(/\| JIT\/interp 2nd half \|[^]*\| 15\.00x \|/);
    const svg = chartSvg(rep);
    expect(svg).toMatch(/^<svg[^]*<\/svg>\n$/);
    expect(svg.match(/<rect x=/g)?.length).toBe(3 + 3); // one bar per engine, one legend swatch per engine
  });

  it('reports failed self-checks and disagreements, and keeps them out of the gate', () => {
    const w = summarize('intmix', 'x.elf', [
      sample('interp', 2), sample('jit', 0.2, { code: 1, output: 'intmix: FAIL checksum got 1 want 2\n' }),
      sample('qemu', 0.1, { output: out('00000000feedface') }),
      sample('interp', 2, { instructions: 99e6 }),
    ]);
    expect(w.problems.join('\n')).toMatch(/intmix \[jit\]: self-check failed \(exit 1\): intmix: FAIL checksum/);
    expect(w.problems.join('\n')).toMatch(/disagree on the checksum/);
    expect(w.warnings.join('\n')).toMatch(/instruction counts differ: interp 100000000\/99000000/);
    expect(w.instructions).toBe(100e6);
    expect(w.jit).toBeUndefined();
    const rep = { workloads: [w] } as BenchReport;
    expect(gateFigures(rep)).toEqual({});
  });

  it('takes the interpreter\'s instruction count when the JIT counts differently, with a warning only', () => {
    const w = summarize('intmix', 'x.elf', [sample('interp', 2), sample('jit', 0.2, { instructions: 99e6 })]);
    expect(w.problems).toEqual([]);
    expect(w.warnings).toEqual(['intmix: instruction counts differ: interp 100000000, jit 99000000']);
    expect(w.instructions).toBe(100e6);
    expect(w.jit?.mips).toBeCloseTo(500);
  });

  it('folds Linux boots into a row that the gate leaves out', () => {
    const boot = (engine: RunSample['engine'], instructions: number, seconds: number, output = 'Linux\ncheck x: ok\nchecks done\n'): RunSample =>
      ({ engine, instructions, seconds, code: 0, output });
    const w = summarizeLinux([boot('interp', 500e6, 10), boot('jit', 500e6, 5), boot('qemu', 0, 2)]);
    expect(w).toMatchObject({ name: 'linux-boot', kind: 'linux', instructions: 500e6, problems: [] });
    expect(w.interp?.mips).toBeCloseTo(50);
    expect(w.qemu?.seconds).toBe(2);
    expect(w.qemu?.mips).toBeNaN();
    expect(w.speedup).toBeCloseTo(2);
    expect(w.jitOverQemu).toBeCloseTo(2.5);
    const rep = { workloads: [w], pending: [], reps: 1, quick: false } as unknown as BenchReport;
    expect(gateFigures(rep)).toEqual({});
    expect(formatTable(rep)).toMatch(/\| linux-boot \| 500\.0 \| 10\.00 \| 50\.0 \| 5\.00 \| 100\.0 \| 2\.00x \| - \| 2\.00 \| - \|/);
    const bad = summarizeLinux([boot('jit', 100e6, 5, 'Kernel panic - not syncing\n')]);
    expect(bad.problems[0]).toMatch(/linux-boot \[jit\]: did not reach "checks done"/);
  });

  it('uses the oracle\'s QEMU -cpu flags', () => {
    expect(BENCH_QEMU_CPU).toBe(QEMU_CPU);
  });
});

describe('benchmark ELFs', () => {
  it('has a full and a quick build of every benchmark', () => {
    for (const n of BENCHMARKS) {
      expect(existsSync(elfPath(n, false)), elfPath(n, false)).toBe(true);
      expect(existsSync(elfPath(n, true)), elfPath(n, true)).toBe(true);
    }
  });

  it('runs a quick build to completion in-process and validates its self-check', () => {
    const elf = elfPath('rvc_loop', true);
    const s = runElf(elf, 'interp');
    expect(s.error).toBeUndefined();
    expect(s.code).toBe(0);
    expect(selfCheck('rvc_loop', s.output)).toBe('b6273101a2abed1a');
    expect(s.instructions).toBeGreaterThan(10e6);
    const w = summarize('rvc_loop', elf, [s]);
    expect(w.problems).toEqual([]);
    expect(w.interp?.mips).toBeGreaterThan(0);
    // 10 M instructions and more leave progress samples in both halves of the run.
    expect(s.secondHalfMips).toBeGreaterThan(0);
    expect(w.interp?.secondHalfMips).toBe(s.secondHalfMips);
  });

  it('reports a run stopped by an instruction cap as a failed self-check', () => {
    const s = runElf(elfPath('intmix', true), 'jit', { maxInsns: 200_000 });
    expect(s.error).toMatch(/stopped after/);
    expect(summarize('intmix', 'x', [s]).problems[0]).toMatch(/intmix \[jit\]: self-check failed/);
  });

  it.skipIf(!existsSync(path.join(REPO_ROOT, 'dist', 'bench', 'worker.js')))('measures in a child process with calibration and RSS', async () => {
    const s = await runSalusChild(elfPath('rvc_loop', true), 'interp', 120_000);
    expect(selfCheck('rvc_loop', s.output)).toBe('b6273101a2abed1a');
    expect(s.calibMops).toBeGreaterThan(0);
    expect(s.calibCpuMops).toBeGreaterThan(0);
    expect(s.cpuSeconds).toBeGreaterThan(0);
    expect(s.maxRssKiB).toBeGreaterThan(1024);
  });
});
