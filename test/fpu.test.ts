import { describe, it, expect } from 'vitest';
import * as F from '../runtime/fpu.js';

// Rounding modes and flags.
const RNE = 0, RTZ = 1, RDN = 2, RUP = 3, RMM = 4;
const NV = 0x10, DZ = 0x08, OF = 0x04, UF = 0x02, NX = 0x01;
const RM_NAME = ['RNE', 'RTZ', 'RDN', 'RUP', 'RMM'];

// ---- bit helpers ------------------------------------------------------------------------------
const sf64 = new Float64Array(1), su64 = new BigUint64Array(sf64.buffer);
const sf32 = new Float32Array(1), su32 = new Uint32Array(sf32.buffer);
const dOf = (hex: string): number => { su64[0] = BigInt('0x' + hex); return sf64[0]; };
const hexD = (x: number): string => { sf64[0] = x; return su64[0].toString(16).padStart(16, '0'); };
/** hex of an exactly representable f64 value */
const D = hexD;
/** hex of an exactly representable f32 value */
const S = (x: number): string => {
  if (Math.fround(x) !== x) throw new Error(`${x} is not a float`);
  sf32[0] = x; return su32[0].toString(16).padStart(8, '0');
};
/** 2^e, exactly */
const P2 = (e: number): number => {
  let x = 1;
  for (; e > 0; e--) x *= 2;
  for (; e < 0; e++) x /= 2;
  return x;
};
/** flip the sign bit of a hex encoding */
const NEG = (h: string): string => (parseInt(h[0], 16) ^ 8).toString(16) + h.slice(1);
const I = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

// ---- generic dispatcher -----------------------------------------------------------------------
// Signature: parameter letters after `s` (d = f64, f = f32 bits, i = int32, l = int64 as lo,hi,
// r = rounding mode) then '>' and the result kind (d, f, i = int32, l = intOut, v = small int).
const SIG: Record<string, string> = {
  addD: 'ddr>d', subD: 'ddr>d', mulD: 'ddr>d', divD: 'ddr>d', sqrtD: 'dr>d', fmaD: 'dddr>d',
  minD: 'dd>d', maxD: 'dd>d', eqD: 'dd>i', ltD: 'dd>i', leD: 'dd>i', classD: '!d>i',
  cvtWD: 'dr>i', cvtWUD: 'dr>i', cvtLD: 'dr>l', cvtLUD: 'dr>l', cvtDW: 'ir>d', cvtDWU: 'ir>d',
  cvtDL: 'lr>d', cvtDLU: 'lr>d', cvtSD: 'dr>f', cvtDS: 'f>d',
  addS: 'ffr>f', subS: 'ffr>f', mulS: 'ffr>f', divS: 'ffr>f', sqrtS: 'fr>f', fmaS: 'fffr>f',
  minS: 'ff>f', maxS: 'ff>f', eqS: 'ff>i', ltS: 'ff>i', leS: 'ff>i', classS: '!f>i',
  cvtWS: 'fr>i', cvtWUS: 'fr>i', cvtLS: 'fr>l', cvtLUS: 'fr>l', cvtSW: 'ir>f', cvtSWU: 'ir>f',
  cvtSL: 'lr>f', cvtSLU: 'lr>f',
};
type Fn = (...args: number[]) => number | void;
const FAST = F as unknown as Record<string, Fn>;
const REF = F.ref as unknown as Record<string, Fn>;

/** Run fn on hex-encoded args; returns [hex result, flags]. */
function run(impl: Record<string, Fn>, fn: string, rm: number, args: string[]): [string, number] {
  const sig = SIG[fn];
  const noState = sig.startsWith('!');
  const [params, res] = (noState ? sig.slice(1) : sig).split('>');
  const s = { fflags: 0 };
  // Keep the argument list a generic (tagged) array: V8 silences NaNs stored into double-only
  // arrays, which would turn an sNaN argument into a qNaN before it reaches the fpu.
  const argv: unknown[] = [s];
  let ai = 0;
  for (const p of params) {
    if (p === 'r') { argv.push(rm); continue; }
    const h = args[ai++];
    if (p === 'd') argv.push(dOf(h));
    else if (p === 'f' || p === 'i') argv.push(Number(BigInt('0x' + h) & 0xffffffffn) | 0);
    else { const v = BigInt('0x' + h); argv.push(Number(v & 0xffffffffn) | 0, Number((v >> 32n) & 0xffffffffn) | 0); }
  }
  const f = impl[fn] ?? FAST[fn];
  const r = (noState ? f(argv[1] as number) : f(...(argv as number[]))) as number;
  let out: string;
  if (res === 'd') out = hexD(r);
  else if (res === 'f' || res === 'i') out = I(r);
  else out = I(F.intOut[1]) + I(F.intOut[0]);
  return [out, s.fflags];
}

// ---- known-answer vectors ---------------------------------------------------------------------
type Row = [string, number, string[], string, number];
const row = (fn: string, rm: number, args: string[], exp: string, flags: number): Row => [fn, rm, args, exp, flags];
/** One row per listed rounding mode. */
function per(fn: string, args: string[], byRm: { [k: string]: [string, number] }): Row[] {
  return Object.entries(byRm).map(([k, [e, f]]) => [fn, RM_NAME.indexOf(k), args, e, f] as Row);
}

// f64 constants
const ONE = '3ff0000000000000', NONE = 'bff0000000000000', TWO = '4000000000000000', HALF = '3fe0000000000000';
const PZ = '0000000000000000', NZ = '8000000000000000', INF = '7ff0000000000000', NINF = 'fff0000000000000';
const MAX = '7fefffffffffffff', NMAX = 'ffefffffffffffff', MINN = '0010000000000000';
const MAXSUB = '000fffffffffffff', MINSUB = '0000000000000001';
const QN = '7ff8000000000000', SN = '7ff0000000000001', NQN = 'fff8000000000123', NSN = 'fff4000000000000';
// f32 constants
const ONEs = '3f800000', NONEs = 'bf800000', PZs = '00000000', NZs = '80000000', INFs = '7f800000', NINFs = 'ff800000';
const MAXs = '7f7fffff', MINNs = '00800000', MAXSUBs = '007fffff', MINSUBs = '00000001';
const QNs = '7fc00000', SNs = '7f800001', NQNs = 'ffc00123', NSNs = 'ff800123';
// (2^27-1)(2^27+1) 2^-1076 = 2^-1022 - 2^-1076: exactly half an unbounded ulp below 2^-1022.
const TA = D(134217727 * P2(-538)), TB = D(134217729 * P2(-538));
// 31 * 1082401 * 2^-151 = 2^-126 - 2^-151: the same boundary for binary32.
const TAs = S(31 * P2(-75)), TBs = S(1082401 * P2(-76));
const X1 = 'ffffffff';

// KAT-BEGIN
const KAT: Row[] = [
  // ---- addD / subD
  ...per('addD', [ONE, D(P2(-53))], { RNE: [ONE, NX], RTZ: [ONE, NX], RDN: [ONE, NX], RUP: ['3ff0000000000001', NX], RMM: ['3ff0000000000001', NX] }),
  ...per('addD', ['3ff0000000000001', D(P2(-53))], { RNE: ['3ff0000000000002', NX], RTZ: ['3ff0000000000001', NX], RDN: ['3ff0000000000001', NX], RUP: ['3ff0000000000002', NX], RMM: ['3ff0000000000002', NX] }),
  ...per('addD', [ONE, NONE], { RNE: [PZ, 0], RTZ: [PZ, 0], RDN: [NZ, 0], RUP: [PZ, 0], RMM: [PZ, 0] }),
  ...per('addD', [NZ, NZ], { RNE: [NZ, 0], RTZ: [NZ, 0], RDN: [NZ, 0], RUP: [NZ, 0], RMM: [NZ, 0] }),
  ...per('addD', [PZ, NZ], { RNE: [PZ, 0], RTZ: [PZ, 0], RDN: [NZ, 0], RUP: [PZ, 0], RMM: [PZ, 0] }),
  ...per('addD', [MAX, MAX], { RNE: [INF, OF | NX], RTZ: [MAX, OF | NX], RDN: [MAX, OF | NX], RUP: [INF, OF | NX], RMM: [INF, OF | NX] }),
  ...per('addD', [NMAX, NMAX], { RNE: [NINF, OF | NX], RTZ: [NMAX, OF | NX], RDN: [NINF, OF | NX], RUP: [NMAX, OF | NX], RMM: [NINF, OF | NX] }),
  // MAX + ulp/2: a tie that overflows in RNE/RMM; rounding down is just inexact.
  ...per('addD', [MAX, D(P2(970))], { RNE: [INF, OF | NX], RTZ: [MAX, NX], RDN: [MAX, NX], RUP: [INF, OF | NX], RMM: [INF, OF | NX] }),
  ...per('addD', [MAX, D(P2(969))], { RNE: [MAX, NX], RTZ: [MAX, NX], RDN: [MAX, NX], RUP: [INF, OF | NX], RMM: [MAX, NX] }),
  row('addD', RNE, [INF, NINF], QN, NV),
  row('addD', RNE, [INF, INF], INF, 0),
  row('addD', RNE, [NINF, ONE], NINF, 0),
  row('addD', RNE, [QN, ONE], QN, 0),
  row('addD', RNE, [NQN, ONE], QN, 0),
  row('addD', RNE, [SN, ONE], QN, NV),
  row('addD', RNE, [ONE, NSN], QN, NV),
  row('addD', RNE, [SN, QN], QN, NV),
  row('addD', RNE, [MINSUB, MINSUB], '0000000000000002', 0),
  row('addD', RDN, [MAXSUB, MINSUB], MINN, 0),
  row('subD', RNE, [MINN, MINSUB], MAXSUB, 0),
  ...per('subD', [ONE, ONE], { RNE: [PZ, 0], RTZ: [PZ, 0], RDN: [NZ, 0], RUP: [PZ, 0], RMM: [PZ, 0] }),
  ...per('subD', [ONE, D(P2(-54))], { RNE: [ONE, NX], RTZ: ['3fefffffffffffff', NX], RDN: ['3fefffffffffffff', NX], RUP: [ONE, NX], RMM: [ONE, NX] }),
  ...per('subD', [ONE, MINSUB], { RNE: [ONE, NX], RTZ: ['3fefffffffffffff', NX], RDN: ['3fefffffffffffff', NX], RUP: [ONE, NX], RMM: [ONE, NX] }),
  row('subD', RNE, [INF, INF], QN, NV),
  row('subD', RNE, [NZ, PZ], NZ, 0),

  // ---- mulD
  // Tininess after rounding: 2^-1022 - 2^-1076 rounds (unbounded) to 2^-1022 in RNE/RUP/RMM -> no UF.
  ...per('mulD', [TA, TB], { RNE: [MINN, NX], RTZ: [MAXSUB, UF | NX], RDN: [MAXSUB, UF | NX], RUP: [MINN, NX], RMM: [MINN, NX] }),
  ...per('mulD', [NEG(TA), TB], { RNE: ['8010000000000000', NX], RTZ: ['800fffffffffffff', UF | NX], RDN: ['8010000000000000', NX], RUP: ['800fffffffffffff', UF | NX], RMM: ['8010000000000000', NX] }),
  ...per('mulD', [MINSUB, HALF], { RNE: [PZ, UF | NX], RTZ: [PZ, UF | NX], RDN: [PZ, UF | NX], RUP: [MINSUB, UF | NX], RMM: [MINSUB, UF | NX] }),
  ...per('mulD', ['8000000000000001', HALF], { RNE: [NZ, UF | NX], RTZ: [NZ, UF | NX], RDN: ['8000000000000001', UF | NX], RUP: [NZ, UF | NX], RMM: ['8000000000000001', UF | NX] }),
  row('mulD', RNE, [MINN, HALF], '0008000000000000', 0), // exact subnormal: no UF
  ...per('mulD', [MAX, TWO], { RNE: [INF, OF | NX], RTZ: [MAX, OF | NX], RDN: [MAX, OF | NX], RUP: [INF, OF | NX], RMM: [INF, OF | NX] }),
  // exact tie 4.5 ulp above 1.5: RNE -> even (4), RMM -> away (5)
  ...per('mulD', ['3ff0000000000003', '3ff8000000000000'], { RNE: ['3ff8000000000004', NX], RTZ: ['3ff8000000000004', NX], RDN: ['3ff8000000000004', NX], RUP: ['3ff8000000000005', NX], RMM: ['3ff8000000000005', NX] }),
  ...per('mulD', ['bff0000000000003', '3ff8000000000000'], { RNE: ['bff8000000000004', NX], RDN: ['bff8000000000005', NX], RUP: ['bff8000000000004', NX], RMM: ['bff8000000000005', NX] }),
  row('mulD', RNE, [PZ, INF], QN, NV),
  row('mulD', RNE, [NINF, PZ], QN, NV),
  row('mulD', RNE, [NZ, D(5)], NZ, 0),
  row('mulD', RNE, [INF, NONE], NINF, 0),
  row('mulD', RNE, [SN, PZ], QN, NV),

  // ---- divD
  ...per('divD', [ONE, D(3)], { RNE: ['3fd5555555555555', NX], RTZ: ['3fd5555555555555', NX], RDN: ['3fd5555555555555', NX], RUP: ['3fd5555555555556', NX], RMM: ['3fd5555555555555', NX] }),
  ...per('divD', [NONE, D(3)], { RNE: ['bfd5555555555555', NX], RDN: ['bfd5555555555556', NX], RUP: ['bfd5555555555555', NX] }),
  ...per('divD', [MINN, D(3)], { RNE: ['0005555555555555', UF | NX], RTZ: ['0005555555555555', UF | NX], RUP: ['0005555555555556', UF | NX] }),
  ...per('divD', [MAX, HALF], { RNE: [INF, OF | NX], RTZ: [MAX, OF | NX], RUP: [INF, OF | NX], RDN: [MAX, OF | NX] }),
  row('divD', RNE, [ONE, PZ], INF, DZ),
  row('divD', RNE, [NONE, PZ], NINF, DZ),
  row('divD', RNE, [ONE, NZ], NINF, DZ),
  row('divD', RNE, [PZ, PZ], QN, NV),
  row('divD', RNE, [INF, INF], QN, NV),
  row('divD', RNE, [INF, PZ], INF, 0),
  row('divD', RNE, [PZ, D(-5)], NZ, 0),
  row('divD', RNE, [ONE, INF], PZ, 0),
  row('divD', RNE, [QN, PZ], QN, 0),
  row('divD', RNE, [D(6), D(3)], TWO, 0),

  // ---- sqrtD
  ...per('sqrtD', [TWO], { RNE: ['3ff6a09e667f3bcd', NX], RTZ: ['3ff6a09e667f3bcc', NX], RDN: ['3ff6a09e667f3bcc', NX], RUP: ['3ff6a09e667f3bcd', NX], RMM: ['3ff6a09e667f3bcd', NX] }),
  row('sqrtD', RNE, [NZ], NZ, 0),
  row('sqrtD', RNE, [NONE], QN, NV),
  row('sqrtD', RNE, [NINF], QN, NV),
  row('sqrtD', RNE, [INF], INF, 0),
  row('sqrtD', RNE, [D(4)], TWO, 0),
  row('sqrtD', RNE, [MINSUB], D(P2(-537)), 0),
  row('sqrtD', RNE, [SN], QN, NV),
  row('sqrtD', RNE, [NQN], QN, 0),

  // ---- fmaD (a*b + c, one rounding)
  // Double rounding would give 0: (1+2^-52)(1-2^-53) - 1 = 2^-53 - 2^-105 exactly.
  row('fmaD', RNE, ['3ff0000000000001', '3fefffffffffffff', NONE], '3c9ffffffffffffe', 0),
  row('fmaD', RNE, [D(1 + P2(-27)), D(1 + P2(-27)), D(-(1 + P2(-26)))], D(P2(-54)), 0),
  row('fmaD', RNE, [MAX, TWO, NMAX], MAX, 0), // the product overflows, the result does not
  ...per('fmaD', [ONE, ONE, NONE], { RNE: [PZ, 0], RTZ: [PZ, 0], RDN: [NZ, 0], RUP: [PZ, 0], RMM: [PZ, 0] }),
  ...per('fmaD', [NZ, ONE, PZ], { RNE: [PZ, 0], RDN: [NZ, 0], RUP: [PZ, 0] }),
  ...per('fmaD', [NZ, ONE, NZ], { RNE: [NZ, 0], RUP: [NZ, 0] }),
  ...per('fmaD', [ONE, ONE, D(P2(-53))], { RNE: [ONE, NX], RUP: ['3ff0000000000001', NX], RMM: ['3ff0000000000001', NX] }),
  ...per('fmaD', [TA, TB, PZ], { RNE: [MINN, NX], RTZ: [MAXSUB, UF | NX], RUP: [MINN, NX] }),
  row('fmaD', RNE, [MINN, HALF, MINSUB], '0008000000000001', 0),
  row('fmaD', RNE, [PZ, ONE, ONE], ONE, 0),
  row('fmaD', RNE, [INF, PZ, QN], QN, NV), // RISC-V: inf*0 signals even with a quiet-NaN addend
  row('fmaD', RNE, [INF, PZ, ONE], QN, NV),
  row('fmaD', RNE, [INF, ONE, NINF], QN, NV),
  row('fmaD', RNE, [INF, ONE, INF], INF, 0),
  row('fmaD', RNE, [ONE, ONE, SN], QN, NV),
  row('fmaD', RNE, [QN, ONE, ONE], QN, 0),

  // ---- min/max (IEEE 754-2019 minimumNumber/maximumNumber)
  row('minD', 0, [PZ, NZ], NZ, 0), row('minD', 0, [NZ, PZ], NZ, 0),
  row('maxD', 0, [PZ, NZ], PZ, 0), row('maxD', 0, [NZ, PZ], PZ, 0),
  row('minD', 0, [QN, ONE], ONE, 0), row('minD', 0, [ONE, QN], ONE, 0),
  row('minD', 0, [SN, ONE], ONE, NV), row('maxD', 0, [ONE, SN], ONE, NV),
  row('minD', 0, [QN, QN], QN, 0), row('minD', 0, [NQN, NQN], QN, 0), row('maxD', 0, [SN, QN], QN, NV),
  row('minD', 0, [NINF, ONE], NINF, 0), row('maxD', 0, [NINF, INF], INF, 0),
  row('minD', 0, [ONE, TWO], ONE, 0), row('maxD', 0, [ONE, TWO], TWO, 0),

  // ---- compares
  row('eqD', 0, [QN, ONE], I(0), 0), row('eqD', 0, [QN, QN], I(0), 0),
  row('eqD', 0, [SN, ONE], I(0), NV), row('eqD', 0, [ONE, NSN], I(0), NV),
  row('eqD', 0, [PZ, NZ], I(1), 0), row('eqD', 0, [ONE, ONE], I(1), 0), row('eqD', 0, [ONE, TWO], I(0), 0),
  row('ltD', 0, [QN, ONE], I(0), NV), row('ltD', 0, [ONE, QN], I(0), NV), row('ltD', 0, [ONE, TWO], I(1), 0),
  row('ltD', 0, [NZ, PZ], I(0), 0), row('ltD', 0, [TWO, ONE], I(0), 0), row('ltD', 0, [NINF, NMAX], I(1), 0),
  row('leD', 0, [NZ, PZ], I(1), 0), row('leD', 0, [QN, ONE], I(0), NV), row('leD', 0, [ONE, ONE], I(1), 0),
  row('leD', 0, [TWO, ONE], I(0), 0), row('leD', 0, [SN, SN], I(0), NV),

  // ---- fclass
  row('classD', 0, [NINF], I(1 << 0), 0), row('classD', 0, [NONE], I(1 << 1), 0),
  row('classD', 0, ['800fffffffffffff'], I(1 << 2), 0), row('classD', 0, [NZ], I(1 << 3), 0),
  row('classD', 0, [PZ], I(1 << 4), 0), row('classD', 0, [MAXSUB], I(1 << 5), 0),
  row('classD', 0, [ONE], I(1 << 6), 0), row('classD', 0, [INF], I(1 << 7), 0),
  row('classD', 0, [SN], I(1 << 8), 0), row('classD', 0, [NSN], I(1 << 8), 0),
  row('classD', 0, [QN], I(1 << 9), 0), row('classD', 0, [NQN], I(1 << 9), 0),

  // ---- fcvt.w.d / fcvt.wu.d
  ...per('cvtWD', [D(2147483647.5)], { RNE: ['7fffffff', NV], RTZ: ['7fffffff', NX], RDN: ['7fffffff', NX], RUP: ['7fffffff', NV], RMM: ['7fffffff', NV] }),
  ...per('cvtWD', [D(-2147483648.5)], { RNE: ['80000000', NX], RTZ: ['80000000', NX], RDN: ['80000000', NV], RUP: ['80000000', NX], RMM: ['80000000', NV] }),
  row('cvtWD', RTZ, [D(-2147483649)], '80000000', NV),
  row('cvtWD', RTZ, [D(2147483648)], '7fffffff', NV),
  row('cvtWD', RNE, [QN], '7fffffff', NV), row('cvtWD', RNE, [NQN], '7fffffff', NV),
  row('cvtWD', RNE, [SN], '7fffffff', NV),
  row('cvtWD', RNE, [INF], '7fffffff', NV), row('cvtWD', RNE, [NINF], '80000000', NV),
  row('cvtWD', RNE, [NZ], I(0), 0), row('cvtWD', RNE, [D(-7)], I(-7), 0),
  ...per('cvtWD', [D(2.5)], { RNE: [I(2), NX], RTZ: [I(2), NX], RDN: [I(2), NX], RUP: [I(3), NX], RMM: [I(3), NX] }),
  ...per('cvtWD', [D(-2.5)], { RNE: [I(-2), NX], RTZ: [I(-2), NX], RDN: [I(-3), NX], RUP: [I(-2), NX], RMM: [I(-3), NX] }),
  ...per('cvtWD', [D(-0.5)], { RNE: [I(0), NX], RTZ: [I(0), NX], RDN: [I(-1), NX], RUP: [I(0), NX], RMM: [I(-1), NX] }),
  ...per('cvtWD', [D(-0.49999999999999994)], { RNE: [I(0), NX], RMM: [I(0), NX], RDN: [I(-1), NX] }),
  ...per('cvtWD', [D(3.5)], { RNE: [I(4), NX], RMM: [I(4), NX], RTZ: [I(3), NX] }),
  ...per('cvtWUD', [D(-0.3)], { RNE: [I(0), NX], RTZ: [I(0), NX], RDN: [I(0), NV], RUP: [I(0), NX], RMM: [I(0), NX] }),
  ...per('cvtWUD', [D(-0.5)], { RNE: [I(0), NX], RTZ: [I(0), NX], RDN: [I(0), NV], RUP: [I(0), NX], RMM: [I(0), NV] }),
  ...per('cvtWUD', [D(4294967295.5)], { RNE: [X1, NV], RTZ: [X1, NX], RDN: [X1, NX], RUP: [X1, NV], RMM: [X1, NV] }),
  row('cvtWUD', RNE, [NONE], I(0), NV), row('cvtWUD', RNE, [D(4294967296)], X1, NV),
  row('cvtWUD', RNE, [QN], X1, NV), row('cvtWUD', RNE, [NINF], I(0), NV), row('cvtWUD', RNE, [INF], X1, NV),
  row('cvtWUD', RNE, [D(3e9)], 'b2d05e00', 0), row('cvtWUD', RNE, [NZ], I(0), 0),

  // ---- fcvt.l.d / fcvt.lu.d
  row('cvtLD', RNE, [D(P2(63))], '7fffffffffffffff', NV),
  row('cvtLD', RNE, [D(-P2(63))], '8000000000000000', 0),
  row('cvtLD', RNE, ['c3e0000000000001'], '8000000000000000', NV),
  row('cvtLD', RNE, ['43dfffffffffffff'], '7ffffffffffffc00', 0),
  row('cvtLD', RNE, [QN], '7fffffffffffffff', NV), row('cvtLD', RNE, [INF], '7fffffffffffffff', NV),
  row('cvtLD', RNE, [NINF], '8000000000000000', NV),
  ...per('cvtLD', [D(-1.5)], { RNE: ['fffffffffffffffe', NX], RTZ: ['ffffffffffffffff', NX], RDN: ['fffffffffffffffe', NX], RUP: ['ffffffffffffffff', NX], RMM: ['fffffffffffffffe', NX] }),
  ...per('cvtLD', [D(-0.49999999999999994)], { RNE: ['0000000000000000', NX], RMM: ['0000000000000000', NX] }),
  row('cvtLD', RTZ, [D(123456789012345.7)], '00007048860ddf79', NX),
  row('cvtLUD', RNE, [D(P2(64))], 'ffffffffffffffff', NV),
  row('cvtLUD', RNE, ['43efffffffffffff'], 'fffffffffffff800', 0),
  row('cvtLUD', RNE, [NONE], '0000000000000000', NV),
  ...per('cvtLUD', [D(-0.9)], { RNE: ['0000000000000000', NV], RTZ: ['0000000000000000', NX], RDN: ['0000000000000000', NV], RUP: ['0000000000000000', NX], RMM: ['0000000000000000', NV] }),
  row('cvtLUD', RNE, [QN], 'ffffffffffffffff', NV), row('cvtLUD', RNE, [NINF], '0000000000000000', NV),
  row('cvtLUD', RNE, [INF], 'ffffffffffffffff', NV),

  // ---- fcvt.{w,wu,l,lu}.s
  row('cvtWS', RNE, ['4f000000'], '7fffffff', NV), row('cvtWS', RNE, ['cf000000'], '80000000', 0),
  row('cvtWS', RNE, [QNs], '7fffffff', NV), row('cvtWS', RNE, [SNs], '7fffffff', NV),
  row('cvtWS', RNE, [NQNs], '7fffffff', NV), row('cvtWS', RNE, [NINFs], '80000000', NV),
  ...per('cvtWS', ['3fc00000'], { RNE: [I(2), NX], RTZ: [I(1), NX], RDN: [I(1), NX], RUP: [I(2), NX], RMM: [I(2), NX] }),
  row('cvtWUS', RTZ, ['be99999a'], I(0), NX), row('cvtWUS', RDN, ['be99999a'], I(0), NV),
  row('cvtWUS', RNE, ['4f800000'], X1, NV), row('cvtWUS', RNE, ['4f7fffff'], 'ffffff00', 0),
  row('cvtLS', RNE, ['5f000000'], '7fffffffffffffff', NV), row('cvtLS', RNE, ['df000000'], '8000000000000000', 0),
  row('cvtLS', RNE, ['5effffff'], '7fffff8000000000', 0), row('cvtLS', RNE, [SNs], '7fffffffffffffff', NV),
  row('cvtLUS', RNE, ['5f800000'], 'ffffffffffffffff', NV), row('cvtLUS', RNE, ['5f7fffff'], 'ffffff0000000000', 0),
  row('cvtLUS', RNE, [NONEs], '0000000000000000', NV), row('cvtLUS', RNE, [NINFs], '0000000000000000', NV),
  row('cvtLUS', RNE, [QNs], 'ffffffffffffffff', NV), row('cvtLUS', RTZ, ['bf7fffff'], '0000000000000000', NX),

  // ---- integer -> f64
  row('cvtDW', RNE, [X1], NONE, 0), row('cvtDW', RNE, ['80000000'], 'c1e0000000000000', 0),
  row('cvtDWU', RNE, [X1], '41efffffffe00000', 0), row('cvtDWU', RNE, ['00000000'], PZ, 0),
  ...per('cvtDL', ['0020000000000001'], { RNE: ['4340000000000000', NX], RTZ: ['4340000000000000', NX], RDN: ['4340000000000000', NX], RUP: ['4340000000000001', NX], RMM: ['4340000000000001', NX] }),
  ...per('cvtDL', ['ffdfffffffffffff'], { RNE: ['c340000000000000', NX], RTZ: ['c340000000000000', NX], RDN: ['c340000000000001', NX], RUP: ['c340000000000000', NX], RMM: ['c340000000000001', NX] }),
  ...per('cvtDL', ['7fffffffffffffff'], { RNE: ['43e0000000000000', NX], RTZ: ['43dfffffffffffff', NX], RDN: ['43dfffffffffffff', NX], RUP: ['43e0000000000000', NX], RMM: ['43e0000000000000', NX] }),
  row('cvtDL', RNE, ['8000000000000000'], 'c3e0000000000000', 0),
  row('cvtDL', RNE, ['0000000000000000'], PZ, 0),
  row('cvtDL', RDN, ['ffffffffffffffff'], NONE, 0),
  ...per('cvtDLU', ['ffffffffffffffff'], { RNE: ['43f0000000000000', NX], RTZ: ['43efffffffffffff', NX], RDN: ['43efffffffffffff', NX], RUP: ['43f0000000000000', NX], RMM: ['43f0000000000000', NX] }),
  row('cvtDLU', RNE, ['8000000000000000'], '43e0000000000000', 0),

  // ---- integer -> f32
  ...per('cvtSW', ['01000001'], { RNE: ['4b800000', NX], RTZ: ['4b800000', NX], RDN: ['4b800000', NX], RUP: ['4b800001', NX], RMM: ['4b800001', NX] }),
  ...per('cvtSW', ['feffffff'], { RNE: ['cb800000', NX], RTZ: ['cb800000', NX], RDN: ['cb800001', NX], RUP: ['cb800000', NX], RMM: ['cb800001', NX] }),
  ...per('cvtSW', ['7fffffff'], { RNE: ['4f000000', NX], RTZ: ['4effffff', NX], RDN: ['4effffff', NX], RUP: ['4f000000', NX], RMM: ['4f000000', NX] }),
  row('cvtSW', RNE, ['00000000'], PZs, 0), row('cvtSW', RNE, ['80000000'], 'cf000000', 0),
  ...per('cvtSWU', [X1], { RNE: ['4f800000', NX], RTZ: ['4f7fffff', NX], RDN: ['4f7fffff', NX], RUP: ['4f800000', NX], RMM: ['4f800000', NX] }),
  // 2^62 + 2^38 + 1: via double it lands exactly on a binary32 midpoint (double rounding trap).
  ...per('cvtSL', ['4000004000000001'], { RNE: ['5e800001', NX], RTZ: ['5e800000', NX], RDN: ['5e800000', NX], RUP: ['5e800001', NX], RMM: ['5e800001', NX] }),
  ...per('cvtSL', ['4000004000000000'], { RNE: ['5e800000', NX], RTZ: ['5e800000', NX], RUP: ['5e800001', NX], RMM: ['5e800001', NX] }),
  row('cvtSL', RNE, ['8000000000000000'], 'df000000', 0),
  ...per('cvtSLU', ['ffffffffffffffff'], { RNE: ['5f800000', NX], RTZ: ['5f7fffff', NX], RDN: ['5f7fffff', NX], RUP: ['5f800000', NX], RMM: ['5f800000', NX] }),

  // ---- fcvt.s.d / fcvt.d.s
  // 2^-126 - 2^-151: tiny only if the unbounded-exponent rounding stays below 2^-126.
  ...per('cvtSD', [D((1 - P2(-25)) * P2(-126))], { RNE: [MINNs, NX], RTZ: [MAXSUBs, UF | NX], RDN: [MAXSUBs, UF | NX], RUP: [MINNs, NX], RMM: [MINNs, NX] }),
  ...per('cvtSD', [D((1 - P2(-24)) * P2(-126))], { RNE: [MINNs, UF | NX], RTZ: [MAXSUBs, UF | NX], RUP: [MINNs, UF | NX] }),
  ...per('cvtSD', [D(1e39)], { RNE: [INFs, OF | NX], RTZ: [MAXs, OF | NX], RDN: [MAXs, OF | NX], RUP: [INFs, OF | NX], RMM: [INFs, OF | NX] }),
  ...per('cvtSD', [D(-1e39)], { RNE: [NINFs, OF | NX], RDN: [NINFs, OF | NX], RUP: ['ff7fffff', OF | NX] }),
  ...per('cvtSD', [D(P2(-150))], { RNE: [PZs, UF | NX], RUP: [MINSUBs, UF | NX], RMM: [MINSUBs, UF | NX], RTZ: [PZs, UF | NX] }),
  ...per('cvtSD', [D(1 + P2(-24))], { RNE: [ONEs, NX], RTZ: [ONEs, NX], RDN: [ONEs, NX], RUP: ['3f800001', NX], RMM: ['3f800001', NX] }),
  row('cvtSD', RNE, [SN], QNs, NV), row('cvtSD', RNE, [NQN], QNs, 0),
  row('cvtSD', RNE, [NZ], NZs, 0), row('cvtSD', RNE, [INF], INFs, 0), row('cvtSD', RNE, [D(0.1)], '3dcccccd', NX),
  row('cvtDS', 0, [SNs], QN, NV), row('cvtDS', 0, [NQNs], QN, 0), row('cvtDS', 0, [NSNs], QN, NV),
  row('cvtDS', 0, [MINSUBs], D(P2(-149)), 0), row('cvtDS', 0, [NZs], NZ, 0), row('cvtDS', 0, [INFs], INF, 0),

  // ---- f32 arithmetic
  ...per('addS', [ONEs, S(P2(-24))], { RNE: [ONEs, NX], RTZ: [ONEs, NX], RDN: [ONEs, NX], RUP: ['3f800001', NX], RMM: ['3f800001', NX] }),
  ...per('addS', [ONEs, NONEs], { RNE: [PZs, 0], RTZ: [PZs, 0], RDN: [NZs, 0], RUP: [PZs, 0], RMM: [PZs, 0] }),
  ...per('addS', [MAXs, MAXs], { RNE: [INFs, OF | NX], RTZ: [MAXs, OF | NX], RDN: [MAXs, OF | NX], RUP: [INFs, OF | NX], RMM: [INFs, OF | NX] }),
  ...per('addS', [ONEs, MINSUBs], { RNE: [ONEs, NX], RTZ: [ONEs, NX], RDN: [ONEs, NX], RUP: ['3f800001', NX], RMM: [ONEs, NX] }),
  ...per('subS', [ONEs, MINSUBs], { RNE: [ONEs, NX], RTZ: ['3f7fffff', NX], RDN: ['3f7fffff', NX], RUP: [ONEs, NX], RMM: [ONEs, NX] }),
  row('addS', RNE, [INFs, NINFs], QNs, NV), row('addS', RNE, [SNs, ONEs], QNs, NV),
  row('addS', RNE, [NQNs, ONEs], QNs, 0), row('addS', RNE, [MAXSUBs, MINSUBs], MINNs, 0),
  row('subS', RNE, [MINNs, MINSUBs], MAXSUBs, 0),
  ...per('mulS', [TAs, TBs], { RNE: [MINNs, NX], RTZ: [MAXSUBs, UF | NX], RDN: [MAXSUBs, UF | NX], RUP: [MINNs, NX], RMM: [MINNs, NX] }),
  ...per('mulS', [MINSUBs, '3f000000'], { RNE: [PZs, UF | NX], RTZ: [PZs, UF | NX], RDN: [PZs, UF | NX], RUP: [MINSUBs, UF | NX], RMM: [MINSUBs, UF | NX] }),
  ...per('mulS', [MAXs, '40000000'], { RNE: [INFs, OF | NX], RTZ: [MAXs, OF | NX], RDN: [MAXs, OF | NX], RUP: [INFs, OF | NX] }),
  row('mulS', RNE, [PZs, INFs], QNs, NV), row('mulS', RNE, [NZs, '40a00000'], NZs, 0),
  row('mulS', RNE, [MINNs, '3f000000'], '00400000', 0),
  ...per('divS', [ONEs, S(3)], { RNE: ['3eaaaaab', NX], RTZ: ['3eaaaaaa', NX], RDN: ['3eaaaaaa', NX], RUP: ['3eaaaaab', NX], RMM: ['3eaaaaab', NX] }),
  ...per('divS', [MINNs, S(3)], { RNE: ['002aaaab', UF | NX], RTZ: ['002aaaaa', UF | NX], RUP: ['002aaaab', UF | NX] }),
  row('divS', RNE, [ONEs, PZs], INFs, DZ), row('divS', RNE, [ONEs, NZs], NINFs, DZ),
  row('divS', RNE, [PZs, PZs], QNs, NV), row('divS', RNE, [INFs, INFs], QNs, NV),
  row('divS', RNE, [INFs, PZs], INFs, 0), row('divS', RNE, [PZs, INFs], PZs, 0),
  ...per('sqrtS', [S(2)], { RNE: ['3fb504f3', NX], RTZ: ['3fb504f3', NX], RDN: ['3fb504f3', NX], RUP: ['3fb504f4', NX], RMM: ['3fb504f3', NX] }),
  row('sqrtS', RNE, [NONEs], QNs, NV), row('sqrtS', RNE, [NZs], NZs, 0), row('sqrtS', RNE, ['40800000'], '40000000', 0),
  row('sqrtS', RNE, [INFs], INFs, 0), row('sqrtS', RNE, [SNs], QNs, NV), row('sqrtS', RNE, [NINFs], QNs, NV),
  row('fmaS', RNE, ['3f800001', '3f7fffff', NONEs], '337ffffe', 0),
  // (1+2^-12)^2 + 2^-80: RN53 lands exactly on a binary32 midpoint; the true value is above it.
  ...per('fmaS', ['3f800800', '3f800800', '17800000'], { RNE: ['3f801001', NX], RTZ: ['3f801000', NX], RDN: ['3f801000', NX], RUP: ['3f801001', NX], RMM: ['3f801001', NX] }),
  ...per('fmaS', ['3f800800', '3f800800', '97800000'], { RNE: ['3f801000', NX], RTZ: ['3f801000', NX], RUP: ['3f801001', NX], RMM: ['3f801000', NX] }),
  ...per('fmaS', [ONEs, ONEs, NONEs], { RNE: [PZs, 0], RDN: [NZs, 0], RUP: [PZs, 0] }),
  row('fmaS', RNE, [INFs, PZs, QNs], QNs, NV), row('fmaS', RNE, [MAXs, '40000000', 'ff7fffff'], MAXs, 0),
  ...per('fmaS', [TAs, TBs, NZs], { RNE: [MINNs, NX], RTZ: [MAXSUBs, UF | NX] }),
  row('minS', 0, [PZs, NZs], NZs, 0), row('minS', 0, [NZs, PZs], NZs, 0),
  row('maxS', 0, [PZs, NZs], PZs, 0), row('maxS', 0, [NZs, PZs], PZs, 0),
  row('minS', 0, [QNs, ONEs], ONEs, 0), row('maxS', 0, [ONEs, QNs], ONEs, 0),
  row('minS', 0, [SNs, ONEs], ONEs, NV), row('minS', 0, [QNs, QNs], QNs, 0),
  row('maxS', 0, [NQNs, SNs], QNs, NV), row('minS', 0, [ONEs, '40000000'], ONEs, 0),
  row('maxS', 0, [NINFs, NONEs], NONEs, 0),
  row('eqS', 0, [SNs, ONEs], I(0), NV), row('eqS', 0, [QNs, ONEs], I(0), 0), row('eqS', 0, [PZs, NZs], I(1), 0),
  row('ltS', 0, [QNs, ONEs], I(0), NV), row('ltS', 0, [NONEs, ONEs], I(1), 0), row('ltS', 0, [NZs, PZs], I(0), 0),
  row('leS', 0, [NZs, PZs], I(1), 0), row('leS', 0, [ONEs, SNs], I(0), NV), row('leS', 0, ['40000000', ONEs], I(0), 0),
  row('classS', 0, [NINFs], I(1 << 0), 0), row('classS', 0, [NONEs], I(1 << 1), 0),
  row('classS', 0, ['807fffff'], I(1 << 2), 0), row('classS', 0, [NZs], I(1 << 3), 0),
  row('classS', 0, [PZs], I(1 << 4), 0), row('classS', 0, [MINSUBs], I(1 << 5), 0),
  row('classS', 0, [ONEs], I(1 << 6), 0), row('classS', 0, [INFs], I(1 << 7), 0),
  row('classS', 0, [SNs], I(1 << 8), 0), row('classS', 0, [NSNs], I(1 << 8), 0),
  row('classS', 0, [QNs], I(1 << 9), 0), row('classS', 0, [NQNs], I(1 << 9), 0),
];
// KAT-END

describe('fpu known-answer vectors', () => {
  it('covers every exported operation', () => {
    const seen = new Set(KAT.map((r) => r[0]));
    for (const fn of Object.keys(SIG)) expect(seen.has(fn), fn).toBe(true);
    const exported = Object.keys(F).filter((k) => typeof FAST[k] === 'function' && !/^neg[DS]$/.test(k));
    for (const fn of exported) expect(SIG[fn], fn).toBeDefined();
    for (const fn of Object.keys(F.ref)) expect(SIG[fn], fn).toBeDefined();
  });
  for (const [label, impl] of [['fast', FAST], ['ref', REF]] as const) {
    it(`${label} implementation matches all vectors`, () => {
      const bad: string[] = [];
      for (const [fn, rm, args, exp, flags] of KAT) {
        const [got, gf] = run(impl, fn, rm, args);
        if (got !== exp || gf !== flags) bad.push(`${fn} ${RM_NAME[rm]} (${args.join(', ')}) -> ${got}/${gf.toString(16)}, want ${exp}/${flags.toString(16)}`);
      }
      expect(bad).toEqual([]);
    });
  }
});

describe('fpu NaN representation', () => {
  it('an f64 sNaN read from a Float64Array stays signalling through calls (incl. optimised code)', () => {
    const regs = new Float64Array(4), bits = new BigUint64Array(regs.buffer);
    bits[0] = 0x7ff0000000000001n; // +sNaN
    bits[1] = 0xfff4000000000abcn; // -sNaN with payload
    const bad: string[] = [];
    for (let i = 0; i < 50000; i++) { // enough iterations for V8 to optimise both sides
      for (const k of [0, 1]) {
        const v = regs[k];
        const s = { fflags: 0 };
        if (F.classD(v) !== 0x100) bad.push(`class ${k}`);
        if (F.eqD(s, v, 1) !== 0 || s.fflags !== NV) bad.push(`feq ${k}`);
        s.fflags = 0;
        regs[2] = F.addD(s, v, 1, RNE);
        if (s.fflags !== NV || bits[2] !== 0x7ff8000000000000n) bad.push(`add ${k}`);
        s.fflags = 0;
        regs[2] = F.minD(s, v, 2);
        if (s.fflags !== NV || regs[2] !== 2) bad.push(`min ${k}`);
        regs[3] = F.negD(v); // fsgnjn-style flip keeps the payload
        if (bits[3] !== (bits[k] ^ 0x8000000000000000n)) bad.push(`neg ${k}`);
        s.fflags = 0;
        F.fmaD(s, 1, 1, F.negD(v), RNE);
        if (s.fflags !== NV) bad.push(`fma ${k}`);
      }
      if (bad.length) break;
    }
    expect(bad).toEqual([]);
  });

  it('NaN results are the canonical NaNs when stored', () => {
    const regs = new Float64Array(1), bits = new BigUint64Array(regs.buffer);
    const s = { fflags: 0 };
    for (const r of [F.addD(s, Infinity, -Infinity, RNE), F.mulD(s, 0, Infinity, RNE), F.divD(s, 0, 0, RNE),
      F.sqrtD(s, -1, RNE), F.minD(s, NaN, NaN), F.cvtDS(s, 0x7f800001), F.fmaD(s, Infinity, 0, 1, RNE), F.subD(s, NaN, 1, RNE)]) {
      regs[0] = r;
      expect(bits[0].toString(16)).toBe('7ff8000000000000');
    }
    expect(F.addS(s, 0x7f800000, 0xff800000 | 0, RNE)).toBe(0x7fc00000);
    expect(F.cvtSD(s, NaN, RNE)).toBe(0x7fc00000);
    expect(F.negS(0x3f800000)).toBe(0xbf800000 | 0);
    expect(F.negS(0xbf800000 | 0)).toBe(0x3f800000);
  });
});

// ---- randomized cross-check: fast paths vs the BigInt core ------------------------------------
/** xorshift128+ style 32-bit generator (deterministic). */
function rng(seed: number): () => number {
  let a = seed | 0 || 1, b = 0x9e3779b9 | 0, c = 0x243f6a88, d = 0x85a308d3 | 0;
  return () => {
    const t = a ^ (a << 11);
    a = b; b = c; c = d;
    d = (d ^ (d >>> 19) ^ (t ^ (t >>> 8))) | 0;
    return d >>> 0;
  };
}

function makeGen(seed: number) {
  const r32 = rng(seed);
  const ri = (n: number) => r32() % n;
  const rbits = (n: number): bigint => {
    let v = 0n;
    for (let i = 0; i < n; i += 32) v = (v << 32n) | BigInt(r32());
    return v & ((1n << BigInt(n)) - 1n);
  };
  const frac = (m: number): bigint => {
    const M = BigInt(m);
    switch (ri(9)) {
      case 0: return 0n;
      case 1: return (1n << M) - 1n;
      case 2: return 1n << BigInt(ri(m));
      case 3: return rbits(m) & ~((1n << BigInt(ri(m))) - 1n); // trailing zeros: exact results
      case 4: return ((1n << M) - 1n) ^ (1n << BigInt(ri(m)));
      case 5: return rbits(m) | 1n;
      case 6: return (1n << (M - 1n)) | BigInt(ri(4)); // near-halfway patterns
      default: return rbits(m);
    }
  };
  /** Random encoding biased toward special exponents; e0 = exponent to stay near (related operands). */
  const fp = (eb: number, m: number, e0?: number): bigint => {
    const emax = (1 << eb) - 1, bias = emax >> 1, k = ri(12);
    let e: number;
    if (e0 !== undefined && k < 5) e = e0 + ri(2 * m + 8) - (m + 4);
    else if (k < 3) e = ri(emax + 1);
    else if (k < 5) e = [0, 0, 1, 2, emax, emax, emax - 1, emax - 2][ri(8)];
    else if (k < 6) e = ri(m + 3); // subnormal / tiny
    else if (k < 7) e = emax - 1 - ri(m + 3); // near overflow
    else e = bias + ri(2 * m + 8) - (m + 4); // near 1
    e = Math.max(0, Math.min(emax, e));
    return (BigInt(ri(2)) << BigInt(eb + m)) | (BigInt(e) << BigInt(m)) | frac(m);
  };
  const int64 = (): bigint => {
    let v = rbits(ri(65));
    if (ri(4) === 0) { // around rounding boundaries of binary32/64
      const k = 24 + ri(40);
      v = (1n << BigInt(k)) | (ri(2) ? 1n << BigInt(Math.max(0, k - 24)) : 0n) | (ri(2) ? 1n << BigInt(Math.max(0, k - 53)) : 0n) | BigInt(ri(3));
    }
    if (ri(2)) v = -v;
    return BigInt.asUintN(64, v);
  };
  return { ri, fp, int64 };
}

/** numeric value of a hex-encoded f32 (8 digits) or f64 (16 digits) */
const val = (h: string): number => {
  if (h.length === 16) return dOf(h);
  su32[0] = Number(BigInt('0x' + h)); return sf32[0];
};
const hex = (v: bigint, n: number) => BigInt.asUintN(n * 4, v).toString(16).padStart(n, '0');

describe('fpu randomized: fast paths agree with the BigInt core', () => {
  const N = Number(process.env.FPU_FUZZ ?? 3000); // inputs per operation, each run in all 5 modes
  const ops = Object.keys(SIG).filter((fn) => !/^(min|max|eq|lt|le|class)|^cvtDW|^cvtDS$/.test(fn));
  for (const fn of ops) {
    it(`${fn} x ${N} x 5 rm`, () => {
      const g = makeGen(0x5eed ^ fn.length * 7919 ^ fn.charCodeAt(3) * 104729 ^ fn.charCodeAt(fn.length - 1));
      const params = SIG[fn].split('>')[0].replace('r', '');
      const bad: string[] = [];
      for (let i = 0; i < N && bad.length < 10; i++) {
        let args: string[];
        if (params === 'i' || params === 'l') {
          const v = g.int64();
          args = [params === 'i' ? hex(v, 8) : hex(v, 16)];
        } else {
          const pe = params[0] === 'f' ? 8 : 11, pm = params[0] === 'f' ? 23 : 52, w = params[0] === 'f' ? 8 : 16;
          const a = g.fp(pe, pm);
          const ea = Number((a >> BigInt(pm)) & BigInt((1 << pe) - 1));
          const b = g.ri(3) === 0 ? g.fp(pe, pm) : g.fp(pe, pm, ea);
          let c = g.fp(pe, pm);
          args = [hex(a, w), hex(b, w), hex(c, w)];
          if (params.length === 3 && g.ri(2)) {
            // fma addend close to -(a*b): heavy cancellation and near-tie residues
            const prod = -(val(args[0]) * val(args[1]));
            sf32[0] = prod;
            c = pe === 8 ? BigInt(su32[0]) : BigInt('0x' + hexD(prod));
            if (g.ri(2)) c ^= BigInt(g.ri(1 << 20));
            if (g.ri(4) === 0) c ^= 1n << BigInt(pe + pm);
            args[2] = hex(c, w);
          }
        }
        for (let rm = 0; rm < 5; rm++) {
          const [fr, ff] = run(FAST, fn, rm, args);
          const [rr, rf] = run(REF, fn, rm, args);
          if (fr !== rr || ff !== rf) bad.push(`${fn} ${RM_NAME[rm]} (${args.join(', ')}): fast ${fr}/${ff.toString(16)} ref ${rr}/${rf.toString(16)}`);
        }
      }
      expect(bad).toEqual([]);
    });
  }

  it('binary64 fast paths agree on plain random doubles (typical workload values)', () => {
    const r = rng(12345);
    const rnd = () => (r() / 4294967296 - 0.5) * Math.pow(2, (r() % 80) - 40);
    const bad: string[] = [];
    for (let i = 0; i < 20000 && bad.length < 10; i++) {
      const a = hexD(rnd()), b = hexD(rnd()), c = hexD(rnd());
      for (const fn of ['addD', 'subD', 'mulD', 'divD', 'fmaD', 'sqrtD']) {
        const args = fn === 'sqrtD' ? [a.replace(/^[89a-f]/, (x) => (parseInt(x, 16) - 8).toString(16))] : [a, b, c];
        for (let rm = 0; rm < 5; rm++) {
          const [fr, ff] = run(FAST, fn, rm, args), [rr, rf] = run(REF, fn, rm, args);
          if (fr !== rr || ff !== rf) bad.push(`${fn} ${RM_NAME[rm]} (${args.join(', ')}): fast ${fr}/${ff} ref ${rr}/${rf}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });
});
