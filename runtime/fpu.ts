/**
 * Exact RISC-V F and D arithmetic (IEEE 754-2008/2019 binary32/binary64 as profiled by RISC-V).
 *
 * Representation (fixed by the interpreter/JIT):
 *  - f32 values: raw IEEE bits in a JS int32.
 *  - f64 values: JS doubles. Bits (sNaN detection, nextUp/nextDown) are read through
 *    module-level typed-array scratch views, only on the paths that need them.
 *  - flags are OR-ed into s.fflags (NV=0x10 DZ=0x08 OF=0x04 UF=0x02 NX=0x01);
 *    rm is already resolved to 0..4 (RNE RTZ RDN RUP RMM).
 *  - 64-bit integers come in as (lo, hi) int32 halves; 64-bit results go to `intOut`.
 *
 * Structure: `ref` is an exact reference core on BigInt (unpack, exact operation, one
 * rounding with tininess-after-rounding). The exported functions try a cheap JS-double
 * fast path that *proves* its result and flags; whenever it cannot, it defers to `ref`.
 */

export interface FpState { fflags: number }

const RNE = 0, RTZ = 1, RDN = 2, RUP = 3, RMM = 4;
const NV = 0x10, DZ = 0x08, OF = 0x04, UF = 0x02, NX = 0x01;

/** 64-bit integer results of fcvt.{l,lu}.{s,d}: [0] = low word, [1] = high word. */
export const intOut = new Int32Array(2);

// ---------------------------------------------------------------------------------------------
// Scratch views. Little-endian host assumed (u32s[0] is the low word of f64s[0]).
const f64s = new Float64Array(1);
const u32s = new Uint32Array(f64s.buffer);
const u64s = new BigUint64Array(f64s.buffer);
const f32s = new Float32Array(1);
const i32s = new Int32Array(f32s.buffer);
f64s[0] = 1;
if (u32s[1] !== 0x3ff00000) throw new Error('fpu: big-endian hosts are not supported');

function dFromWords(hi: number, lo: number): number { u32s[1] = hi; u32s[0] = lo; return f64s[0]; }
/** 2^e for -1022 <= e <= 1023, built from bits so it is exact. */
function p2(e: number): number { return dFromWords((e + 1023) << 20, 0); }

const CNAN_D = dFromWords(0x7ff80000, 0);
const CNAN_S = 0x7fc00000;
/** f32 fast paths return this when they cannot decide (never a valid result: fast paths never return NaN). */
const SLOW = 0x7fffffff;

// Fast-path guards (see the comments at the use sites).
const MUL_LO = p2(-969), MUL_HI = p2(995), PROD_MIN = p2(-967);
const DIV_LO = p2(-960), DIV_HI = p2(990);
const FMA_HI = p2(1020);
const MIN_NORM_S = p2(-126);
const TWO32 = 4294967296;

function f32(bits: number): number { i32s[0] = bits; return f32s[0]; }

// =============================================================================================
// Reference core (BigInt). Every case is handled here; the fast paths only short-cut it.
// =============================================================================================

interface Fmt {
  p: number; m: number; bias: number; emin: number; emax: number; expAll: number;
  mB: bigint; expAllB: bigint; signBit: bigint; hidden: bigint; fracMask: bigint;
  inf: bigint; maxFin: bigint; qnan: bigint; quiet: bigint;
}
function mkFmt(ebits: number, m: number): Fmt {
  const bias = (1 << (ebits - 1)) - 1, mB = BigInt(m), expAll = (1 << ebits) - 1;
  const inf = BigInt(expAll) << mB;
  return {
    p: m + 1, m, bias, emin: 1 - bias, emax: bias, expAll, mB, expAllB: BigInt(expAll),
    signBit: 1n << BigInt(ebits + m), hidden: 1n << mB, fracMask: (1n << mB) - 1n,
    inf, maxFin: inf - 1n, qnan: inf | (1n << (mB - 1n)), quiet: 1n << (mB - 1n),
  };
}
const FS = mkFmt(8, 23);
const FD = mkFmt(11, 52);

const ZERO = 0, FIN = 1, INF = 2, NAN = 3;
/** Unpacked value: FIN means sig * 2^exp with sig > 0. */
interface Up { k: number; neg: boolean; sig: bigint; exp: number; snan: boolean }

function unpack(F: Fmt, bits: bigint): Up {
  const neg = (bits & F.signBit) !== 0n;
  const e = Number((bits >> F.mB) & F.expAllB);
  const f = bits & F.fracMask;
  if (e === F.expAll) return { k: f === 0n ? INF : NAN, neg, sig: 0n, exp: 0, snan: f !== 0n && (f & F.quiet) === 0n };
  if (e === 0) return { k: f === 0n ? ZERO : FIN, neg, sig: f, exp: F.emin - F.m, snan: false };
  return { k: FIN, neg, sig: f | F.hidden, exp: e - F.bias - F.m, snan: false };
}

const bl64 = new Float64Array(1);
const bl32 = new Uint32Array(bl64.buffer);
/** Number of significant bits of x >= 0. */
function bitLen(x: bigint): number {
  if (x === 0n) return 0;
  bl64[0] = Number(x);
  let n = ((bl32[1] >>> 20) & 0x7ff) - 1022; // floor(log2(Number(x))) + 1
  if (n > 1024) return x.toString(2).length; // Number(x) overflowed
  if ((x >> BigInt(n - 1)) === 0n) n--;      // Number(x) was rounded up to a power of two
  return n;
}

let rsInexact = false;
/** Round sig / 2^sh (sh >= 1) to an integer by rm; sets rsInexact. neg = sign of the value. */
function roundShift(sig: bigint, sh: number, rm: number, neg: boolean): bigint {
  const b = BigInt(sh);
  let q = sig >> b;
  const rem = sig - (q << b);
  rsInexact = rem !== 0n;
  if (!rsInexact) return q;
  const half = 1n << (b - 1n);
  switch (rm) {
    case RNE: if (rem > half || (rem === half && (q & 1n) !== 0n)) q++; break;
    case RDN: if (neg) q++; break;
    case RUP: if (!neg) q++; break;
    case RMM: if (rem >= half) q++; break;
    default: break; // RTZ
  }
  return q;
}

function overflowBits(F: Fmt, neg: boolean, rm: number): bigint {
  const toInf = rm === RNE || rm === RMM || (rm === RUP && !neg) || (rm === RDN && neg);
  return (neg ? F.signBit : 0n) | (toInf ? F.inf : F.maxFin);
}

/**
 * Round (-1)^neg * sig * 2^exp to format F. sig is either exact, or has at least p+2 bits with
 * a non-zero discarded remainder OR-ed into its lowest bit ("sticky jam"), which preserves the
 * rounding decision in every mode. Tininess is detected after rounding (unbounded exponent).
 */
function roundPack(s: FpState, F: Fmt, neg: boolean, sig: bigint, exp: number, rm: number): bigint {
  const sb = neg ? F.signBit : 0n;
  if (sig === 0n) return sb;
  const p = F.p;
  const n = bitLen(sig);
  const top = exp + n - 1; // value in [2^top, 2^(top+1))
  let tiny = false;
  if (top < F.emin) {
    tiny = true;
    // Just below 2^emin: tiny unless rounding to p bits (unbounded range) carries up to 2^emin.
    if (top === F.emin - 1 && n > p && (roundShift(sig, n - p, rm, neg) >> BigInt(p)) !== 0n) tiny = false;
  }
  let q = Math.max(top - p + 1, F.emin - p + 1); // exponent of the result's last place
  let r: bigint;
  let inexact = false;
  if (q <= exp) r = sig << BigInt(exp - q);
  else { r = roundShift(sig, q - exp, rm, neg); inexact = rsInexact; }
  if ((r >> BigInt(p)) !== 0n) { r >>= 1n; q++; } // carried to 2^p (r is now 2^(p-1), exact)
  if (inexact) s.fflags |= tiny ? NX | UF : NX;
  if (r < F.hidden) return sb | r; // subnormal or zero (q is the minimum exponent)
  const E = q + p - 1;
  if (E > F.emax) { s.fflags |= OF | NX; return overflowBits(F, neg, rm); }
  return sb | (BigInt(E + F.bias) << F.mB) | (r - F.hidden);
}

function nanOut(s: FpState, F: Fmt, x: Up, y?: Up, z?: Up): bigint {
  if (x.snan || (y !== undefined && y.snan) || (z !== undefined && z.snan)) s.fflags |= NV;
  return F.qnan;
}
const signed = (F: Fmt, neg: boolean, mag: bigint) => (neg ? F.signBit : 0n) | mag;

/** Widen sig so it has at least k bits (value unchanged). */
function widen(u: { sig: bigint; exp: number }, k: number): void {
  const n = bitLen(u.sig);
  if (n < k) { u.sig <<= BigInt(k - n); u.exp -= k - n; }
}

/**
 * Round x + y (both finite; magnitudes may be 0n) once. If one term lies entirely below the
 * other's last place (after widening it to p+3 bits) it only acts as a sticky bit, so it is
 * replaced by a smaller stand-in of the same sign; this keeps the BigInts short.
 */
function sumRound(s: FpState, F: Fmt, xn: boolean, xs: bigint, xe: number, yn: boolean, ys: bigint, ye: number, rm: number): bigint {
  if (xs === 0n && ys === 0n) return signed(F, xn === yn ? xn : rm === RDN, 0n);
  if (xs === 0n) return roundPack(s, F, yn, ys, ye, rm);
  if (ys === 0n) return roundPack(s, F, xn, xs, xe, rm);
  const x = { sig: xs, exp: xe }, y = { sig: ys, exp: ye };
  widen(x, F.p + 3); widen(y, F.p + 3);
  if (y.exp + bitLen(y.sig) <= x.exp) { y.sig = 1n; y.exp = x.exp - 1; }
  else if (x.exp + bitLen(x.sig) <= y.exp) { x.sig = 1n; x.exp = y.exp - 1; }
  const e = Math.min(x.exp, y.exp);
  const a = x.sig << BigInt(x.exp - e), b = y.sig << BigInt(y.exp - e);
  let v = (xn ? -a : a) + (yn ? -b : b);
  if (v === 0n) return signed(F, rm === RDN, 0n); // exact cancellation: +0, or -0 when rounding down
  const neg = v < 0n;
  if (neg) v = -v;
  return roundPack(s, F, neg, v, e, rm);
}

function cAdd(s: FpState, F: Fmt, x: Up, y: Up, rm: number): bigint {
  if (x.k === NAN || y.k === NAN) return nanOut(s, F, x, y);
  if (x.k === INF) {
    if (y.k === INF && x.neg !== y.neg) { s.fflags |= NV; return F.qnan; }
    return signed(F, x.neg, F.inf);
  }
  if (y.k === INF) return signed(F, y.neg, F.inf);
  return sumRound(s, F, x.neg, x.sig, x.exp, y.neg, y.sig, y.exp, rm);
}

function cMul(s: FpState, F: Fmt, x: Up, y: Up, rm: number): bigint {
  if (x.k === NAN || y.k === NAN) return nanOut(s, F, x, y);
  const neg = x.neg !== y.neg;
  if (x.k === INF || y.k === INF) {
    if (x.k === ZERO || y.k === ZERO) { s.fflags |= NV; return F.qnan; }
    return signed(F, neg, F.inf);
  }
  if (x.k === ZERO || y.k === ZERO) return signed(F, neg, 0n);
  return roundPack(s, F, neg, x.sig * y.sig, x.exp + y.exp, rm);
}

function cFma(s: FpState, F: Fmt, x: Up, y: Up, z: Up, rm: number): bigint {
  // RISC-V: inf * 0 raises NV even when the addend is a quiet NaN.
  const infZero = (x.k === INF && y.k === ZERO) || (x.k === ZERO && y.k === INF);
  if (x.k === NAN || y.k === NAN || z.k === NAN) {
    if (infZero) s.fflags |= NV;
    return nanOut(s, F, x, y, z);
  }
  if (infZero) { s.fflags |= NV; return F.qnan; }
  const pn = x.neg !== y.neg;
  if (x.k === INF || y.k === INF) {
    if (z.k === INF && z.neg !== pn) { s.fflags |= NV; return F.qnan; }
    return signed(F, pn, F.inf);
  }
  if (z.k === INF) return signed(F, z.neg, F.inf);
  const ps = x.k === ZERO || y.k === ZERO ? 0n : x.sig * y.sig;
  return sumRound(s, F, pn, ps, x.exp + y.exp, z.neg, z.sig, z.exp, rm);
}

function cDiv(s: FpState, F: Fmt, x: Up, y: Up, rm: number): bigint {
  if (x.k === NAN || y.k === NAN) return nanOut(s, F, x, y);
  const neg = x.neg !== y.neg;
  if (x.k === INF) {
    if (y.k === INF) { s.fflags |= NV; return F.qnan; }
    return signed(F, neg, F.inf);
  }
  if (y.k === INF) return signed(F, neg, 0n);
  if (y.k === ZERO) {
    if (x.k === ZERO) { s.fflags |= NV; return F.qnan; }
    s.fflags |= DZ;
    return signed(F, neg, F.inf);
  }
  if (x.k === ZERO) return signed(F, neg, 0n);
  // Quotient with >= p+2 bits, remainder jammed into the last bit.
  const k = Math.max(0, F.p + 2 + bitLen(y.sig) - bitLen(x.sig));
  const num = x.sig << BigInt(k);
  let q = num / y.sig;
  if (q * y.sig !== num) q |= 1n;
  return roundPack(s, F, neg, q, x.exp - y.exp - k, rm);
}

/** floor(sqrt(n)) for n >= 0. */
function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLen(n) >> 1) + 1); // >= sqrt(n)
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

function cSqrt(s: FpState, F: Fmt, x: Up, rm: number): bigint {
  if (x.k === NAN) return nanOut(s, F, x);
  if (x.k === ZERO) return signed(F, x.neg, 0n);
  if (x.neg) { s.fflags |= NV; return F.qnan; }
  if (x.k === INF) return F.inf;
  let m = x.sig, e = x.exp;
  if (e & 1) { m <<= 1n; e -= 1; }
  const k = Math.max(0, F.p + 3 - (bitLen(m) >> 1)); // root gets >= p+2 bits
  m <<= BigInt(2 * k); e -= 2 * k;
  let r = isqrt(m);
  if (r * r !== m) r |= 1n;
  return roundPack(s, F, false, r, e / 2, rm);
}

/** Float -> integer of `bits` width, saturating as RISC-V specifies. Returns the integer value. */
function cF2I(s: FpState, x: Up, rm: number, width: number, sgn: boolean): bigint {
  const max = sgn ? (1n << BigInt(width - 1)) - 1n : (1n << BigInt(width)) - 1n;
  const min = sgn ? -(1n << BigInt(width - 1)) : 0n;
  if (x.k === NAN) { s.fflags |= NV; return max; }
  if (x.k === INF) { s.fflags |= NV; return x.neg ? min : max; }
  if (x.k === ZERO) return 0n;
  let v: bigint, inexact = false;
  if (x.exp >= 0) v = x.sig << BigInt(x.exp);
  else { v = roundShift(x.sig, -x.exp, rm, x.neg); inexact = rsInexact; }
  if (x.neg) v = -v;
  if (v > max) { s.fflags |= NV; return max; }
  if (v < min) { s.fflags |= NV; return min; }
  if (inexact) s.fflags |= NX;
  return v;
}

function cI2F(s: FpState, F: Fmt, v: bigint, rm: number): bigint {
  if (v === 0n) return 0n;
  return v < 0n ? roundPack(s, F, true, -v, 0, rm) : roundPack(s, F, false, v, 0, rm);
}

/** Float -> float (narrowing rounds; widening is exact). */
function cF2F(s: FpState, Fi: Fmt, Fo: Fmt, bits: bigint, rm: number): bigint {
  const x = unpack(Fi, bits);
  if (x.k === NAN) return nanOut(s, Fo, x);
  if (x.k === INF) return signed(Fo, x.neg, Fo.inf);
  if (x.k === ZERO) return signed(Fo, x.neg, 0n);
  return roundPack(s, Fo, x.neg, x.sig, x.exp, rm);
}

// Boundary conversions between the API representation and BigInt bits.
function bD(a: number): bigint { f64s[0] = a; return u64s[0]; }
function dB(b: bigint): number { u64s[0] = b; return f64s[0]; }
const bS = (a: number): bigint => BigInt(a >>> 0);
const sB = (b: bigint): number => Number(b) | 0;
const uD = (a: number): Up => unpack(FD, bD(a));
const uS = (a: number): Up => unpack(FS, bS(a));
const flip = (u: Up): Up => ({ k: u.k, neg: !u.neg, sig: u.sig, exp: u.exp, snan: u.snan });
const i64 = (lo: number, hi: number): bigint => (BigInt(hi | 0) << 32n) | BigInt(lo >>> 0);
const u64 = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
function out64(v: bigint): void { intOut[0] = Number(BigInt.asIntN(32, v)); intOut[1] = Number(BigInt.asIntN(32, v >> 32n)); }
const i32 = (v: bigint): number => Number(BigInt.asIntN(32, v));

/**
 * Reference (BigInt-only) implementations with the same signatures as the exported fast
 * functions. The fast functions defer to these; tests cross-check the two.
 */
export const ref = {
  addD: (s: FpState, a: number, b: number, rm: number): number => dB(cAdd(s, FD, uD(a), uD(b), rm)),
  subD: (s: FpState, a: number, b: number, rm: number): number => dB(cAdd(s, FD, uD(a), flip(uD(b)), rm)),
  mulD: (s: FpState, a: number, b: number, rm: number): number => dB(cMul(s, FD, uD(a), uD(b), rm)),
  divD: (s: FpState, a: number, b: number, rm: number): number => dB(cDiv(s, FD, uD(a), uD(b), rm)),
  sqrtD: (s: FpState, a: number, rm: number): number => dB(cSqrt(s, FD, uD(a), rm)),
  fmaD: (s: FpState, a: number, b: number, c: number, rm: number): number => dB(cFma(s, FD, uD(a), uD(b), uD(c), rm)),
  cvtWD: (s: FpState, a: number, rm: number): number => i32(cF2I(s, uD(a), rm, 32, true)),
  cvtWUD: (s: FpState, a: number, rm: number): number => i32(cF2I(s, uD(a), rm, 32, false)),
  cvtLD: (s: FpState, a: number, rm: number): void => out64(cF2I(s, uD(a), rm, 64, true)),
  cvtLUD: (s: FpState, a: number, rm: number): void => out64(cF2I(s, uD(a), rm, 64, false)),
  cvtDW: (s: FpState, v: number, rm: number): number => dB(cI2F(s, FD, BigInt(v | 0), rm)),
  cvtDWU: (s: FpState, v: number, rm: number): number => dB(cI2F(s, FD, BigInt(v >>> 0), rm)),
  cvtDL: (s: FpState, lo: number, hi: number, rm: number): number => dB(cI2F(s, FD, i64(lo, hi), rm)),
  cvtDLU: (s: FpState, lo: number, hi: number, rm: number): number => dB(cI2F(s, FD, u64(lo, hi), rm)),
  cvtSD: (s: FpState, a: number, rm: number): number => sB(cF2F(s, FD, FS, bD(a), rm)),
  cvtDS: (s: FpState, a: number): number => dB(cF2F(s, FS, FD, bS(a), RNE)),
  addS: (s: FpState, a: number, b: number, rm: number): number => sB(cAdd(s, FS, uS(a), uS(b), rm)),
  subS: (s: FpState, a: number, b: number, rm: number): number => sB(cAdd(s, FS, uS(a), flip(uS(b)), rm)),
  mulS: (s: FpState, a: number, b: number, rm: number): number => sB(cMul(s, FS, uS(a), uS(b), rm)),
  divS: (s: FpState, a: number, b: number, rm: number): number => sB(cDiv(s, FS, uS(a), uS(b), rm)),
  sqrtS: (s: FpState, a: number, rm: number): number => sB(cSqrt(s, FS, uS(a), rm)),
  fmaS: (s: FpState, a: number, b: number, c: number, rm: number): number => sB(cFma(s, FS, uS(a), uS(b), uS(c), rm)),
  cvtWS: (s: FpState, a: number, rm: number): number => i32(cF2I(s, uS(a), rm, 32, true)),
  cvtWUS: (s: FpState, a: number, rm: number): number => i32(cF2I(s, uS(a), rm, 32, false)),
  cvtLS: (s: FpState, a: number, rm: number): void => out64(cF2I(s, uS(a), rm, 64, true)),
  cvtLUS: (s: FpState, a: number, rm: number): void => out64(cF2I(s, uS(a), rm, 64, false)),
  cvtSW: (s: FpState, v: number, rm: number): number => sB(cI2F(s, FS, BigInt(v | 0), rm)),
  cvtSWU: (s: FpState, v: number, rm: number): number => sB(cI2F(s, FS, BigInt(v >>> 0), rm)),
  cvtSL: (s: FpState, lo: number, hi: number, rm: number): number => sB(cI2F(s, FS, i64(lo, hi), rm)),
  cvtSLU: (s: FpState, lo: number, hi: number, rm: number): number => sB(cI2F(s, FS, u64(lo, hi), rm)),
};

// =============================================================================================
// Fast-path helpers
// =============================================================================================

/** Exact error of the double product p = RN(a*b): a*b - p (Dekker/Veltkamp). Needs |a|,|b| in
 *  [2^-969, 2^995) (split cannot overflow or underflow) and |p| >= 2^-967 (error representable). */
function prodErr(a: number, b: number, p: number): number {
  let t = 134217729 * a; // 2^27 + 1
  const ah = t - (t - a), al = a - ah;
  t = 134217729 * b;
  const bh = t - (t - b), bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/**
 * r = RN(x) is finite, non-zero and normal; es != 0 has the sign of x - r. Returns the result of
 * directed rounding (RTZ/RDN/RUP): r or its neighbour. Returns NaN for RMM (caller goes slow,
 * ties need the exact value) and +-Inf if stepping up overflowed (caller goes slow for OF).
 */
function dirD(r: number, es: number, rm: number): number {
  if (rm === RMM) return NaN;
  const pos = r > 0;
  let inc: boolean; // step the magnitude up (else down)
  if (rm === RTZ) { if ((es > 0) === pos) return r; inc = false; }
  else if (rm === RUP) { if (es < 0) return r; inc = pos; }
  else { if (es > 0) return r; inc = !pos; }
  f64s[0] = r;
  const lo = u32s[0];
  if (inc) { u32s[0] = lo + 1; if (lo === 0xffffffff) u32s[1]++; }
  else { u32s[0] = lo - 1; if (lo === 0) u32s[1]--; }
  return f64s[0];
}

/** Same for f32 bits (sign-magnitude, so +-1 on the int steps the magnitude). SLOW on overflow. */
function dirS(bits: number, es: number, rm: number): number {
  const pos = bits >= 0;
  let r: number;
  if (rm === RTZ) { if ((es > 0) === pos) return bits; r = bits - 1; }
  else if (rm === RUP) { if (es < 0) return bits; r = pos ? bits + 1 : bits - 1; }
  else { if (es > 0) return bits; r = pos ? bits - 1 : bits + 1; }
  return (r & 0x7fffffff) === 0x7f800000 ? SLOW : r;
}

/**
 * Round X = x + e to binary32, where x = RN53(X) is a double, e is the exact error (|e| <=
 * ulp(x)/2, e === 0 if exact). Handles the double-rounding hazard: only an x sitting exactly
 * on a binary32 midpoint with e != 0 is ambiguous (goes slow). Returns bits or SLOW (tiny
 * inexact, overflow, NaN, Inf). A zero x must already carry the right sign.
 */
function fin32(s: FpState, x: number, e: number, rm: number): number {
  if (!(Math.abs(x) > MIN_NORM_S)) {
    // Zero/subnormal range: only exact results are decided here (no UF possible).
    if (e === 0 && Math.fround(x) === x) { f32s[0] = x; return i32s[0]; }
    return SLOW;
  }
  f32s[0] = x; // ties-to-even narrowing
  const bits = i32s[0];
  if ((bits & 0x7fffffff) === 0x7f800000) return SLOW;
  f64s[0] = x;
  const low = u32s[0] & 0x1fffffff; // the 29 fraction bits binary32 drops
  let r = bits;
  if (low === 0) {
    if (e === 0) return bits;
    if (rm !== RNE && rm !== RMM) r = dirS(bits, e, rm); // x is a float; error sign is e's
  } else {
    const es = x - f32s[0]; // exact and non-zero, dominates e
    if (low === 0x10000000) {
      if (e !== 0) return SLOW; // midpoint + tiny error: the tie is broken by e (rare)
      if (rm === RMM && (es > 0) === (x > 0)) r = bits + 1; // tie went toward zero; RMM goes away
    }
    if (rm !== RNE && rm !== RMM) r = dirS(bits, es, rm);
  }
  if (r === SLOW || (r & 0x7fffffff) === 0x7f800000) return SLOW;
  s.fflags |= NX;
  return r;
}

// =============================================================================================
// Binary64
// =============================================================================================

/** RN sum with TwoSum error term; NaN = undecided. */
function sumD(s: FpState, a: number, b: number, rm: number): number {
  const r = a + b;
  if (r - r !== 0) return NaN; // overflow / Inf / NaN
  const t = r - a;
  const e = (a - (r - t)) + (b - t);
  if (e === 0) return r === 0 && rm === RDN ? NaN : r; // x + -x is -0 when rounding down
  if (e - e !== 0) return NaN; // intermediate overflow
  // A sum that is inexact is >= 2^-1021 in magnitude, so no underflow questions arise.
  if (rm === RNE) { s.fflags |= NX; return r; }
  const d = dirD(r, e, rm);
  if (d - d !== 0) return NaN;
  s.fflags |= NX;
  return d;
}

export function addD(s: FpState, a: number, b: number, rm: number): number {
  const r = sumD(s, a, b, rm);
  return r === r ? r : ref.addD(s, a, b, rm);
}

export function subD(s: FpState, a: number, b: number, rm: number): number {
  const r = sumD(s, a, -b, rm);
  return r === r ? r : ref.subD(s, a, b, rm);
}

function mulFastD(s: FpState, a: number, b: number, rm: number): number {
  const r = a * b;
  const aa = Math.abs(a), ab = Math.abs(b), ar = Math.abs(r);
  if (aa >= MUL_LO && aa < MUL_HI && ab >= MUL_LO && ab < MUL_HI && ar >= PROD_MIN && ar < Infinity) {
    const e = prodErr(a, b, r);
    if (e === 0) return r;
    if (e - e !== 0) return NaN;
    if (rm === RNE) { s.fflags |= NX; return r; }
    const d = dirD(r, e, rm);
    if (d - d !== 0) return NaN;
    s.fflags |= NX;
    return d;
  }
  if (r === 0 && (a === 0 || b === 0)) return r; // 0 * finite: exact, sign is the xor
  return NaN;
}

export function mulD(s: FpState, a: number, b: number, rm: number): number {
  const r = mulFastD(s, a, b, rm);
  return r === r ? r : ref.mulD(s, a, b, rm);
}

function divFastD(s: FpState, a: number, b: number, rm: number): number {
  const r = a / b;
  const aa = Math.abs(a), ab = Math.abs(b), ar = Math.abs(r);
  if (aa >= DIV_LO && aa <= DIV_HI && ab >= DIV_LO && ab <= DIV_HI && ar >= DIV_LO && ar <= DIV_HI) {
    // rem = a - r*b exactly-signed: a - p is exact (Sterbenz), pe is the product's exact error.
    const p = r * b;
    const rem = (a - p) - prodErr(r, b, p);
    if (rem === 0) return r;
    // A quotient of normal numbers is never a midpoint, so RMM == RNE.
    if (rm === RNE || rm === RMM) { s.fflags |= NX; return r; }
    const d = dirD(r, b > 0 ? rem : -rem, rm);
    if (d - d !== 0) return NaN;
    s.fflags |= NX;
    return d;
  }
  if (a === 0 && b !== 0 && b === b) return r; // 0 / non-zero: exact signed zero
  return NaN;
}

export function divD(s: FpState, a: number, b: number, rm: number): number {
  const r = divFastD(s, a, b, rm);
  return r === r ? r : ref.divD(s, a, b, rm);
}

export function sqrtD(s: FpState, a: number, rm: number): number {
  if (a >= DIV_LO && a <= DIV_HI) {
    const r = Math.sqrt(a); // correctly rounded (hardware sqrt)
    const p = r * r;
    const rem = (a - p) - prodErr(r, r, p);
    if (rem === 0) return r;
    if (rm === RNE || rm === RMM) { s.fflags |= NX; return r; } // sqrt is never a midpoint
    const d = dirD(r, rem, rm);
    s.fflags |= NX;
    return d; // cannot overflow
  }
  if (a === 0) return a;
  return ref.sqrtD(s, a, rm);
}

function fmaFastD(s: FpState, a: number, b: number, c: number, rm: number): number {
  const ph = a * b;
  const aa = Math.abs(a), ab = Math.abs(b), ap = Math.abs(ph);
  if (!(aa >= MUL_LO && aa < MUL_HI && ab >= MUL_LO && ab < MUL_HI && ap >= PROD_MIN && ap < FMA_HI)) {
    if ((a === 0 || b === 0) && ph === 0 && c - c === 0) {
      if (c !== 0) return c; // +-0 + c
      if (rm !== RDN) return ph + c; // signed-zero sum, same rule as RNE
    }
    return NaN;
  }
  // X = ph + pl + c exactly; renormalise with TwoSums to X = x + h + k, x = RN(r + u),
  // |k| <= ulp(h)/2. If |h| is strictly inside x's half-gap on h's side, x = RN(X) and
  // sign(X - x) = sign(h).
  const pl = prodErr(a, b, ph);
  const r = ph + c;
  let t = r - ph;
  const e1 = (ph - (r - t)) + (c - t);
  const u = e1 + pl;
  t = u - e1;
  const f = (e1 - (u - t)) + (pl - t);
  const x = r + u;
  t = x - r;
  const h = ((r - (x - t)) + (u - t)) + f;
  const ax = Math.abs(x);
  if (!(ax >= DIV_LO && ax < FMA_HI)) return NaN; // also catches NaN/Inf
  if (h === 0) return x;
  f64s[0] = x;
  const hi = u32s[1], lo = u32s[0];
  let lim = dFromWords((((hi >>> 20) & 0x7ff) - 53) << 20, 0); // ulp(x)/2
  if ((hi & 0xfffff) === 0 && lo === 0 && (h > 0) !== (x > 0)) lim *= 0.5; // power of 2, gap below is half
  if (!(Math.abs(h) < lim)) return NaN;
  if (rm === RNE) { s.fflags |= NX; return x; }
  const d = dirD(x, h, rm);
  if (d - d !== 0) return NaN;
  s.fflags |= NX;
  return d;
}

/** a*b + c with a single rounding. */
export function fmaD(s: FpState, a: number, b: number, c: number, rm: number): number {
  const r = fmaFastD(s, a, b, c, rm);
  return r === r ? r : ref.fmaD(s, a, b, c, rm);
}

/** Sign flip that preserves NaN payloads. */
export function negD(a: number): number {
  if (a === a) return -a;
  f64s[0] = a;
  u32s[1] ^= 0x80000000;
  return f64s[0];
}

function isSNaND(a: number): boolean {
  if (a === a) return false;
  f64s[0] = a;
  return (u32s[1] & 0x00080000) === 0;
}

function minmaxNaND(s: FpState, a: number, b: number): number {
  if (isSNaND(a) || isSNaND(b)) s.fflags |= NV;
  return a !== a ? (b !== b ? CNAN_D : b) : a;
}

export function minD(s: FpState, a: number, b: number): number {
  if (a !== a || b !== b) return minmaxNaND(s, a, b);
  return Math.min(a, b); // Math.min orders -0 < +0
}

export function maxD(s: FpState, a: number, b: number): number {
  if (a !== a || b !== b) return minmaxNaND(s, a, b);
  return Math.max(a, b);
}

/** feq: quiet comparison (NV only for sNaN). */
export function eqD(s: FpState, a: number, b: number): number {
  if (a !== a || b !== b) { if (isSNaND(a) || isSNaND(b)) s.fflags |= NV; return 0; }
  return a === b ? 1 : 0;
}

/** flt/fle: signalling comparisons (NV for any NaN). */
export function ltD(s: FpState, a: number, b: number): number {
  if (a !== a || b !== b) { s.fflags |= NV; return 0; }
  return a < b ? 1 : 0;
}

export function leD(s: FpState, a: number, b: number): number {
  if (a !== a || b !== b) { s.fflags |= NV; return 0; }
  return a <= b ? 1 : 0;
}

function classBits(neg: boolean, expAll: boolean, expZero: boolean, fracZero: boolean, quiet: boolean): number {
  if (expAll) return fracZero ? (neg ? 1 << 0 : 1 << 7) : (quiet ? 1 << 9 : 1 << 8);
  if (expZero) return fracZero ? (neg ? 1 << 3 : 1 << 4) : (neg ? 1 << 2 : 1 << 5);
  return neg ? 1 << 1 : 1 << 6;
}

export function classD(a: number): number {
  f64s[0] = a;
  const hi = u32s[1], e = (hi >>> 20) & 0x7ff;
  return classBits(hi >>> 31 !== 0, e === 0x7ff, e === 0, (hi & 0xfffff) === 0 && u32s[0] === 0, (hi & 0x80000) !== 0);
}

// Float -> integer: rounding a double to an integral double is exact with floor/ceil/trunc, so
// these need no BigInt at all (ref.* holds the BigInt versions for cross-checking).

/** Round finite-or-infinite x to an integral double by rm. */
function rint(x: number, rm: number): number {
  if (rm === RTZ) return Math.trunc(x);
  if (rm === RDN) return Math.floor(x);
  if (rm === RUP) return Math.ceil(x);
  // |x - trunc(x)| is exact (t = 0, or t and x within a factor 2). Note x - floor(x) is NOT
  // exact for small negative x (e.g. -0.5 + 2^-54).
  const t = Math.trunc(x), d = Math.abs(x - t);
  if (d < 0.5 || d !== d) return t; // d is NaN for +-Inf
  const away = x > 0 ? t + 1 : t - 1;
  if (d > 0.5 || rm === RMM) return away;
  return t % 2 === 0 ? t : away; // RNE tie
}

export function cvtWD(s: FpState, a: number, rm: number): number {
  if (a !== a) { s.fflags |= NV; return 0x7fffffff; }
  const t = rint(a, rm);
  if (t > 2147483647) { s.fflags |= NV; return 0x7fffffff; }
  if (t < -2147483648) { s.fflags |= NV; return -2147483648; }
  if (t !== a) s.fflags |= NX;
  return t | 0;
}

export function cvtWUD(s: FpState, a: number, rm: number): number {
  if (a !== a) { s.fflags |= NV; return -1; }
  const t = rint(a, rm);
  if (t > 4294967295) { s.fflags |= NV; return -1; }
  if (t < 0) { s.fflags |= NV; return 0; } // -0 (e.g. -0.3 RTZ) is fine: just NX below
  if (t !== a) s.fflags |= NX;
  return t | 0;
}

export function cvtLD(s: FpState, a: number, rm: number): void {
  if (a !== a) { s.fflags |= NV; intOut[0] = -1; intOut[1] = 0x7fffffff; return; }
  const t = rint(a, rm);
  if (t >= 9223372036854775808) { s.fflags |= NV; intOut[0] = -1; intOut[1] = 0x7fffffff; return; }
  if (t < -9223372036854775808) { s.fflags |= NV; intOut[0] = 0; intOut[1] = -2147483648; return; }
  if (t !== a) s.fflags |= NX;
  const hi = Math.floor(t / TWO32);
  intOut[0] = t - hi * TWO32; // Int32Array store wraps to the 32-bit pattern
  intOut[1] = hi;
}

export function cvtLUD(s: FpState, a: number, rm: number): void {
  if (a !== a) { s.fflags |= NV; intOut[0] = -1; intOut[1] = -1; return; }
  const t = rint(a, rm);
  if (t >= 18446744073709551616) { s.fflags |= NV; intOut[0] = -1; intOut[1] = -1; return; }
  if (t < 0) { s.fflags |= NV; intOut[0] = 0; intOut[1] = 0; return; }
  if (t !== a) s.fflags |= NX;
  const hi = Math.floor(t / TWO32);
  intOut[0] = t - hi * TWO32;
  intOut[1] = hi;
}

export function cvtDW(_s: FpState, v: number, _rm: number): number { return v | 0; }
export function cvtDWU(_s: FpState, v: number, _rm: number): number { return v >>> 0; }

function i2dFast(s: FpState, A: number, B: number, rm: number): number {
  const x = A + B, t = x - A, e = (A - (x - t)) + (B - t);
  if (e === 0) return x;
  if (rm === RNE) { s.fflags |= NX; return x; }
  const d = dirD(x, e, rm); // NaN for RMM (possible tie)
  if (d === d) s.fflags |= NX;
  return d;
}

export function cvtDL(s: FpState, lo: number, hi: number, rm: number): number {
  const r = i2dFast(s, (hi | 0) * TWO32, lo >>> 0, rm);
  return r === r ? r : ref.cvtDL(s, lo, hi, rm);
}

export function cvtDLU(s: FpState, lo: number, hi: number, rm: number): number {
  const r = i2dFast(s, (hi >>> 0) * TWO32, lo >>> 0, rm);
  return r === r ? r : ref.cvtDLU(s, lo, hi, rm);
}

/** fcvt.s.d */
export function cvtSD(s: FpState, a: number, rm: number): number {
  const r = fin32(s, a, 0, rm);
  return r !== SLOW ? r : ref.cvtSD(s, a, rm);
}

/** fcvt.d.s (exact) */
export function cvtDS(s: FpState, a: number): number {
  if ((a & 0x7fffffff) > 0x7f800000) {
    if ((a & 0x00400000) === 0) s.fflags |= NV;
    return CNAN_D;
  }
  return f32(a);
}

// =============================================================================================
// Binary32 (bits in int32). Arithmetic is done in double, then narrowed by fin32, which knows
// the exact error of the double step.
// =============================================================================================

function sumS(s: FpState, x: number, y: number, rm: number): number {
  const r = x + y, t = r - x, e = (x - (r - t)) + (y - t);
  if (r === 0 && rm === RDN) return SLOW;
  return fin32(s, r, e, rm);
}

export function addS(s: FpState, a: number, b: number, rm: number): number {
  const r = sumS(s, f32(a), f32(b), rm);
  return r !== SLOW ? r : ref.addS(s, a, b, rm);
}

export function subS(s: FpState, a: number, b: number, rm: number): number {
  const r = sumS(s, f32(a), -f32(b), rm);
  return r !== SLOW ? r : ref.subS(s, a, b, rm);
}

export function mulS(s: FpState, a: number, b: number, rm: number): number {
  const r = fin32(s, f32(a) * f32(b), 0, rm); // 24x24-bit product is exact in double
  return r !== SLOW ? r : ref.mulS(s, a, b, rm);
}

function divFastS(s: FpState, x: number, y: number, rm: number): number {
  const r = Math.fround(x / y); // double rounding is innocuous for / (53 >= 2*24+2)
  const p = r * y; // exact
  if (p === x && r - r === 0) { f32s[0] = r; return i32s[0]; }
  // Strictly above the normal bound (so the exact quotient is too), never a midpoint.
  if (!(Math.abs(x / y) > MIN_NORM_S) || r - r !== 0) return SLOW;
  f32s[0] = r;
  const bits = i32s[0];
  const rem = x - p;
  const d = rm === RNE || rm === RMM ? bits : dirS(bits, y > 0 ? rem : -rem, rm);
  if (d === SLOW) return SLOW;
  s.fflags |= NX;
  return d;
}

export function divS(s: FpState, a: number, b: number, rm: number): number {
  const r = divFastS(s, f32(a), f32(b), rm);
  return r !== SLOW ? r : ref.divS(s, a, b, rm);
}

export function sqrtS(s: FpState, a: number, rm: number): number {
  const x = f32(a);
  if (x > 0) {
    const r = Math.fround(Math.sqrt(x));
    const p = r * r; // exact
    f32s[0] = r;
    const bits = i32s[0];
    if (p === x) return bits;
    s.fflags |= NX; // sqrt never under/overflows nor hits a midpoint
    return rm === RNE || rm === RMM ? bits : dirS(bits, x - p, rm);
  }
  if (x === 0) return a;
  return ref.sqrtS(s, a, rm);
}

export function fmaS(s: FpState, a: number, b: number, c: number, rm: number): number {
  const p = f32(a) * f32(b), z = f32(c); // p exact
  const r = p + z, t = r - p, e = (p - (r - t)) + (z - t);
  const res = r === 0 && rm === RDN ? SLOW : fin32(s, r, e, rm);
  return res !== SLOW ? res : ref.fmaS(s, a, b, c, rm);
}

export function negS(a: number): number { return a ^ 0x80000000; }

const isNaNS = (a: number): boolean => (a & 0x7fffffff) > 0x7f800000;
const isSNaNS = (a: number): boolean => isNaNS(a) && (a & 0x00400000) === 0;

function minmaxNaNS(s: FpState, a: number, b: number): number {
  if (isSNaNS(a) || isSNaNS(b)) s.fflags |= NV;
  return isNaNS(a) ? (isNaNS(b) ? CNAN_S : b) : a;
}

export function minS(s: FpState, a: number, b: number): number {
  if (isNaNS(a) || isNaNS(b)) return minmaxNaNS(s, a, b);
  const x = f32(a), y = f32(b);
  return x < y ? a : y < x ? b : a | b; // equal: identical bits, or +-0 -> -0
}

export function maxS(s: FpState, a: number, b: number): number {
  if (isNaNS(a) || isNaNS(b)) return minmaxNaNS(s, a, b);
  const x = f32(a), y = f32(b);
  return x > y ? a : y > x ? b : a & b; // equal: identical bits, or +-0 -> +0
}

export function eqS(s: FpState, a: number, b: number): number {
  if (isNaNS(a) || isNaNS(b)) { if (isSNaNS(a) || isSNaNS(b)) s.fflags |= NV; return 0; }
  return f32(a) === f32(b) ? 1 : 0;
}

export function ltS(s: FpState, a: number, b: number): number {
  if (isNaNS(a) || isNaNS(b)) { s.fflags |= NV; return 0; }
  return f32(a) < f32(b) ? 1 : 0;
}

export function leS(s: FpState, a: number, b: number): number {
  if (isNaNS(a) || isNaNS(b)) { s.fflags |= NV; return 0; }
  return f32(a) <= f32(b) ? 1 : 0;
}

export function classS(a: number): number {
  const e = (a >>> 23) & 0xff;
  return classBits(a < 0, e === 0xff, e === 0, (a & 0x7fffff) === 0, (a & 0x400000) !== 0);
}

// f32 -> integer goes through the exact double value (NaN inputs are NaN doubles).
export function cvtWS(s: FpState, a: number, rm: number): number { return cvtWD(s, f32(a), rm); }
export function cvtWUS(s: FpState, a: number, rm: number): number { return cvtWUD(s, f32(a), rm); }
export function cvtLS(s: FpState, a: number, rm: number): void { cvtLD(s, f32(a), rm); }
export function cvtLUS(s: FpState, a: number, rm: number): void { cvtLUD(s, f32(a), rm); }

export function cvtSW(s: FpState, v: number, rm: number): number {
  const r = fin32(s, v | 0, 0, rm);
  return r !== SLOW ? r : ref.cvtSW(s, v, rm);
}

export function cvtSWU(s: FpState, v: number, rm: number): number {
  const r = fin32(s, v >>> 0, 0, rm);
  return r !== SLOW ? r : ref.cvtSWU(s, v, rm);
}

function i2sFast(s: FpState, A: number, B: number, rm: number): number {
  const x = A + B, t = x - A;
  return fin32(s, x, (A - (x - t)) + (B - t), rm);
}

export function cvtSL(s: FpState, lo: number, hi: number, rm: number): number {
  const r = i2sFast(s, (hi | 0) * TWO32, lo >>> 0, rm);
  return r !== SLOW ? r : ref.cvtSL(s, lo, hi, rm);
}

export function cvtSLU(s: FpState, lo: number, hi: number, rm: number): number {
  const r = i2sFast(s, (hi >>> 0) * TWO32, lo >>> 0, rm);
  return r !== SLOW ? r : ref.cvtSLU(s, lo, hi, rm);
}
