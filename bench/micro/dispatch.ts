// Block dispatch and chaining. The same 4-instruction loop (3 ALU ops and a backward branch) runs
// * in one page under the JIT: the branch stays inside the page's compiled function (chained by its switch);
// * split across two pages under the JIT: each block ends in a jal to the other page, so every transfer leaves the
//   compiled function and goes back through the dispatcher (TLB lookup, page map, region entry and exit);
// * in one page under the interpreter, for reference.
import Benchmark from 'benchmark';
import { RAM, T0, T1, T2, T3, addi, xor, bne, jal, machineWith, step } from './guest.js';

const BUDGET = 100_000;
const loop = [addi(T0, T0, 1), xor(T2, T2, T0), addi(T3, T3, 3), bne(T0, T1, -12)]; // t1 = 0: t0 never reaches it
const inPageJit = machineWith('jit', { [RAM]: loop });
const inPageInterp = machineWith('interp', { [RAM]: loop });
// Page A: two ALU ops, jal to page B; page B: one ALU op, jal back: 2 instructions per block, 2 blocks per round.
const crossJit = machineWith('jit', {
  [RAM]: [addi(T0, T0, 1), jal(0, 0x1000 - 4)],
  [RAM + 0x1000]: [xor(T2, T2, T0), jal(0, -0x1000 - 4)],
});

const results: string[] = [];
new Benchmark.Suite('dispatch')
  .add('JIT, loop inside one page (chained)', () => step(inPageJit, BUDGET))
  .add('JIT, blocks on two pages (dispatched)', () => step(crossJit, BUDGET))
  .add('interpreter, loop inside one page', () => step(inPageInterp, BUDGET))
  .on('cycle', (e: Benchmark.Event) => {
    const t = e.target as unknown as Benchmark;
    const insns = (t.hz ?? 0) * BUDGET;
    const perBlock = String(t.name).includes('two pages') ? 2 : 4;
    results.push(`${String(t.name).padEnd(40)} ${(insns / 1e6).toFixed(1).padStart(8)} M guest insns/s ` +
      `${(insns / perBlock / 1e6).toFixed(1).padStart(7)} M blocks/s  ±${(t.stats?.rme ?? 0).toFixed(1)}%`);
  })
  .on('complete', () => console.log(results.join('\n')))
  .run();
