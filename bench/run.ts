// Run the benchmark suite: node dist/bench/run.js [--quick] [--json FILE] [--chart FILE.svg] [--qemu] [--reps N]
// [--only a,b] [--linux [--linux-reps N]]. The same as `salus bench` (see src/bench.ts); usable before the CLI command is wired in.
import { runBench } from '../src/bench.js';

const argv = process.argv.slice(2);
const opts: Parameters<typeof runBench>[0] = { log: (s) => process.stdout.write(`${s}\n`) };
for (let i = 0; i < argv.length; i++) {
  const k = argv[i];
  const v = () => { const x = argv[++i]; if (x === undefined) throw new Error(`${k} needs a value`); return x; };
  if (k === '--quick') opts.quick = true;
  else if (k === '--qemu') opts.qemu = true;
  else if (k === '--json') opts.json = v();
  else if (k === '--chart') opts.chart = v();
  else if (k === '--reps') opts.reps = Number(v());
  else if (k === '--only') opts.only = v().split(',');
  else if (k === '--linux') opts.linux = true;
  else if (k === '--linux-reps') opts.linuxReps = Number(v());
  else { process.stderr.write(`bench: unknown option ${k}\n`); process.exit(2); }
}
runBench(opts).then((r) => {
  if (r.workloads.some((w) => w.problems.length)) process.exitCode = 1;
}, (e: Error) => { process.stderr.write(`bench: ${e.message}\n`); process.exitCode = 2; });
