// TLB layout for the load fast path: direct-mapped typed arrays (what the hart uses) vs a Map keyed by virtual
// page vs an array of entry objects. Each variant translates and loads from a working set of 64 pages.
import Benchmark from 'benchmark';

const N = 10_000, PAGES = 64, SIZE = 256;
const ram32 = new Int32Array((PAGES * 4096) / 4).map((_, i) => i);
// Guest virtual pages spread over a 64-bit address space: (lo, hi) pairs.
const vaLo = Int32Array.from({ length: N }, (_, i) => (((i * 7919) % PAGES) << 12) | ((i * 4) & 0xffc));
const vaHi = -1;

const tagLo = new Int32Array(SIZE).fill(1), tagHi = new Int32Array(SIZE), off = new Int32Array(SIZE);
for (let p = 0; p < PAGES; p++) { const i = p & (SIZE - 1); tagLo[i] = p << 12; tagHi[i] = vaHi; off[i] = p << 12; }
function typedArrays(): number {
  let sum = 0;
  for (let k = 0; k < N; k++) {
    const lo = vaLo[k], i = (lo >>> 12) & (SIZE - 1);
    if (tagLo[i] === (lo & ~0xfff) && tagHi[i] === vaHi) sum += ram32[(off[i] + (lo & 0xfff)) >>> 2];
  }
  return sum;
}

const map = new Map<number, number>();
for (let p = 0; p < PAGES; p++) map.set(p * 4096 + vaHi * 4294967296, p << 12);
function jsMap(): number {
  let sum = 0;
  for (let k = 0; k < N; k++) {
    const lo = vaLo[k];
    const o = map.get(((lo >>> 0) & ~0xfff) + vaHi * 4294967296);
    if (o !== undefined) sum += ram32[(o + (lo & 0xfff)) >>> 2];
  }
  return sum;
}

const entries = Array.from({ length: SIZE }, () => ({ tagLo: 1, tagHi: 0, off: 0 }));
for (let p = 0; p < PAGES; p++) entries[p & (SIZE - 1)] = { tagLo: p << 12, tagHi: vaHi, off: p << 12 };
function objects(): number {
  let sum = 0;
  for (let k = 0; k < N; k++) {
    const lo = vaLo[k], e = entries[(lo >>> 12) & (SIZE - 1)];
    if (e.tagLo === (lo & ~0xfff) && e.tagHi === vaHi) sum += ram32[(e.off + (lo & 0xfff)) >>> 2];
  }
  return sum;
}

const results: string[] = [];
new Benchmark.Suite('tlb')
  .add('direct-mapped typed arrays', typedArrays)
  .add('Map by virtual page', jsMap)
  .add('array of entry objects', objects)
  .on('cycle', (e: Benchmark.Event) => {
    const t = e.target as unknown as Benchmark;
    results.push(`${String(t.name).padEnd(28)} ${((t.hz ?? 0) * N / 1e6).toFixed(1).padStart(8)} M loads/s  ±${(t.stats?.rme ?? 0).toFixed(1)}%`);
  })
  .on('complete', () => console.log(results.join('\n')))
  .run();
