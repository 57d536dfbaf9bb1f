// The CI performance gate (npm run bench:check) and its baseline (npm run bench:baseline).
//
//   node dist/bench/check.js                 run the quick suite once, compare with bench/baseline.json; exit 1 on a
//                                            regression beyond the baseline's tolerance, a failed self-check or a
//                                            workload missing from the run
//   node dist/bench/check.js --update        run the quick suite --runs times (default 5) and write the medians
//                                            to bench/baseline.json (keeping its tolerance)
//   node dist/bench/check.js --noise N       run the quick suite N times and print the spread of every figure
//   node dist/bench/check.js --analyze FILE  the same for the reports a --noise run wrote with --json FILE
//
// Other options: --baseline FILE, --tolerance X and --suite-tolerance X (override the baseline's), --json FILE,
// --reps N (repetitions per run), --basis cpu|wall (for --update: what the figures are measured in),
// --node-flags "..." (for --noise: instead of GATE_NODE_FLAGS; "" for none). The figures compared are machine-independent: the JIT/interpreter speedup and
// the JIT's MIPS divided by a pure-JS calibration loop's Mops measured in the same process (docs/performance.md).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  REPO_ROOT, runBench, gateFigures, medianFigures, compareToBaseline, formatGate, median, withGeomean, GEOMEAN, DEFAULT_BASIS, GATE_NODE_FLAGS,
  type Baseline, type GateFigures, type BenchReport, type GateBasis, type EngineFigures,
} from '../src/bench.js';

/** Default tolerances for a new baseline (per workload, and for the geomean over the workloads); see the noise
 * study in docs/performance.md. */
export const DEFAULT_TOLERANCE = 0.5;
export const DEFAULT_SUITE_TOLERANCE = 0.25;

interface Args {
  nodeFlags?: string[];
  suiteTolerance?: number;
  update: boolean; runs?: number; noise?: number; analyze?: string; baseline: string; tolerance?: number; json?: string; reps?: number;
  basis?: GateBasis;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { update: false, baseline: path.join(REPO_ROOT, 'bench', 'baseline.json') };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i], v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    const num = (s: string) => { const n = Number(s); if (!Number.isFinite(n) || n <= 0) throw new Error(`${k}: '${s}' is not a positive number`); return n; };
    switch (k) {
      case '--update': a.update = true; break;
      case '--runs': a.runs = num(v()); break;
      case '--noise': a.noise = num(v()); break;
      case '--analyze': a.analyze = v(); break;
      case '--node-flags': a.nodeFlags = v().split(/\s+/).filter(Boolean); break;
      case '--baseline': a.baseline = v(); break;
      case '--tolerance': a.tolerance = num(v()); break;
      case '--suite-tolerance': a.suiteTolerance = num(v()); break;
      case '--json': a.json = v(); break;
      case '--reps': a.reps = num(v()); break;
      case '--basis': {
        const b = v();
        if (b !== 'cpu' && b !== 'wall') throw new Error(`--basis must be cpu or wall, not '${b}'`);
        a.basis = b;
        break;
      }
      default: throw new Error(`unknown option ${k}`);
    }
  }
  return a;
}

const log = (s: string) => process.stdout.write(`${s}\n`);

async function suiteRuns(n: number, reps?: number, nodeFlags = GATE_NODE_FLAGS): Promise<BenchReport[]> {
  const reports: BenchReport[] = [];
  for (let i = 1; i <= n; i++) {
    if (n > 1) log(`bench:check: quick suite run ${i}/${n}`);
    reports.push(await runBench({ quick: true, reps, log, nodeFlags }));
  }
  return reports;
}

/** Spread of each figure over several runs: median, min, max, and the largest drop below the median. */
export function noiseTable(figs: GateFigures[]): string {
  const runs = figs.map(withGeomean);
  const lines = ['| workload | figure | median | min | max | max drop below median |', '| --- | --- | --- | --- | --- | --- |'];
  let worst = 0, worstSuite = 0;
  for (const name of Object.keys(medianFigures(runs))) {
    for (const metric of ['speedup', 'jitNorm'] as const) {
      const xs = runs.filter((r) => r[name]).map((r) => r[name][metric]);
      const med = median(xs), lo = Math.min(...xs), hi = Math.max(...xs), drop = 1 - lo / med;
      if (name === GEOMEAN) worstSuite = Math.max(worstSuite, drop);
      else worst = Math.max(worst, drop);
      lines.push(`| ${name} | ${metric} | ${med.toFixed(3)} | ${lo.toFixed(3)} | ${hi.toFixed(3)} | ${(drop * 100).toFixed(1)}% |`);
    }
  }
  lines.push('', `largest drop below the median over ${runs.length} runs: ${(worst * 100).toFixed(1)}% for one workload, ` +
    `${(worstSuite * 100).toFixed(1)}% for the geomean`);
  return lines.join('\n');
}

/**
 * The noise study's comparison of estimators: for each way of turning the repetitions of one run into a figure, the
 * largest drop of a run's figure below the median over the runs (worst workload, then each workload).
 */
export function estimatorTable(reports: BenchReport[]): string {
  type S = EngineFigures['samples'][number];
  const max = (xs: number[]) => Math.max(...xs);
  const bases = {
    cpu: { mips: (s: S) => s.instructions / s.cpuSeconds! / 1e6, cal: (s: S) => s.calibCpuMops! },
    wall: { mips: (s: S) => s.instructions / s.seconds / 1e6, cal: (s: S) => s.calibMops! },
  };
  type B = typeof bases.cpu;
  const norm = (b: B) => (s: S) => b.mips(s) / b.cal(s);
  const est: Record<string, (i: S[], j: S[], b: B) => number> = {
    'speedup: ratio of median MIPS': (i, j, b) => median(j.map(b.mips)) / median(i.map(b.mips)),
    'speedup: median of paired ratios': (i, j, b) => median(j.map((s, k) => b.mips(s) / b.mips(i[k]))),
    'speedup: ratio of median MIPS/calib (gate)': (i, j, b) => median(j.map(norm(b))) / median(i.map(norm(b))),
    'speedup: ratio of best MIPS': (i, j, b) => max(j.map(b.mips)) / max(i.map(b.mips)),
    'JIT/calib: median (gate)': (_i, j, b) => median(j.map(norm(b))),
    'JIT/calib: best': (_i, j, b) => max(j.map(norm(b))),
  };
  const lines: string[] = ['| basis | estimator | worst drop | per workload |', '| --- | --- | --- | --- |'];
  for (const [bn, b] of Object.entries(bases)) {
    for (const [en, f] of Object.entries(est)) {
      const per: string[] = [];
      let worst = 0;
      for (const w of reports[0].workloads) {
        const vals = reports.map((r) => r.workloads.find((x) => x.name === w.name)).filter((x) => x?.interp && x.jit)
          .map((x) => f(x!.interp!.samples, x!.jit!.samples, b));
        if (!vals.length) continue;
        const drop = 1 - Math.min(...vals) / median(vals);
        worst = Math.max(worst, drop);
        per.push(`${w.name} ${(drop * 100).toFixed(0)}%`);
      }
      lines.push(`| ${bn} | ${en} | ${(worst * 100).toFixed(1)}% | ${per.join(', ')} |`);
    }
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.noise || args.analyze) {
    const reports = args.analyze ? (JSON.parse(readFileSync(args.analyze, 'utf8')) as BenchReport[])
      : await suiteRuns(args.noise!, args.reps, args.nodeFlags);
    if (args.json) writeFileSync(args.json, `${JSON.stringify(reports, null, 2)}\n`);
    for (const basis of ['cpu', 'wall'] as const) {
      log(`\nnoise of the gate's figures, ${basis} time:`);
      log(noiseTable(reports.map((r) => gateFigures(r, basis))));
    }
    log(`\nestimators compared (largest drop of one run below the median of ${reports.length} runs):`);
    log(estimatorTable(reports));
    return 0;
  }
  if (args.update) {
    const runs = args.runs ?? 5;
    const nodeFlags = args.nodeFlags ?? GATE_NODE_FLAGS;
    const reports = await suiteRuns(runs, args.reps, nodeFlags);
    const problems = reports.flatMap((r) => r.workloads.flatMap((w) => w.problems));
    if (problems.length) {
      log(`bench:baseline: not written, the suite has problems:\n  ${problems.join('\n  ')}`);
      return 1;
    }
    const old = existsSync(args.baseline) ? (JSON.parse(readFileSync(args.baseline, 'utf8')) as Baseline) : undefined;
    const tolerance = args.tolerance ?? old?.tolerance ?? DEFAULT_TOLERANCE;
    const suiteTolerance = args.suiteTolerance ?? old?.suiteTolerance ?? DEFAULT_SUITE_TOLERANCE;
    const basis = args.basis ?? old?.basis ?? DEFAULT_BASIS;
    const last = reports[reports.length - 1];
    const baseline: Baseline = {
      version: 1, tolerance, suiteTolerance, created: last.date, host: `${last.host.cpu} x${last.host.cpus}, node ${last.host.node}`,
      runs, basis, nodeFlags, figures: medianFigures(reports.map((r) => gateFigures(r, basis))),
    };
    writeFileSync(args.baseline, `${JSON.stringify(baseline, null, 2)}\n`);
    if (args.json) writeFileSync(args.json, `${JSON.stringify(reports, null, 2)}\n`);
    if (runs > 1) log(noiseTable(reports.map((r) => gateFigures(r, basis))));
    log(`bench:baseline: wrote ${args.baseline} (median of ${runs} quick-suite runs, ${basis} time, tolerance ${tolerance}, ` +
      `geomean ${suiteTolerance})`);
    return 0;
  }
  if (!existsSync(args.baseline)) {
    log(`bench:check: ${args.baseline} not found: run npm run bench:baseline`);
    return 2;
  }
  const baseline = JSON.parse(readFileSync(args.baseline, 'utf8')) as Baseline;
  const [report] = await suiteRuns(1, args.reps, args.nodeFlags ?? baseline.nodeFlags ?? GATE_NODE_FLAGS);
  if (args.json) writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
  const problems = report.workloads.flatMap((w) => w.problems);
  const tolerance = args.tolerance ?? baseline.tolerance;
  const suiteTolerance = args.suiteTolerance ?? baseline.suiteTolerance ?? DEFAULT_SUITE_TOLERANCE;
  const g = compareToBaseline(gateFigures(report, baseline.basis ?? DEFAULT_BASIS), baseline, problems, tolerance, suiteTolerance);
  for (const w of report.workloads.flatMap((x) => x.warnings)) log(`WARNING: ${w}`);
  log(`bench:check: ${baseline.basis ?? DEFAULT_BASIS}-time figures against ${path.relative(process.cwd(), args.baseline) || args.baseline} ` +
    `(${baseline.created}, ${baseline.host})`);
  log(formatGate(g, tolerance, suiteTolerance));
  return g.ok ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (e: Error) => {
  process.stderr.write(`bench:check: ${e.message}\n`);
  process.exitCode = 2;
});
