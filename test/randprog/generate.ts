// Random RV64GC program generator for differential testing (Salus vs QEMU).
//
// generate(seed) returns a self-contained GNU assembler source for a
// bare-metal M-mode program (QEMU `-M virt -bios none`, linked at
// 0x80000000).  The program initialises every x/f register and fcsr with
// random (edge-biased) values, runs a random straight-line-ish sequence of
// RV64GC instructions (forward branches/jumps, bounded loops, a little
// self-modifying code), then dumps the architectural state over the NS16550A
// UART and exits through the SiFive test finisher.
//
// Only RV64GC + Zicsr + Zifencei instructions are emitted.  Everything is
// deterministic in the seed and nothing depends on timers, counters or other
// nondeterminism.  Deliberately included although the ISA leaves them to the
// implementation: misaligned loads/stores (QEMU performs them without
// trapping) and the failure value of SC (QEMU writes 1).  Never emitted:
// misaligned AMO/LR/SC, SC paired with an LR to another address, stores
// between LR and SC, dynamic rounding with an invalid frm, and anything that
// traps (any trap ends the program with a TRAP line and exit code 1).
//
// Output (one line each, 16 lower-case hex digits):
//   randprog seed=<n>
//   [TRAP mcause=... mepc=... mtval=...]      only after an unexpected trap
//   x1=... .. x31=...  f0=... .. f31=...  fcsr=...
//   m000=... .. m3f8=...                      the 1 KiB scratch area, by dword
//   msum=...                                  checksum of the scratch area
//   END
// then the SiFive test finisher: 0x5555 (exit 0), or exit 1 after a trap.
//
// Register conventions of the generated program:
//   x8 (s0)  = base of the 1 KiB scratch area (never written)
//   x2 (sp)  = scratch + 512; only moved temporarily inside atomic groups
//   the 1 KiB constant pool lies at scratch + 1024 (read-only, reachable
//   from x8 with 12-bit offsets).
// Everything else is fair game.

import { Rng } from './rng.js';

export const SCRATCH_SIZE = 1024;
export const POOL_ENTRIES = 128;
const SP_OFF = 512; // sp = scratch + SP_OFF
const BASE = 8; // x8 holds the scratch base
const SP = 2;

const UART = 0x10000000;
const FINISHER = 0x100000;

export type RmName = 'rne' | 'rtz' | 'rdn' | 'rup' | 'rmm' | 'dyn';

export interface GenStats {
  /** Instructions emitted in the random body (pseudo-instructions count once). */
  body: number;
  /** Explicit compressed (c.*) instructions in the body. */
  compressed: number;
  /** Rounding-mode-bearing FP instructions, by rounding mode (omitted rm counts as dyn). */
  rm: Record<RmName, number>;
  /** Item categories chosen. */
  items: Record<string, number>;
}

export interface Generated {
  source: string;
  stats: GenStats;
}

// ---------------------------------------------------------------------------
// value helpers

const M64 = (1n << 64n) - 1n;
const dv = new DataView(new ArrayBuffer(8));

function f64bits(x: number): bigint {
  dv.setFloat64(0, x);
  return dv.getBigUint64(0);
}
function f32bits(x: number): number {
  dv.setFloat32(0, x);
  return dv.getUint32(0);
}
function u64(x: bigint): bigint {
  return x & M64;
}
function s64str(x: bigint): string {
  return BigInt.asIntN(64, x).toString();
}
function hex64(x: bigint): string {
  return '0x' + u64(x).toString(16).padStart(16, '0');
}

const INT_EDGES: bigint[] = [
  0n, 1n, 2n, 3n, 0xffffffffffffffffn, 0xfffffffffffffffen, 0x7fffffffffffffffn, 0x8000000000000000n,
  0x8000000000000001n, 0x80000000n, 0x7fffffffn, 0xffffffffn, 0xffffffff80000000n, 0xffffffff7fffffffn,
  0x100000000n, 0x0000000100000001n, 0xffffffff00000000n, 31n, 32n, 33n, 63n, 64n, 0x7ffn, 0x800n,
  0xfffffffffffff800n, 0x8000n, 0xffffn, 0xff, 0x80n, 0xaaaaaaaaaaaaaaaan, 0x5555555555555555n,
  0x00000000fffff800n, 0x0000000080000800n,
].map((v) => u64(BigInt(v)));

const F64_EDGES: bigint[] = [
  0x0000000000000000n, // +0
  0x8000000000000000n, // -0
  0x7ff0000000000000n, // +inf
  0xfff0000000000000n, // -inf
  0x7ff8000000000000n, // canonical qNaN
  0xfff8000000000000n, // negative qNaN
  0x7ff8000000000123n, // qNaN with payload
  0x7ff0000000000001n, // sNaN
  0x7ff4000000000000n, // sNaN
  0xfff0000000000abcn, // negative sNaN
  0x0000000000000001n, // min subnormal
  0x8000000000000001n,
  0x000fffffffffffffn, // max subnormal
  0x0010000000000000n, // min normal
  0x800fffffffffffffn,
  0x0010000000000001n,
  0x7fefffffffffffffn, // max normal
  0xffefffffffffffffn,
  f64bits(1), f64bits(-1), f64bits(0.5), f64bits(1.5), f64bits(2.5), f64bits(-0.5), f64bits(-1.5),
  f64bits(-2.5), f64bits(3), f64bits(0.1), f64bits(1 / 3),
  0x3ff0000000000001n, // 1 + ulp
  0x3fefffffffffffffn, // 1 - ulp/2
  f64bits(2 ** 31), f64bits(2 ** 31 - 1), f64bits(2 ** 31 - 0.5), f64bits(2 ** 31 + 0.5), f64bits(-(2 ** 31)),
  f64bits(-(2 ** 31) - 1), f64bits(-(2 ** 31) - 0.5), f64bits(2 ** 32), f64bits(2 ** 32 - 1), f64bits(2 ** 32 - 0.5),
  f64bits(2 ** 63), f64bits(-(2 ** 63)), f64bits(2 ** 64), 0x43dfffffffffffffn, 0x43efffffffffffffn,
  0xc3e0000000000001n, f64bits(2 ** 52), f64bits(2 ** 53), f64bits(2 ** 53 + 2),
  0x47efffffe0000000n, // FLT_MAX as double
  0x47effffff0000000n, // FLT_MAX + half ulp (rounds to inf / FLT_MAX)
  0x47effffff0000001n,
  0x3810000000000000n, // FLT_MIN as double
  0x380fffffe0000000n, // just below FLT_MIN (subnormal in single)
  0x380ffffff0000000n, // tie at FLT_MIN boundary
  0x36a0000000000000n, // min single subnormal as double
  0x3690000000000000n, // half min single subnormal
  0x3ff0000010000000n, // 1 + 2^-24 (tie when narrowed)
  0x3ff0000030000000n, // 1 + 3*2^-24
  0x3ff0000010000001n,
  0xbff0000010000000n,
];

const F32_EDGES: number[] = [
  0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fc00123, 0x7f800001, 0x7fa00000,
  0xff800abc, 0x00000001, 0x80000001, 0x007fffff, 0x00800000, 0x807fffff, 0x00800001, 0x7f7fffff, 0xff7fffff,
  f32bits(1), f32bits(-1), f32bits(0.5), f32bits(1.5), f32bits(2.5), f32bits(-0.5), f32bits(-2.5), f32bits(3),
  f32bits(0.1), 0x3f800001, 0x3f7fffff, f32bits(2 ** 31), 0x4effffff, f32bits(-(2 ** 31)), 0xcf000001,
  f32bits(2 ** 32), 0x4f7fffff, f32bits(2 ** 63), 0x5effffff, f32bits(-(2 ** 63)), f32bits(2 ** 64),
  f32bits(2 ** 23), f32bits(2 ** 24), f32bits(2 ** 24 + 2), f32bits(1 / 3),
];

// ---------------------------------------------------------------------------
// output buffer

class Out {
  lines: string[] = [];
  rvc = false;
  count = 0;
  compressed = 0;
  bytes = 0;

  /** 32-bit instruction (assembled with RVC disabled so it stays 32-bit). */
  i(ins: string, bytes = 4): void {
    if (this.rvc) {
      this.lines.push('.option norvc');
      this.rvc = false;
    }
    this.lines.push('\t' + ins);
    this.count++;
    this.bytes += bytes;
  }

  /** Explicit compressed instruction. */
  c(ins: string): void {
    if (!this.rvc) {
      this.lines.push('.option rvc');
      this.rvc = true;
    }
    this.lines.push('\t' + ins);
    this.count++;
    this.compressed++;
    this.bytes += 2;
  }

  raw(s: string, bytes = 0): void {
    this.lines.push(s);
    this.bytes += bytes;
  }

  label(l: string): void {
    this.lines.push(l + ':');
  }
}

// ---------------------------------------------------------------------------

interface Ctx {
  depth: number;
  inLoop: boolean;
  /** only single-instruction items (for short-range compressed branches) */
  simple: boolean;
}

type FP = 's' | 'd' | '?';

const RMS: RmName[] = ['rne', 'rtz', 'rdn', 'rup', 'rmm'];

class Gen {
  readonly r: Rng;
  readonly o = new Out();
  readonly locked = new Set<number>();
  /** Approximate precision held by each f register (only used to bias operand choice). */
  ft: ('s' | 'd')[] = [];
  /** Precision of each constant-pool entry. */
  poolT: ('s' | 'd')[] = [];
  private labelN = 0;
  readonly stats: GenStats = {
    body: 0,
    compressed: 0,
    rm: { rne: 0, rtz: 0, rdn: 0, rup: 0, rmm: 0, dyn: 0 },
    items: {},
  };

  constructor(readonly seed: number) {
    this.r = new Rng(seed);
  }

  lbl(prefix: string): string {
    return `.L${prefix}${this.labelN++}`;
  }

  // ---- register choice --------------------------------------------------

  /** Any x register as a source. */
  rx(): string {
    const r = this.r;
    if (r.chance(0.05)) return 'x0';
    return `x${r.int(32)}`;
  }

  /** Writable x register number (not x0/sp/base/locked). */
  wxn(): number {
    for (;;) {
      const n = this.r.range(1, 31);
      if (n !== SP && n !== BASE && !this.locked.has(n)) return n;
    }
  }

  /** Writable destination; occasionally x0 (discarded result). */
  wx(allowZero = true): string {
    if (allowZero && this.r.chance(0.02)) return 'x0';
    return `x${this.wxn()}`;
  }

  /** Writable register in x9..x15 (compressed rd'), or -1 if none. */
  wcn(): number {
    const cands: number[] = [];
    for (let n = 9; n <= 15; n++) if (!this.locked.has(n)) cands.push(n);
    return cands.length ? this.r.pick(cands) : -1;
  }

  /** Any register x8..x15 as compressed source. */
  rc(): string {
    return `x${this.r.range(8, 15)}`;
  }

  /** Source f register, biased (85%) towards registers holding precision p. */
  fs(p: FP = '?', lo = 0, hi = 31): string {
    if (p !== '?' && this.r.chance(0.85)) {
      const c: number[] = [];
      for (let i = lo; i <= hi; i++) if (this.ft[i] === p) c.push(i);
      if (c.length) return `f${this.r.pick(c)}`;
    }
    return `f${this.r.range(lo, hi)}`;
  }

  /** Destination f register; records that it now holds precision p. */
  fd(p: FP, lo = 0, hi = 31): string {
    const n = this.r.range(lo, hi);
    if (p !== '?') this.ft[n] = p;
    return `f${n}`;
  }

  // ---- immediates -------------------------------------------------------

  imm12(): number {
    const r = this.r;
    return r.weighted<() => number>([
      [3, () => r.range(-2048, 2047)],
      [3, () => r.range(-16, 16)],
      [1, () => r.pick([-2048, 2047, -1, 0, 1, 0x7ff, -0x800, 0x400, -0x400, 31, 32, 63, 64])],
    ])();
  }

  intValue(): bigint {
    const r = this.r;
    return r.weighted<() => bigint>([
      [4, () => r.pick(INT_EDGES)],
      [3, () => r.u64()],
      [2, () => u64(BigInt(r.range(-40, 40)))],
      [2, () => u64(BigInt.asIntN(32, BigInt(r.u32())))], // sign-extended 32-bit
      [1, () => BigInt(r.u32())], // zero-extended 32-bit
      [1, () => u64(1n << BigInt(r.int(64)))],
      [1, () => u64((1n << BigInt(r.int(64))) - 1n)],
      [1, () => u64(-(1n << BigInt(r.int(64))))],
    ])();
  }

  f64Value(): bigint {
    const r = this.r;
    const sign = () => (r.chance(0.5) ? 1n << 63n : 0n);
    return r.weighted<() => bigint>([
      [5, () => r.pick(F64_EDGES)],
      // structured: exponent near 1.0, mantissa with trailing zeros (ties)
      [5, () => {
        const exp = BigInt(1023 + r.range(-40, 66));
        const tz = BigInt(r.int(53));
        const mant = (r.u64() & ((1n << 52n) - 1n) & ~((1n << tz) - 1n)) | (r.chance(0.3) ? 1n << tz : 0n);
        return sign() | (exp << 52n) | (mant & ((1n << 52n) - 1n));
      }],
      [2, () => r.u64()],
      [2, () => f64bits((r.range(-3000, 3000) + r.pick([0, 0.5, 0.25, 0.75, 0.125])) * 2 ** r.range(-4, 4))],
      [1, () => sign() | (r.u64() & ((1n << 52n) - 1n))], // subnormal
      [1, () => sign() | (BigInt(r.pick([1, 2, 2045, 2046, 1023 + 127, 1023 + 128, 1023 - 126, 1023 - 127, 1023 - 149, 1023 - 150])) << 52n) | (r.u64() & ((1n << 52n) - 1n))],
      // a few ulps around an integer-conversion boundary
      [1, () => u64(r.pick([f64bits(2 ** 31), f64bits(2 ** 32), f64bits(2 ** 63), f64bits(2 ** 64), f64bits(-(2 ** 31)), f64bits(-(2 ** 63)), f64bits(1)]) + BigInt(r.range(-3, 3)))],
    ])();
  }

  f32Value(): number {
    const r = this.r;
    const sign = () => (r.chance(0.5) ? 0x80000000 : 0);
    return r.weighted<() => number>([
      [5, () => r.pick(F32_EDGES)],
      [5, () => {
        const exp = 127 + r.range(-30, 66);
        const tz = r.int(24);
        let mant = r.u32() & 0x7fffff;
        mant = (mant >>> tz) << tz;
        return (sign() | (exp << 23) | mant) >>> 0;
      }],
      [2, () => r.u32()],
      [2, () => f32bits((r.range(-3000, 3000) + r.pick([0, 0.5, 0.25, 0.75])) * 2 ** r.range(-4, 4))],
      [1, () => (sign() | (r.u32() & 0x7fffff)) >>> 0],
      [1, () => (sign() | (r.pick([1, 2, 253, 254]) << 23) | (r.u32() & 0x7fffff)) >>> 0],
      [1, () => (r.pick([f32bits(2 ** 31), f32bits(2 ** 32), f32bits(2 ** 63), f32bits(2 ** 64), f32bits(-(2 ** 31)), f32bits(1)]) + r.range(-3, 3)) >>> 0],
    ])();
  }

  fregValue(): bigint {
    return this.fregValueT()[0];
  }

  /** 64-bit content for an f register: double, NaN-boxed single or non-boxed single. */
  fregValueT(): [bigint, 's' | 'd'] {
    const r = this.r;
    const kind = r.weighted<string>([
      [5, 'd'],
      [4, 'boxed'],
      [1, 'unboxed'],
    ]);
    if (kind === 'd') return [this.f64Value(), 'd'];
    const lo = BigInt(this.f32Value());
    if (kind === 'boxed') return [(0xffffffffn << 32n) | lo, 's'];
    const hi = BigInt(r.pick([0, 0xfffffffe, 0x7fffffff, 0xffff0000, 0x3ff00000, r.u32()]));
    return [(hi << 32n) | lo, 's'];
  }

  rm(): RmName | '' {
    const r = this.r;
    const v = r.weighted<RmName | ''>([
      [2, 'rne'],
      [2, 'rtz'],
      [2, 'rdn'],
      [2, 'rup'],
      [2, 'rmm'],
      [2, 'dyn'],
      [1, ''],
    ]);
    this.stats.rm[v === '' ? 'dyn' : v]++;
    return v;
  }

  staticRm(): RmName {
    const v = this.r.pick(RMS);
    this.stats.rm[v]++;
    return v;
  }

  // ---- items ------------------------------------------------------------

  count(cat: string): void {
    this.stats.items[cat] = (this.stats.items[cat] ?? 0) + 1;
  }

  item(ctx: Ctx): void {
    const r = this.r;
    type Cat = [number, string];
    const table: Cat[] = [
      [14, 'aluR'],
      [10, 'aluI'],
      [27, 'calu'],
      [8, 'mem'],
      [11, 'cmem'],
      [13, 'fpArith'],
      [4, 'fma'],
      [3, 'fpCmp'],
      [6, 'fpCvt'],
      [3, 'fpMv'],
    ];
    if (!ctx.simple) {
      table.push(
        [2, 'divEdge'],
        [2.5, 'amo'],
        [1, 'lrsc'],
        [8, 'refresh'],
        [5, 'fcsr'],
        [0.4, 'badFrm'],
        [1.5, 'spGroup'],
        [1.5, 'addrMem'],
        [0.3, 'fence'],
        [0.3, 'smc'],
      );
      if (ctx.depth < 2) table.push([3, 'branch'], [1.5, 'jump'], [2, 'cbranch'], [0.7, 'call']);
      if (!ctx.inLoop && ctx.depth < 2) table.push([0.8, 'loop']);
    }
    const cat = r.weighted(table);
    this.count(cat);
    switch (cat) {
      case 'aluR': return this.aluR();
      case 'aluI': return this.aluI();
      case 'calu': return this.calu();
      case 'mem': return this.mem();
      case 'cmem': return this.cmem();
      case 'fpArith': return this.fpArith();
      case 'fma': return this.fma();
      case 'fpCmp': return this.fpCmp();
      case 'fpCvt': return this.fpCvt();
      case 'fpMv': return this.fpMv();
      case 'divEdge': return this.divEdge();
      case 'amo': return this.amo();
      case 'lrsc': return this.lrsc();
      case 'refresh': return this.refresh();
      case 'fcsr': return this.fcsr();
      case 'badFrm': return this.badFrm();
      case 'spGroup': return this.spGroup();
      case 'addrMem': return this.addrMem();
      case 'fence': return this.fence();
      case 'smc': return this.smc();
      case 'branch': return this.branch(ctx);
      case 'jump': return this.jump(ctx);
      case 'cbranch': return this.cbranch(ctx);
      case 'call': return this.call(ctx);
      case 'loop': return this.loop(ctx);
    }
  }

  aluR(): void {
    const ops = [
      'add', 'sub', 'sll', 'slt', 'sltu', 'xor', 'srl', 'sra', 'or', 'and',
      'addw', 'subw', 'sllw', 'srlw', 'sraw',
      'mul', 'mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu',
      'mulw', 'divw', 'divuw', 'remw', 'remuw',
    ];
    const op = this.r.pick(ops);
    const a = this.rx();
    const b = this.r.chance(0.1) ? a : this.rx();
    this.o.i(`${op} ${this.wx()}, ${a}, ${b}`);
  }

  divEdge(): void {
    const r = this.r;
    const ta = this.wxn();
    let tb = this.wxn();
    while (tb === ta) tb = this.wxn();
    const av = r.pick([0x8000000000000000n, 0xffffffff80000000n, 0x80000000n, 0xffffffffffffffffn, 0n, 7n, 0xfffffffffffffff9n, r.u64()]);
    const bv = r.pick([0xffffffffffffffffn, 0n, 1n, 0xfffffffffffffffen, 0xffffffffn, 0x100000000n, 0x1ffffffffn, 0x100000001n, 3n, r.u64()]);
    this.o.i(`li x${ta}, ${s64str(av)}`);
    this.o.i(`li x${tb}, ${s64str(bv)}`);
    const op = r.pick(['div', 'divu', 'rem', 'remu', 'divw', 'divuw', 'remw', 'remuw', 'mulh', 'mulhsu', 'mulhu', 'mulw', 'mul']);
    this.o.i(`${op} ${this.wx()}, x${ta}, x${tb}`);
  }

  aluI(): void {
    const r = this.r;
    const k = r.int(5);
    if (k <= 1) {
      const op = r.pick(['addi', 'slti', 'sltiu', 'xori', 'ori', 'andi', 'addiw']);
      this.o.i(`${op} ${this.wx()}, ${this.rx()}, ${this.imm12()}`);
    } else if (k === 2) {
      const op = r.pick(['slli', 'srli', 'srai']);
      const sh = r.chance(0.4) ? r.pick([0, 1, 31, 32, 33, 63]) : r.int(64);
      this.o.i(`${op} ${this.wx()}, ${this.rx()}, ${sh}`);
    } else if (k === 3) {
      const op = r.pick(['slliw', 'srliw', 'sraiw']);
      const sh = r.chance(0.4) ? r.pick([0, 1, 15, 16, 31]) : r.int(32);
      this.o.i(`${op} ${this.wx()}, ${this.rx()}, ${sh}`);
    } else {
      const op = r.pick(['lui', 'auipc']);
      const imm = r.chance(0.3) ? r.pick([0, 1, 0x7ffff, 0x80000, 0xfffff, 0x80001]) : r.int(0x100000);
      this.o.i(`${op} ${this.wx()}, ${imm}`);
    }
  }

  calu(): void {
    const r = this.r;
    const nz6 = () => {
      let v = 0;
      while (v === 0) v = r.range(-32, 31);
      return v;
    };
    const kind = r.weighted<string>([
      [3, 'addi'], [2, 'addiw'], [2, 'li'], [1.5, 'lui'], [2, 'slli'], [2, 'srli'], [2, 'srai'], [2, 'andi'],
      [6, 'rr'], [2, 'mv'], [2, 'add'], [0.3, 'nop'], [1, 'addi4spn'],
    ]);
    const cw = this.wcn();
    switch (kind) {
      case 'addi': return this.o.c(`c.addi x${this.wxn()}, ${nz6()}`);
      case 'addiw': return this.o.c(`c.addiw x${this.wxn()}, ${r.range(-32, 31)}`);
      case 'li': return this.o.c(`c.li x${this.wxn()}, ${r.range(-32, 31)}`);
      case 'lui': {
        const imm = r.chance(0.5) ? r.range(1, 31) : r.range(0xfffe0, 0xfffff);
        return this.o.c(`c.lui x${this.wxn()}, ${imm}`);
      }
      case 'slli': return this.o.c(`c.slli x${this.wxn()}, ${r.chance(0.3) ? r.pick([1, 31, 32, 63]) : r.range(1, 63)}`);
      case 'mv': return this.o.c(`c.mv x${this.wxn()}, x${r.range(1, 31)}`);
      case 'add': return this.o.c(`c.add x${this.wxn()}, x${r.range(1, 31)}`);
      case 'nop': return this.o.c('c.nop');
    }
    if (cw < 0) return this.o.c('c.nop');
    switch (kind) {
      case 'srli':
      case 'srai':
        return this.o.c(`c.${kind} x${cw}, ${r.chance(0.3) ? r.pick([1, 31, 32, 63]) : r.range(1, 63)}`);
      case 'andi': return this.o.c(`c.andi x${cw}, ${r.range(-32, 31)}`);
      case 'rr': {
        const op = r.pick(['c.sub', 'c.xor', 'c.or', 'c.and', 'c.subw', 'c.addw']);
        return this.o.c(`${op} x${cw}, ${this.rc()}`);
      }
      case 'addi4spn': return this.o.c(`c.addi4spn x${cw}, sp, ${4 * r.range(1, 255)}`);
    }
  }

  /** Scratch offset (from x8) for an access of width w. */
  scratchOff(w: number, alignedP = 0.85): number {
    const r = this.r;
    if (r.chance(alignedP)) return w * r.int(SCRATCH_SIZE / w);
    return r.int(SCRATCH_SIZE - w + 1);
  }

  memOp(base: string, baseOff: number, store: boolean): void {
    // baseOff: scratch offset the base register points at
    const r = this.r;
    const [op, w, fp] = store
      ? r.pick<[string, number, boolean]>([['sb', 1, false], ['sh', 2, false], ['sw', 4, false], ['sd', 8, false], ['fsw', 4, true], ['fsd', 8, true]])
      : r.pick<[string, number, boolean]>([['lb', 1, false], ['lh', 2, false], ['lw', 4, false], ['ld', 8, false], ['lbu', 1, false], ['lhu', 2, false], ['lwu', 4, false], ['flw', 4, true], ['fld', 8, true]]);
    let off: number;
    if (!store && base === `x${BASE}` && r.chance(0.15)) {
      off = SCRATCH_SIZE + w * r.int((POOL_ENTRIES * 8) / w); // constant pool
    } else {
      off = this.scratchOff(w) - baseOff;
    }
    const prec = w === 4 ? 's' : 'd';
    let reg: string;
    if (fp) reg = store ? this.fs(prec) : this.fd(off >= SCRATCH_SIZE && w === 8 ? this.poolT[(off - SCRATCH_SIZE) >> 3] : prec);
    else reg = store ? this.rx() : this.wx();
    this.o.i(`${op} ${reg}, ${off}(${base})`);
  }

  mem(): void {
    const useSp = this.r.chance(0.35);
    this.memOp(useSp ? 'sp' : `x${BASE}`, useSp ? SP_OFF : 0, this.r.chance(0.45));
  }

  cmem(): void {
    const r = this.r;
    const kind = r.pick(['lw', 'ld', 'fld', 'sw', 'sd', 'fsd', 'lwsp', 'ldsp', 'fldsp', 'swsp', 'sdsp', 'fsdsp']);
    const w = kind.includes('w') && !kind.includes('fsd') ? 4 : 8;
    if (kind.endsWith('sp')) {
      const maxOff = w === 4 ? 252 : 504;
      const off = w * r.int(maxOff / w + 1);
      if (kind === 'lwsp' || kind === 'ldsp') return this.o.c(`c.${kind} x${this.wxn()}, ${off}(sp)`);
      if (kind === 'fldsp') return this.o.c(`c.fldsp ${this.fd('d')}, ${off}(sp)`);
      if (kind === 'fsdsp') return this.o.c(`c.fsdsp ${this.fs('d')}, ${off}(sp)`);
      return this.o.c(`c.${kind} ${this.rx()}, ${off}(sp)`);
    }
    const maxOff = w === 4 ? 124 : 248;
    const off = w * r.int(maxOff / w + 1);
    if (kind === 'fld') return this.o.c(`c.fld ${this.fd('d', 8, 15)}, ${off}(x${BASE})`);
    if (kind === 'fsd') return this.o.c(`c.fsd ${this.fs('d', 8, 15)}, ${off}(x${BASE})`);
    if (kind === 'sw' || kind === 'sd') return this.o.c(`c.${kind} ${this.rc()}, ${off}(x${BASE})`);
    const cw = this.wcn();
    if (cw < 0) return this.o.c('c.nop');
    this.o.c(`c.${kind} x${cw}, ${off}(x${BASE})`);
  }

  /** Memory access through a freshly computed base register. */
  addrMem(): void {
    const r = this.r;
    const t = this.wxn();
    const store = r.chance(0.45);
    const w = r.pick([1, 2, 4, 8]);
    const target = this.scratchOff(w, 0.8);
    let disp = r.chance(0.5) ? r.range(-2048, 2047) : r.range(-64, 64);
    let pre = target - disp;
    if (pre < -2048 || pre > 2047) {
      disp = 0;
      pre = target;
    }
    this.o.i(`addi x${t}, x${BASE}, ${pre}`);
    const ops = store
      ? { 1: ['sb'], 2: ['sh'], 4: ['sw', 'fsw'], 8: ['sd', 'fsd'] }[w]!
      : { 1: ['lb', 'lbu'], 2: ['lh', 'lhu'], 4: ['lw', 'lwu', 'flw'], 8: ['ld', 'fld'] }[w]!;
    const op = r.pick(ops);
    const fp = op.startsWith('f');
    let reg: string;
    if (fp) reg = store ? this.fs(w === 4 ? 's' : 'd') : this.fd(w === 4 ? 's' : 'd');
    else if (store) reg = r.chance(0.2) ? `x${t}` : this.rx();
    else reg = r.chance(0.2) ? `x${t}` : this.wx();
    this.o.i(`${op} ${reg}, ${disp}(x${t})`);
  }

  amoAddr(w: number): string {
    const r = this.r;
    const k = r.int(4);
    if (k === 0) return `x${BASE}`;
    if (k === 1) return 'sp';
    const t = this.wxn();
    this.o.i(`addi x${t}, x${BASE}, ${w * r.int(SCRATCH_SIZE / w)}`);
    return `x${t}`;
  }

  ord(): string {
    return this.r.pick(['', '', '.aq', '.rl', '.aqrl']);
  }

  amo(): void {
    const r = this.r;
    const sz = r.pick(['w', 'd']);
    const addr = this.amoAddr(sz === 'w' ? 4 : 8);
    const op = r.pick(['amoswap', 'amoadd', 'amoxor', 'amoand', 'amoor', 'amomin', 'amomax', 'amominu', 'amomaxu']);
    this.o.i(`${op}.${sz}${this.ord()} ${this.wx()}, ${this.rx()}, (${addr})`);
  }

  lrsc(): void {
    const r = this.r;
    const sz = r.pick(['w', 'd']);
    const w = sz === 'w' ? 4 : 8;
    const t = this.wxn();
    this.o.i(`addi x${t}, x${BASE}, ${w * r.int(SCRATCH_SIZE / w)}`);
    this.locked.add(t);
    if (r.chance(0.8)) {
      // LR; a few ALU ops (no stores); SC -> must succeed
      this.o.i(`lr.${sz}${this.ord()} ${this.wx()}, (x${t})`);
      const n = r.int(4);
      for (let i = 0; i < n; i++) {
        const k = r.int(3);
        if (k === 0) this.aluR();
        else if (k === 1) this.aluI();
        else this.calu();
      }
    }
    // After the LR (nothing stored in between) the SC must succeed (rd = 0).
    // Without an LR (20%) it must fail: every earlier LR was followed by an
    // SC, which invalidates the reservation.  (QEMU writes 1 on failure.)
    this.locked.delete(t);
    this.o.i(`sc.${sz}${this.ord()} ${this.wx()}, ${this.rx()}, (x${t})`);
  }

  refresh(): void {
    const r = this.r;
    const k = r.int(7);
    if (k === 0) {
      this.o.i(`li ${this.wx()}, ${s64str(this.intValue())}`);
    } else if (k === 2) {
      const w = r.pick([4, 8]);
      this.o.i(`${w === 8 ? 'ld' : 'lw'} ${this.wx()}, ${SCRATCH_SIZE + w * r.int((POOL_ENTRIES * 8) / w)}(x${BASE})`);
    } else if (k === 3 || k === 6) {
      const e = r.int(POOL_ENTRIES);
      this.o.i(`fld ${this.fd(this.poolT[e])}, ${SCRATCH_SIZE + 8 * e}(x${BASE})`);
    } else if (k === 4) {
      this.o.i(`flw ${this.fd('s')}, ${SCRATCH_SIZE + 4 * r.int(POOL_ENTRIES * 2)}(x${BASE})`);
    } else {
      const t = this.wxn();
      const [v, p] = this.fregValueT();
      this.o.i(`li x${t}, ${s64str(v)}`);
      if (r.chance(0.8)) this.o.i(`fmv.d.x ${this.fd(p)}, x${t}`);
      else this.o.i(`fmv.w.x ${this.fd('s')}, x${t}`);
    }
  }

  fpArith(): void {
    const r = this.r;
    const p = r.pick<'s' | 'd'>(['s', 'd']);
    const k = r.weighted<string>([[6, 'bin'], [1.5, 'sqrt'], [2, 'minmax'], [3, 'sgnj']]);
    if (k === 'bin') {
      const op = r.pick(['fadd', 'fsub', 'fmul', 'fdiv']);
      const rm = this.rm();
      const a = this.fs(p);
      const b = this.fs(p);
      this.o.i(`${op}.${p} ${this.fd(p)}, ${a}, ${b}${rm ? ', ' + rm : ''}`);
    } else if (k === 'sqrt') {
      const rm = this.rm();
      const a = this.fs(p);
      this.o.i(`fsqrt.${p} ${this.fd(p)}, ${a}${rm ? ', ' + rm : ''}`);
    } else if (k === 'minmax') {
      const a = this.fs(p);
      const b = this.fs(p);
      this.o.i(`${r.pick(['fmin', 'fmax'])}.${p} ${this.fd(p)}, ${a}, ${b}`);
    } else {
      const a = this.fs(p);
      const b = r.chance(0.3) ? a : this.fs(p);
      this.o.i(`${r.pick(['fsgnj', 'fsgnjn', 'fsgnjx'])}.${p} ${this.fd(p)}, ${a}, ${b}`);
    }
  }

  fma(): void {
    const r = this.r;
    const op = r.pick(['fmadd', 'fmsub', 'fnmadd', 'fnmsub']);
    const p = r.pick<'s' | 'd'>(['s', 'd']);
    const rm = this.rm();
    const a = this.fs(p);
    const b = this.fs(p);
    const c = this.fs(p);
    this.o.i(`${op}.${p} ${this.fd(p)}, ${a}, ${b}, ${c}${rm ? ', ' + rm : ''}`);
  }

  fpCmp(): void {
    const r = this.r;
    const p = r.pick<'s' | 'd'>(['s', 'd']);
    if (r.chance(0.3)) return this.o.i(`fclass.${p} ${this.wx()}, ${this.fs(p)}`);
    const a = this.fs(p);
    const b = r.chance(0.15) ? a : this.fs(p);
    this.o.i(`${r.pick(['feq', 'flt', 'fle'])}.${p} ${this.wx()}, ${a}, ${b}`);
  }

  fpCvt(): void {
    const r = this.r;
    const k = r.int(5);
    if (k <= 1) {
      const it = r.pick(['w', 'wu', 'l', 'lu']);
      const p = r.pick<'s' | 'd'>(['s', 'd']);
      const rm = this.rm();
      this.o.i(`fcvt.${it}.${p} ${this.wx()}, ${this.fs(p)}${rm ? ', ' + rm : ''}`);
    } else if (k <= 3) {
      const it = r.pick(['w', 'wu', 'l', 'lu']);
      const p = r.pick<'s' | 'd'>(['s', 'd']);
      if (p === 'd' && (it === 'w' || it === 'wu')) {
        this.o.i(`fcvt.d.${it} ${this.fd('d')}, ${this.rx()}`); // exact, no rm operand
      } else {
        const rm = this.rm();
        this.o.i(`fcvt.${p}.${it} ${this.fd(p)}, ${this.rx()}${rm ? ', ' + rm : ''}`);
      }
    } else if (r.chance(0.6)) {
      const rm = this.rm();
      const a = this.fs('d');
      this.o.i(`fcvt.s.d ${this.fd('s')}, ${a}${rm ? ', ' + rm : ''}`);
    } else {
      const a = this.fs('s');
      this.o.i(`fcvt.d.s ${this.fd('d')}, ${a}`);
    }
  }

  fpMv(): void {
    const r = this.r;
    const k = r.int(4);
    if (k === 0) this.o.i(`fmv.x.w ${this.wx()}, ${this.fs('s')}`);
    else if (k === 1) this.o.i(`fmv.x.d ${this.wx()}, ${this.fs('?')}`);
    else if (k === 2) this.o.i(`fmv.w.x ${this.fd('s')}, ${this.rx()}`);
    else this.o.i(`fmv.d.x ${this.fd('d')}, ${this.rx()}`);
  }

  /** fflags / frm / fcsr accesses.  frm always stays in 0..4. */
  fcsr(): void {
    const r = this.r;
    const rd = () => (r.chance(0.2) ? 'x0' : this.wx());
    const k = r.int(14);
    const validFrm = () => r.int(5);
    switch (k) {
      case 0: return this.o.i(`fsrmi ${rd()}, ${validFrm()}`);
      case 1: return this.o.i(`csrrwi ${rd()}, frm, ${validFrm()}`);
      case 2: {
        const t = this.wxn();
        this.o.i(`li x${t}, ${validFrm() + 8 * r.int(1 << 20)}`); // upper bits ignored
        if (r.chance(0.5)) return this.o.i(`fsrm ${rd()}, x${t}`);
        return this.o.i(`csrrw ${rd()}, frm, x${t}`);
      }
      case 3: return this.o.i(`csrrc ${rd()}, frm, ${this.rx()}`); // clearing bits keeps frm <= 4
      case 4: return this.o.i(`csrrci ${rd()}, frm, ${r.int(32)}`);
      case 5: return this.o.i(`frrm ${this.wx()}`);
      case 6: return this.o.i(`csrrw ${rd()}, fflags, ${this.rx()}`);
      case 7: return this.o.i(`${r.pick(['csrrs', 'csrrc'])} ${rd()}, fflags, ${this.rx()}`);
      case 8: return this.o.i(`${r.pick(['csrrwi', 'csrrsi', 'csrrci'])} ${rd()}, fflags, ${r.int(32)}`);
      case 9: return this.o.i(`frflags ${this.wx()}`);
      case 10: return this.o.i(`frcsr ${this.wx()}`);
      case 11: {
        const t = this.wxn();
        const v = BigInt((validFrm() << 5) | r.int(32)) | (r.chance(0.5) ? r.u64() & ~0xffn : 0n);
        this.o.i(`li x${t}, ${s64str(v)}`);
        if (r.chance(0.5)) return this.o.i(`fscsr ${rd()}, x${t}`);
        return this.o.i(`csrrw ${rd()}, fcsr, x${t}`);
      }
      case 12: {
        // csrrs/csrrc on fcsr: frm bits of the mask kept clear for csrrs
        const t = this.wxn();
        const op = r.pick(['csrrs', 'csrrc']);
        let v = r.u64();
        if (op === 'csrrs') v &= ~0xe0n;
        this.o.i(`li x${t}, ${s64str(v)}`);
        return this.o.i(`${op} ${rd()}, fcsr, x${t}`);
      }
      case 13: return this.o.i(`${r.pick(['csrrwi', 'csrrsi', 'csrrci'])} ${rd()}, fcsr, ${r.int(32)}`);
    }
  }

  /** Invalid frm (5..7) while executing only static-rm / rm-less FP ops, then restore. */
  badFrm(): void {
    const r = this.r;
    const bad = r.range(5, 7);
    if (r.chance(0.5)) this.o.i(`fsrmi ${this.wx()}, ${bad}`);
    else this.o.i(`csrrwi ${this.wx()}, frm, ${bad}`);
    const n = r.range(1, 4);
    for (let i = 0; i < n; i++) {
      const k = r.int(5);
      const p = r.pick<'s' | 'd'>(['s', 'd']);
      const a = this.fs(p);
      const b = this.fs(p);
      const c = this.fs(p);
      if (k === 0) this.o.i(`${r.pick(['fadd', 'fsub', 'fmul', 'fdiv'])}.${p} ${this.fd(p)}, ${a}, ${b}, ${this.staticRm()}`);
      else if (k === 1) this.o.i(`fmadd.${p} ${this.fd(p)}, ${a}, ${b}, ${c}, ${this.staticRm()}`);
      else if (k === 2) this.o.i(`fcvt.w.${p} ${this.wx()}, ${a}, ${this.staticRm()}`);
      else if (k === 3) {
        if (r.chance(0.25)) this.o.i(`${r.pick(['feq', 'flt', 'fle'])}.${p} ${this.wx()}, ${a}, ${b}`);
        else this.o.i(`${r.pick(['fmin', 'fmax', 'fsgnjx'])}.${p} ${this.fd(p)}, ${a}, ${b}`);
      }
      else this.o.i(`frcsr ${this.wx()}`);
    }
    this.o.i(`fsrmi ${r.chance(0.5) ? 'x0' : this.wx()}, ${r.int(5)}`);
  }

  /** Temporarily move sp (c.addi16sp / addi), access through it, move it back. */
  spGroup(): void {
    const r = this.r;
    let k = 0;
    while (k === 0) k = 16 * r.range(-32, 31);
    const pos = SP_OFF + k; // scratch offset of sp inside the group
    const move = (d: number) => {
      if (d >= -512 && d <= 496 && d !== 0 && r.chance(0.7)) this.o.c(`c.addi16sp sp, ${d}`);
      else this.o.i(`addi sp, sp, ${d}`);
    };
    move(k);
    const n = r.range(1, 4);
    for (let i = 0; i < n; i++) {
      const kind = r.int(4);
      if (kind <= 1) {
        const op = r.pick(['lwsp', 'ldsp', 'fldsp', 'swsp', 'sdsp', 'fsdsp']);
        const w = op.includes('w') ? 4 : 8;
        const maxOff = Math.min(w === 4 ? 252 : 504, SCRATCH_SIZE - pos - w);
        const off = w * r.int(Math.floor(maxOff / w) + 1);
        if (op === 'lwsp' || op === 'ldsp') this.o.c(`c.${op} x${this.wxn()}, ${off}(sp)`);
        else if (op === 'fldsp') this.o.c(`c.fldsp ${this.fd('d')}, ${off}(sp)`);
        else if (op === 'fsdsp') this.o.c(`c.fsdsp ${this.fs('d')}, ${off}(sp)`);
        else this.o.c(`c.${op} ${this.rx()}, ${off}(sp)`);
      } else if (kind === 2) {
        this.memOp('sp', pos, r.chance(0.5));
      } else if (r.chance(0.5)) {
        const cw = this.wcn();
        if (cw >= 0) this.o.c(`c.addi4spn x${cw}, sp, ${4 * r.range(1, 255)}`);
      } else {
        this.o.i(`addi ${this.wx()}, sp, ${this.imm12()}`);
      }
    }
    move(-k);
  }

  fence(): void {
    this.o.i(this.r.pick(['fence', 'fence rw, rw', 'fence r, r', 'fence w, w', 'fence iorw, iorw', 'fence.i']));
  }

  /** Self-modifying code: patch the __smc slot, fence.i, call it. */
  smc(): void {
    const r = this.r;
    if (this.locked.has(1)) return this.o.i('nop'); // the call below writes x1
    const t = this.wxn();
    let t2 = this.wxn();
    while (t2 === t) t2 = this.wxn();
    let rd = this.wxn();
    while (rd === 1) rd = this.wxn();
    const rs1 = r.int(32);
    let word: number;
    if (r.chance(0.3)) {
      // c.addi rd, nzimm followed by c.nop
      let imm = 0;
      while (imm === 0) imm = r.range(-32, 31);
      const cinsn = (((imm >> 5) & 1) << 12) | (rd << 7) | ((imm & 31) << 2) | 0x1;
      word = ((0x0001 << 16) | cinsn) >>> 0;
    } else {
      const [f3, opc] = r.pick<[number, number]>([[0, 0x13], [4, 0x13], [6, 0x13], [7, 0x13], [0, 0x1b], [2, 0x13], [3, 0x13]]);
      const imm = r.range(-2048, 2047) & 0xfff;
      word = ((imm << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc) >>> 0;
    }
    this.o.i(`lla x${t}, __smc`, 8);
    this.o.i(`li x${t2}, ${word | 0}`, 8);
    this.o.i(`sw x${t2}, 0(x${t})`);
    this.o.i('fence.i');
    this.o.i(`jalr x1, 0(x${t})`);
  }

  block(ctx: Ctx, n: number): void {
    for (let i = 0; i < n; i++) this.item(ctx);
  }

  /** Conditional forward branch over a random block. */
  branch(ctx: Ctx): void {
    const r = this.r;
    const L = this.lbl('b');
    const a = this.rx();
    const b = r.chance(0.15) ? a : this.rx();
    const op = r.pick(['beq', 'bne', 'blt', 'bge', 'bltu', 'bgeu']);
    this.o.i(`${op} ${a}, ${b}, ${L}`);
    this.block({ ...ctx, depth: ctx.depth + 1 }, r.range(1, ctx.depth === 0 ? 6 : 4));
    this.o.label(L);
  }

  /** Compressed conditional branch over a short block of simple items. */
  cbranch(ctx: Ctx): void {
    const r = this.r;
    const L = this.lbl('c');
    this.o.c(`${r.pick(['c.beqz', 'c.bnez'])} ${this.rc()}, ${L}`);
    this.block({ ...ctx, depth: ctx.depth + 1, simple: true }, r.range(1, 10));
    this.o.label(L);
  }

  /** Unconditional forward jump over dead code (which may contain garbage). */
  jump(ctx: Ctx): void {
    const r = this.r;
    const L = this.lbl('j');
    const link = () => r.pick(['x0', this.locked.has(1) ? 'x0' : 'x1', this.wx(false)]);
    const k = r.int(6);
    if (k === 0) this.o.i(`jal ${link()}, ${L}`);
    else if (k === 1) this.o.c(`c.j ${L}`);
    else if (k === 2 || k === 3) {
      const t = this.wxn();
      const d = r.chance(0.5) ? 0 : r.range(-2048, 2046);
      const odd = r.chance(0.25) ? 1 : 0; // jalr clears bit 0 of the target
      this.o.i(`lla x${t}, ${L}`, 8);
      if (d !== 0 || odd) this.o.i(`addi x${t}, x${t}, ${-d}`);
      this.o.i(`jalr ${r.chance(0.2) ? `x${t}` : link()}, ${d + odd}(x${t})`);
    } else {
      const t = this.wxn();
      this.o.i(`lla x${t}, ${L}`, 8);
      this.o.c(`${k === 4 ? 'c.jr' : 'c.jalr'} x${t}`);
    }
    // dead code
    const n = r.range(0, 4);
    for (let i = 0; i < n; i++) {
      if (r.chance(0.4)) {
        this.o.raw(
          r.pick(['\t.word 0x00000000', '\t.word 0xffffffff', '\t.half 0x0000', '\tunimp', '\tebreak', '\tecall', '\twfi', '\tmret', '\t.half 0x8002']),
          4,
        );
      } else {
        this.item({ ...ctx, depth: 2, simple: true });
      }
    }
    this.o.label(L);
  }

  /** Inline "call": jal to a local subroutine that returns through the link register. */
  call(ctx: Ctx): void {
    const r = this.r;
    const F = this.lbl('f');
    const E = this.lbl('e');
    const link = r.chance(0.6) && !this.locked.has(1) ? 1 : this.wxn();
    this.o.i(`jal x${link}, ${F}`);
    if (r.chance(0.5)) this.o.c(`c.j ${E}`);
    else this.o.i(`j ${E}`);
    this.o.label(F);
    this.locked.add(link);
    this.block({ ...ctx, depth: ctx.depth + 1, simple: true }, r.range(1, 6));
    this.locked.delete(link);
    if (link === 1 && r.chance(0.5)) this.o.i('ret');
    else if (r.chance(0.5)) this.o.c(`c.jr x${link}`);
    else this.o.i(`jalr x0, 0(x${link})`);
    this.o.label(E);
  }

  /** Bounded counted loop. */
  loop(ctx: Ctx): void {
    const r = this.r;
    const c = r.chance(0.4) ? this.wcn() : this.wxn();
    const cnt = c < 0 ? this.wxn() : c;
    const n = r.chance(0.2) ? r.range(20, 40) : r.range(1, 12);
    this.o.i(`li x${cnt}, ${n}`);
    const L = this.lbl('l');
    this.o.label(L);
    this.locked.add(cnt);
    const start = this.o.bytes;
    this.block({ ...ctx, inLoop: true, depth: ctx.depth + 1 }, r.range(2, 10));
    this.locked.delete(cnt);
    const size = this.o.bytes - start;
    const k = r.int(3);
    if (k === 0 && cnt >= 8 && cnt <= 15 && size < 200) {
      this.o.c(`c.addi x${cnt}, -1`);
      this.o.c(`c.bnez x${cnt}, ${L}`);
    } else if (k === 1) {
      this.o.i(`addiw x${cnt}, x${cnt}, -1`);
      this.o.i(`blt x0, x${cnt}, ${L}`);
    } else {
      this.o.i(`addi x${cnt}, x${cnt}, -1`);
      this.o.i(`bne x${cnt}, x0, ${L}`);
    }
  }
}

// ---------------------------------------------------------------------------
// program skeleton

function saveState(lines: string[]): void {
  // x31 -> mscratch; x31 = &__save; store everything
  lines.push('\tcsrw mscratch, x31', '\tlla x31, __save');
  for (let i = 1; i <= 30; i++) lines.push(`\tsd x${i}, ${(i - 1) * 8}(x31)`);
  lines.push('\tcsrr x30, mscratch', '\tsd x30, 240(x31)');
  for (let i = 0; i < 32; i++) lines.push(`\tfsd f${i}, ${248 + i * 8}(x31)`);
  lines.push('\tfrcsr x30', '\tsd x30, 504(x31)');
}

function dumpCode(): string[] {
  const L: string[] = [];
  L.push(
    '__dump:',
    '\tlla a1, __hdr',
    '\tjal s10, __puts',
    '\tbeqz s9, 1f',
    // TRAP line
    '\tlla a1, __s_trap', '\tjal s10, __puts',
    '\tlla s1, __trapinfo',
    '\tld a2, 0(s1)', '\tli a3, 16', '\tjal s11, __puthex',
    '\tlla a1, __s_mepc', '\tjal s10, __puts',
    '\tld a2, 8(s1)', '\tli a3, 16', '\tjal s11, __puthex',
    '\tlla a1, __s_mtval', '\tjal s10, __puts',
    '\tld a2, 16(s1)', '\tli a3, 16', '\tjal s11, __puthex',
    '\tli a0, 10', '\tjal ra, __putc',
    '1:',
    // registers
    '\tlla s1, __names',
    '\tlla s2, __save',
    '\tli s3, 64',
    '2:',
    '\tmv a1, s1', '\tjal s10, __puts',
    '\tld a2, 0(s2)', '\tli a3, 16', '\tjal s11, __puthex',
    '\tli a0, 10', '\tjal ra, __putc',
    '\taddi s1, s1, 8', '\taddi s2, s2, 8', '\taddi s3, s3, -1', '\tbnez s3, 2b',
    // memory
    '\tlla s2, __scratch',
    '\tli s3, 0',
    '\tli s4, 0',
    '\tli s5, 0x9e3779b97f4a7c15',
    `\tli s6, ${SCRATCH_SIZE}`,
    '3:',
    '\tli a0, 109', '\tjal ra, __putc', // 'm'
    '\tmv a2, s3', '\tli a3, 3', '\tjal s11, __puthex',
    '\tli a0, 61', '\tjal ra, __putc', // '='
    '\tld a2, 0(s2)',
    '\tslli t2, s4, 7', '\tsrli t3, s4, 57', '\tor s4, t2, t3', '\txor s4, s4, a2', '\tmul s4, s4, s5',
    '\tli a3, 16', '\tjal s11, __puthex',
    '\tli a0, 10', '\tjal ra, __putc',
    '\taddi s2, s2, 8', '\taddi s3, s3, 8', '\tblt s3, s6, 3b',
    '\tlla a1, __s_msum', '\tjal s10, __puts',
    '\tmv a2, s4', '\tli a3, 16', '\tjal s11, __puthex',
    '\tli a0, 10', '\tjal ra, __putc',
    '\tlla a1, __s_end', '\tjal s10, __puts',
    // exit: first wait (bounded) for the UART transmitter to drain (LSR.TEMT),
    // otherwise QEMU may still hold the last byte when the finisher exits it
    `\tli t0, ${UART}`,
    '\tli t2, 2000000',
    '6:\tlbu t1, 5(t0)',
    '\tandi t1, t1, 0x40',
    '\tbnez t1, 7f',
    '\taddi t2, t2, -1',
    '\tbnez t2, 6b',
    '7:',
    `\tli t0, ${FINISHER}`,
    '\tli t1, 0x5555',
    '\tbeqz s9, 4f',
    '\tslli t1, s9, 16',
    '\tori t1, t1, 0x333',
    '\tli t2, 0x3000',
    '\tor t1, t1, t2',
    '4:',
    '\tsw t1, 0(t0)',
    '5:\tj 5b',
    '',
    // putc(a0); link ra; clobbers t0, t1
    '__putc:',
    `\tli t0, ${UART}`,
    '1:\tlbu t1, 5(t0)',
    '\tandi t1, t1, 0x20',
    '\tbeqz t1, 1b',
    '\tsb a0, 0(t0)',
    '\tret',
    // puts(a1); link s10
    '__puts:',
    '1:\tlbu a0, 0(a1)',
    '\tbeqz a0, 2f',
    '\tjal ra, __putc',
    '\taddi a1, a1, 1',
    '\tj 1b',
    '2:\tjr s10',
    // puthex(a2 value, a3 digits); link s11
    '__puthex:',
    '\tmv s7, a2',
    '\tmv s8, a3',
    '1:\taddi s8, s8, -1',
    '\tslli t2, s8, 2',
    '\tsrl a0, s7, t2',
    '\tandi a0, a0, 15',
    '\tlla t3, __hexdigits',
    '\tadd t3, t3, a0',
    '\tlbu a0, 0(t3)',
    '\tjal ra, __putc',
    '\tbnez s8, 1b',
    '\tjr s11',
  );
  return L;
}

export function generateProgram(seed: number): Generated {
  const g = new Gen(seed);
  const r = g.r;
  const lines: string[] = [];
  const push = (...s: string[]) => lines.push(...s);

  // data first, so the generator knows what the f registers / pool hold
  const scratch: bigint[] = [];
  for (let i = 0; i < SCRATCH_SIZE / 8; i++) scratch.push(r.chance(0.2) ? (r.chance(0.5) ? g.intValue() : g.fregValue()) : r.u64());
  const pool: bigint[] = [];
  for (let i = 0; i < POOL_ENTRIES; i++) {
    const k = i % 4;
    let v: bigint;
    let t: 's' | 'd' = 'd';
    if (k === 0) v = g.f64Value();
    else if (k === 1) [v, t] = [(0xffffffffn << 32n) | BigInt(g.f32Value()), 's'];
    else if (k === 2) [v, t] = g.fregValueT();
    else v = g.intValue();
    pool.push(v);
    g.poolT.push(t);
  }
  const finit: bigint[] = [];
  for (let i = 0; i < 32; i++) {
    const [v, t] = g.fregValueT();
    finit.push(v);
    g.ft.push(t);
  }

  push(
    `# Salus random RV64GC program, seed ${seed}`,
    '# generated by test/randprog/generate.ts -- do not edit',
    '\t.option norelax',
    '\t.option norvc',
    '\t.section .text.init, "ax", @progbits',
    '\t.globl _start',
    '_start:',
    '\tlla t0, __trap',
    '\tcsrw mtvec, t0',
    '\tli t0, 0x2000', // mstatus.FS = Initial
    '\tcsrs mstatus, t0',
    '\tlla t0, __finit',
  );
  for (let i = 0; i < 32; i++) push(`\tfld f${i}, ${i * 8}(t0)`);
  push(`\tli t0, ${(r.int(5) << 5) | r.int(32)}`, '\tfscsr t0');
  const order = [1, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31];
  for (const n of order) push(`\tli x${n}, ${s64str(g.intValue())}`);
  push(`\tlla x${BASE}, __scratch`, `\taddi sp, x${BASE}, ${SP_OFF}`);
  push('\t.globl __body_start', '__body_start:');

  const target = r.range(300, 1000);
  const ctx: Ctx = { depth: 0, inLoop: false, simple: false };
  while (g.o.count < target) g.item(ctx);
  g.stats.body = g.o.count;
  g.stats.compressed = g.o.compressed;
  push(...g.o.lines);

  push('\t.option norvc', '\t.globl __body_end', '__body_end:', '\tj __finish', '');
  push('\t.balign 4', '__finish:');
  saveState(lines);
  push('\tli s9, 0', '\tj __dump', '');

  // trap handler: any trap is a generator bug (or an emulator bug)
  push(
    '\t.balign 4',
    '__trap:',
    '\tcsrw mscratch, x31',
    '\tlla x31, __intrap',
    '\tlw x31, 0(x31)',
    '\tbnez x31, __double_trap',
    '\tlla x31, __intrap',
    '\tsw x31, 0(x31)',
    '\tcsrr x31, mscratch',
  );
  saveState(lines);
  push(
    '\tlla t0, __trapinfo',
    '\tcsrr t1, mcause', '\tsd t1, 0(t0)',
    '\tcsrr t1, mepc', '\tsd t1, 8(t0)',
    '\tcsrr t1, mtval', '\tsd t1, 16(t0)',
    '\tli s9, 1',
    '\tj __dump',
    '__double_trap:',
    `\tli t0, ${FINISHER}`,
    '\tli t1, 0x23333',
    '\tsw t1, 0(t0)',
    '1:\tj 1b',
    '',
  );
  push(...dumpCode());

  // ---- data ----
  push('', '\t.section .data', '\t.balign 4096', '__scratch:');
  for (const v of scratch) push(`\t.dword ${hex64(v)}`);
  push('__pool:');
  for (const v of pool) push(`\t.dword ${hex64(v)}`);
  push('\t.balign 8', '__finit:');
  for (const v of finit) push(`\t.dword ${hex64(v)}`);
  push('\t.balign 8', '__save:', `\t.zero ${64 * 8}`);
  push('__trapinfo:', '\t.zero 24');
  push('__intrap:', '\t.word 0', '\t.balign 8');
  push('\t.balign 8', '__smc:', '\tnop', '\tret');
  push('__names:');
  const names = [...Array.from({ length: 31 }, (_, i) => `x${i + 1}=`), ...Array.from({ length: 32 }, (_, i) => `f${i}=`), 'fcsr='];
  for (const n of names) push('\t.balign 8', `\t.asciz "${n}"`);
  push('\t.balign 8');
  push(`__hdr:\t.asciz "randprog seed=${seed}\\n"`);
  push('__s_trap:\t.asciz "TRAP mcause="');
  push('__s_mepc:\t.asciz " mepc="');
  push('__s_mtval:\t.asciz " mtval="');
  push('__s_msum:\t.asciz "msum="');
  push('__s_end:\t.asciz "END\\n"');
  push('__hexdigits:\t.ascii "0123456789abcdef"');
  push('');
  return { source: lines.join('\n'), stats: g.stats };
}

/** Complete, self-contained GNU as source (.S) for the given seed. */
export function generate(seed: number): string {
  return generateProgram(seed).source;
}
