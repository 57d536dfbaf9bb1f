// Stores to a page that holds code. A guest loop stores a word every iteration, either to a data page (write-TLB
// fast path) or to an unused word of its own code page: that store takes the slow path and invalidates the decoded
// and compiled code for the page (the JIT drops the page's function and must recompile it). Also the bare store32
// helper on a data page and on a code page.
import Benchmark from 'benchmark';
import { Bus } from '../../runtime/bus.js';
import { Hart, store32 } from '../../runtime/hart.js';
import { Interpreter } from '../../runtime/interp.js';
import { RAM, T0, T1, T4, addi, sw, bne, machineWith, step } from './guest.js';

const BUDGET = 20_000;
// t4 = the target page; loop: sw t0, 0x7f0(t4); addi t0, t0, 1; bne t0, t1, loop (3 instructions, 1 store)
const prog = [sw(T0, T4, 0x7f0), addi(T0, T0, 1), bne(T0, T1, -8)];
const dataJit = machineWith('jit', { [RAM]: prog }, { [T4]: RAM + 0x10000 });
const codeJit = machineWith('jit', { [RAM]: prog }, { [T4]: RAM });
const dataInterp = machineWith('interp', { [RAM]: prog }, { [T4]: RAM + 0x10000 });
const codeInterp = machineWith('interp', { [RAM]: prog }, { [T4]: RAM });

const N = 4096;
const bus = new Bus(RAM, 1 << 20);
const h = new Hart(bus);
new Interpreter(h); // installs the invalidation hook
h.protectCodePage(0); // page 0 holds code
function storeData(): void { for (let i = 0; i < N; i++) store32(h, (RAM + 0x10000 + ((i * 4) & 0xffc)) | 0, 0, i); }
function storeCode(): void { for (let i = 0; i < N; i++) store32(h, (RAM + 0x800 + ((i * 4) & 0x7fc)) | 0, 0, i); }

const results: string[] = [];
new Benchmark.Suite('smc')
  .add('guest loop, JIT, store to a data page', () => step(dataJit, BUDGET))
  .add('guest loop, JIT, store to its code page', () => step(codeJit, BUDGET))
  .add('guest loop, interp, store to a data page', () => step(dataInterp, BUDGET))
  .add('guest loop, interp, store to its code page', () => step(codeInterp, BUDGET))
  .add('store32, data page', storeData)
  .add('store32, code page', storeCode)
  .on('cycle', (e: Benchmark.Event) => {
    const t = e.target as unknown as Benchmark;
    const hz = t.hz ?? 0, guest = String(t.name).startsWith('guest');
    const stores = guest ? hz * BUDGET / 3 : hz * N;
    results.push(`${String(t.name).padEnd(44)} ${(stores / 1e6).toFixed(2).padStart(8)} M stores/s` +
      (guest ? ` ${(hz * BUDGET / 1e6).toFixed(1).padStart(7)} M guest insns/s` : '') + `  ±${(t.stats?.rme ?? 0).toFixed(1)}%`);
  })
  .on('complete', () => {
    console.log(results.join('\n'));
    const j = codeJit.engine as { stats?: { invalidations: number; compiledUnits: number } };
    if (j.stats) console.log(`(JIT, store to its code page: ${j.stats.invalidations} invalidations, ${j.stats.compiledUnits} compiled units)`);
  })
  .run();
