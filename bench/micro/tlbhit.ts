// Guest loads through a Hart: load32/load64 on the TLB fast path (8 pages, all hits), and the same loads with the
// read TLB flushed every 64 loads (a miss walks the slow path: translation, PMP, refill).
import Benchmark from 'benchmark';
import { Bus } from '../../runtime/bus.js';
import { Hart, load32, load64 } from '../../runtime/hart.js';

const RAM = 0x80000000, N = 4096;
const bus = new Bus(RAM, 1 << 20);
const h = new Hart(bus);
// Addresses (lo words; hi = 0) spread over 8 pages, naturally aligned.
const addrs = Int32Array.from({ length: N }, (_, i) => (RAM + ((i * 7919) % 8) * 4096 + ((i * 40) & 0xff8)) | 0);
for (let i = 0; i < bus.ram32.length; i++) bus.ram32[i] = i;

let sink = 0;
function hits32(): void {
  let s = 0;
  for (let i = 0; i < N; i++) s = (s + load32(h, addrs[i], 0)) | 0;
  sink ^= s;
}
function hits64(): void {
  let s = 0;
  for (let i = 0; i < N; i++) s = (s + load64(h, addrs[i], 0)) | 0;
  sink ^= s;
}
function misses32(): void {
  let s = 0;
  for (let i = 0; i < N; i++) {
    if ((i & 63) === 0) h.tlbR.flush();
    s = (s + load32(h, addrs[i], 0)) | 0;
  }
  sink ^= s;
}

const results: string[] = [];
new Benchmark.Suite('tlbhit')
  .add('load32, TLB hit', hits32)
  .add('load64, TLB hit', hits64)
  .add('load32, TLB flushed every 64 loads', misses32)
  .on('cycle', (e: Benchmark.Event) => {
    const t = e.target as unknown as Benchmark;
    results.push(`${String(t.name).padEnd(36)} ${((t.hz ?? 0) * N / 1e6).toFixed(1).padStart(8)} M loads/s  ±${(t.stats?.rme ?? 0).toFixed(1)}%`);
  })
  .on('complete', () => console.log(results.join('\n') + (sink === 0.5 ? '!' : '')))
  .run();
