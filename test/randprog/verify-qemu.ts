// Self-check of the random program generator against QEMU only.
//
//   npx vite-node test/randprog/verify-qemu.ts [nSeeds=300] [firstSeed=1] [concurrency=2]
//
// For every seed: generate + assemble + link, run on QEMU twice, require exit
// code 0, a complete dump and identical output; also regenerate the source to
// check generator determinism.  Prints the static instruction mix of the
// random bodies (from the linked ELFs) and a few value statistics.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRandomElfAsync } from './build.js';
import { generate, generateProgram } from './generate.js';
import { runQemu } from '../oracle.js';

const N = Number(process.argv[2] ?? 300);
const FIRST = Number(process.argv[3] ?? 1);
const CONC = Number(process.argv[4] ?? 2);

const EXPECTED_LINES = 1 + 31 + 32 + 1 + 128 + 1 + 1;

interface Mix {
  c16: number;
  i32: number;
  rm: number[]; // 0..7
  fpOps: number;
}

function symbols(elf: string): Map<string, number> {
  const out = spawnSync('riscv64-unknown-elf-nm', [elf], { encoding: 'utf8' }).stdout;
  const m = new Map<string, number>();
  for (const line of out.split('\n')) {
    const [addr, , name] = line.trim().split(/\s+/);
    if (name) m.set(name, parseInt(addr, 16));
  }
  return m;
}

/** Decode the body of the ELF's text (which starts at file-offset of 0x80000000) directly. */
function mixOf(elf: string, mix: Mix): void {
  const syms = symbols(elf);
  const start = syms.get('__body_start')!;
  const end = syms.get('__body_end')!;
  const bin = elf.replace(/\.elf$/, '.text.bin');
  spawnSync('riscv64-unknown-elf-objcopy', ['-O', 'binary', '--only-section=.text', elf, bin]);
  const od = readFileSync(bin);
  let pc = start - 0x80000000;
  const stop = end - 0x80000000;
  // Dead code after unconditional jumps may hold garbage; we count it too (it is static mix).
  while (pc < stop) {
    const lo = od.readUInt16LE(pc);
    if ((lo & 3) !== 3) {
      mix.c16++;
      pc += 2;
      continue;
    }
    const w = od.readUInt32LE(pc);
    pc += 4;
    mix.i32++;
    const opc = w & 0x7f;
    const rm = (w >>> 12) & 7;
    const f7 = w >>> 25;
    const rs2 = (w >>> 20) & 31;
    let hasRm = false;
    if (opc === 0x43 || opc === 0x47 || opc === 0x4b || opc === 0x4f) hasRm = true;
    else if (opc === 0x53) {
      const f5 = f7 >>> 2;
      if (f5 <= 3 || f5 === 0x0b || f5 === 0x18) hasRm = true;
      else if (f5 === 0x1a) hasRm = !(f7 === 0x69 && rs2 <= 1); // fcvt.d.w[u] is exact
      else if (f7 === 0x20) hasRm = true; // fcvt.s.d
    }
    if (opc === 0x53 || (opc >= 0x43 && opc <= 0x4f && (opc & 3) === 3)) mix.fpOps++;
    if (hasRm) mix.rm[rm]++;
  }
}

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) await fn(items[i++]);
    }),
  );
}

const dir = mkdtempSync(join(tmpdir(), 'randprog-verify-'));
const seeds = Array.from({ length: N }, (_, i) => FIRST + i);
const failures: string[] = [];
const mix: Mix = { c16: 0, i32: 0, rm: [0, 0, 0, 0, 0, 0, 0, 0], fpOps: 0 };
let nanF = 0;
let totF = 0;
let genCompressed = 0;
let genBody = 0;
const genRm: Record<string, number> = {};
const items: Record<string, number> = {};
const t0 = Date.now();
let buildMs = 0;
let qemuMs = 0;

await pool(seeds, CONC, async (seed) => {
  try {
    if (generate(seed) !== generate(seed)) throw new Error('generator not deterministic');
    const { stats } = generateProgram(seed);
    genCompressed += stats.compressed;
    genBody += stats.body;
    for (const [k, v] of Object.entries(stats.rm)) genRm[k] = (genRm[k] ?? 0) + v;
    for (const [k, v] of Object.entries(stats.items)) items[k] = (items[k] ?? 0) + v;
    const tb = Date.now();
    const elf = await buildRandomElfAsync(seed, dir);
    const tq = Date.now();
    buildMs += tq - tb;
    const a = await runQemu(elf, { timeoutMs: 10_000 });
    qemuMs += Date.now() - tq;
    const b = await runQemu(elf, { timeoutMs: 10_000 });
    if (a.timedOut) throw new Error('QEMU timed out');
    if (a.code !== 0) throw new Error(`exit code ${a.code}\n${a.stdout.split('\n').slice(0, 3).join('\n')}`);
    const lines = a.stdout.split('\n').filter((l) => l.length);
    if (lines.length !== EXPECTED_LINES || lines[lines.length - 1] !== 'END') throw new Error(`incomplete dump (${lines.length} lines)`);
    if (a.stdout !== b.stdout || a.code !== b.code) {
      const bl = b.stdout.split('\n');
      const i = a.stdout.split('\n').findIndex((l, k) => l !== bl[k]);
      throw new Error(`QEMU output not deterministic (code ${a.code}/${b.code}): line ${i + 1}: ${JSON.stringify(a.stdout.split('\n')[i])} vs ${JSON.stringify(bl[i])}`);
    }
    for (const l of lines) {
      const m = /^f\d+=(.*)$/.exec(l);
      if (!m) continue;
      totF++;
      if (m[1] === '7ff8000000000000' || m[1] === 'ffffffff7fc00000') nanF++;
    }
    mixOf(elf, mix);
  } catch (e) {
    failures.push(`seed ${seed}: ${(e as Error).message} (${join(dir, `rand-${seed}.S`)})`);
  }
});

const secs = (Date.now() - t0) / 1000;
console.log(`seeds ${FIRST}..${FIRST + N - 1}: ${N - failures.length} ok, ${failures.length} failed, ${secs.toFixed(1)} s wall (build ${(buildMs / 1000).toFixed(1)} s, qemu ${(qemuMs / 1000).toFixed(1)} s cumulative, one of the two qemu runs)`);
for (const f of failures.slice(0, 20)) console.log('  ' + f);
const tot = mix.c16 + mix.i32;
console.log(`static body mix (ELF): ${tot} instrs, ${mix.c16} compressed (${((100 * mix.c16) / tot).toFixed(1)}%), ${mix.i32} 32-bit; ${mix.fpOps} FP-opcode instrs`);
const rmNames = ['rne', 'rtz', 'rdn', 'rup', 'rmm', 'rm5', 'rm6', 'dyn'];
console.log('FP rounding-mode operands (ELF): ' + mix.rm.map((n, i) => `${rmNames[i]}=${n}`).join(' '));
console.log(`generator: ${genBody} body instrs, ${genCompressed} c.*; rm: ${JSON.stringify(genRm)}`);
console.log('item categories: ' + Object.entries(items).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v}`).join(' '));
console.log(`final f registers equal to a canonical NaN: ${((100 * nanF) / Math.max(1, totF)).toFixed(1)}%`);
console.log(`sources in ${dir}`);
process.exit(failures.length ? 1 : 0);
