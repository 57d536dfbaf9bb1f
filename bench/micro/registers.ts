// Register-file representation: int32 (lo, hi) pairs vs BigInt64Array vs plain BigInt values.
// Each variant runs the same guest-like loop: 64-bit add, xor, shift-left, and a load whose address comes from a register.
import Benchmark from 'benchmark';

const N = 10_000;
const mem32 = new Int32Array(1 << 16);
for (let i = 0; i < mem32.length; i++) mem32[i] = i * 2654435761;

function pairs(): number {
  const x = new Int32Array(64);
  x[2] = 1; x[4] = 3;
  for (let i = 0; i < N; i++) {
    const al = x[2], bl = x[4], lo = (al + bl) | 0;
    x[7] = (x[3] + x[5] + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0; x[6] = lo;
    x[8] = x[6] ^ x[2]; x[9] = x[7] ^ x[3];
    x[11] = (x[9] << 3) | (x[8] >>> 29); x[10] = x[8] << 3;
    const addr = (x[10] & 0xfffc) >>> 2;
    x[2] = mem32[addr]; x[3] = x[2] >> 31;
  }
  return x[2];
}

function bigArray(): number {
  const x = new BigInt64Array(32);
  x[1] = 1n; x[2] = 3n;
  for (let i = 0; i < N; i++) {
    x[3] = BigInt.asIntN(64, x[1] + x[2]);
    x[4] = x[3] ^ x[1];
    x[5] = BigInt.asIntN(64, x[4] << 3n);
    const addr = Number(x[5] & 0xfffcn) >>> 2;
    x[1] = BigInt(mem32[addr]);
  }
  return Number(x[1] & 0xffn);
}

function bigLocals(): number {
  let a = 1n, b = 3n, c = 0n;
  for (let i = 0; i < N; i++) {
    c = BigInt.asIntN(64, a + b);
    c = BigInt.asIntN(64, (c ^ a) << 3n);
    a = BigInt(mem32[Number(c & 0xfffcn) >>> 2]);
  }
  return Number(a & 0xffn) + Number(b);
}

const results: string[] = [];
new Benchmark.Suite('registers')
  .add('int32 pairs (Int32Array)', pairs)
  .add('BigInt64Array', bigArray)
  .add('BigInt locals', bigLocals)
  .on('cycle', (e: Benchmark.Event) => {
    const t = e.target as unknown as Benchmark;
    results.push(`${String(t.name).padEnd(26)} ${((t.hz ?? 0) * N / 1e6).toFixed(1).padStart(8)} M guest-insn-groups/s  ±${(t.stats?.rme ?? 0).toFixed(1)}%`);
  })
  .on('complete', () => console.log(results.join('\n')))
  .run();
