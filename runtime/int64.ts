// 64-bit integer operations on (lo, hi) int32 pairs. Results: lo is returned, hi is left in out.hi.
export const out = { hi: 0 };

/** High 32 bits of the unsigned product of two 32-bit values. */
export function umulhi32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
}

export function mul(al: number, ah: number, bl: number, bh: number): number {
  out.hi = (umulhi32(al, bl) + Math.imul(al, bh) + Math.imul(ah, bl)) | 0;
  return Math.imul(al, bl);
}

/** High 64 bits of the unsigned 128-bit product. */
export function mulhu(al: number, ah: number, bl: number, bh: number): number {
  // Partial products, each 64-bit: ll, lh, hl, hh.
  const llHi = umulhi32(al, bl) >>> 0;
  const lhLo = Math.imul(al, bh) >>> 0, lhHi = umulhi32(al, bh) >>> 0;
  const hlLo = Math.imul(ah, bl) >>> 0, hlHi = umulhi32(ah, bl) >>> 0;
  const hhLo = Math.imul(ah, bh) >>> 0, hhHi = umulhi32(ah, bh) >>> 0;
  // Word 1 (bits 32..63) collects llHi + lhLo + hlLo; its carry goes into word 2.
  const w1 = llHi + lhLo + hlLo;
  const c1 = Math.floor(w1 / 4294967296);
  const w2 = hhLo + lhHi + hlHi + c1;
  const c2 = Math.floor(w2 / 4294967296);
  out.hi = (hhHi + c2) | 0;
  return w2 | 0;
}

function sub64hi(lo: number, hi: number, bl: number, bh: number): number {
  const rlo = (lo - bl) | 0;
  out.hi = (hi - bh - ((lo >>> 0) < (bl >>> 0) ? 1 : 0)) | 0;
  return rlo;
}

export function mulh(al: number, ah: number, bl: number, bh: number): number {
  let lo = mulhu(al, ah, bl, bh), hi = out.hi;
  if (ah < 0) { lo = sub64hi(lo, hi, bl, bh); hi = out.hi; }
  if (bh < 0) { lo = sub64hi(lo, hi, al, ah); hi = out.hi; }
  out.hi = hi;
  return lo;
}

export function mulhsu(al: number, ah: number, bl: number, bh: number): number {
  let lo = mulhu(al, ah, bl, bh), hi = out.hi;
  if (ah < 0) { lo = sub64hi(lo, hi, bl, bh); hi = out.hi; }
  out.hi = hi;
  return lo;
}

function big(lo: number, hi: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo >>> 0);
}
function ubig(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
function fromBig(v: bigint): number {
  out.hi = Number(BigInt.asIntN(32, v >> 32n));
  return Number(BigInt.asIntN(32, v));
}
/** Whether (lo, hi) is a sign-extended int32. */
const isW = (lo: number, hi: number) => hi === lo >> 31;

export function div(al: number, ah: number, bl: number, bh: number): number {
  if ((bl | bh) === 0) { out.hi = -1; return -1; }
  if (isW(al, ah) && isW(bl, bh)) {
    if (al === -2147483648 && bl === -1) { out.hi = 0; return al; } // 2^31 fits in 64 bits
    const q = (al / bl) | 0;
    out.hi = q >> 31;
    return q;
  }
  if (ah === -2147483648 && al === 0 && bl === -1 && bh === -1) { out.hi = ah; return 0; }
  return fromBig(big(al, ah) / big(bl, bh));
}

export function divu(al: number, ah: number, bl: number, bh: number): number {
  if ((bl | bh) === 0) { out.hi = -1; return -1; }
  if (ah === 0 && bh === 0) {
    const q = Math.floor((al >>> 0) / (bl >>> 0));
    out.hi = 0;
    return q | 0;
  }
  return fromBig(ubig(al, ah) / ubig(bl, bh));
}

export function rem(al: number, ah: number, bl: number, bh: number): number {
  if ((bl | bh) === 0) { out.hi = ah; return al; }
  if (isW(al, ah) && isW(bl, bh)) {
    if (bl === -1) { out.hi = 0; return 0; }
    const r = (al % bl) | 0;
    out.hi = r >> 31;
    return r;
  }
  if (bl === -1 && bh === -1) { out.hi = 0; return 0; }
  return fromBig(big(al, ah) % big(bl, bh));
}

export function remu(al: number, ah: number, bl: number, bh: number): number {
  if ((bl | bh) === 0) { out.hi = ah; return al; }
  if (ah === 0 && bh === 0) {
    out.hi = 0;
    return ((al >>> 0) % (bl >>> 0)) | 0;
  }
  return fromBig(ubig(al, ah) % ubig(bl, bh));
}

/** Signed less-than on pairs. */
export function lt(al: number, ah: number, bl: number, bh: number): boolean {
  return ah < bh || (ah === bh && (al >>> 0) < (bl >>> 0));
}
export function ltu(al: number, ah: number, bl: number, bh: number): boolean {
  return (ah >>> 0) < (bh >>> 0) || (ah === bh && (al >>> 0) < (bl >>> 0));
}
