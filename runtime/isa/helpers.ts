// Runtime helpers callable from instruction templates. Everything exported here is in a template's scope.
import { Hart, Priv } from '../hart.js';
import { Access, Cause } from '../trap.js';
import { trapReturn } from '../privilege.js';
import { csrRead, csrWrite, MSTATUS, readMip } from '../csr.js';
import { out } from '../int64.js';
import { HSTATUS } from '../hcsr.js';

export { loadSlow, load64Slow, storeSlow, store64Slow } from '../hart.js';
export { mul, mulh, mulhsu, mulhu, div, divu, rem, remu, lt, ltu, out } from '../int64.js';
export { hlv, hsv, hfence } from './hypervisor.js';

export function pcBig(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

function illegal(h: Hart, raw: number): never {
  throw h.raise(Cause.IllegalInstruction, BigInt(raw >>> 0));
}

/** With V=1, an instruction HS-mode could execute but VS/VU-mode may not (hypervisor extension). */
function virtualInsn(h: Hart, raw: number): never {
  throw h.raise(Cause.VirtualInstruction, BigInt(raw >>> 0));
}

export function ecallCause(h: Hart): number {
  return h.priv === Priv.M ? Cause.EcallM : h.priv === Priv.S ? (h.virt ? Cause.EcallVS : Cause.EcallS) : Cause.EcallU;
}

/** CSRRW/RS/RC and their immediate forms. kind: 1 write, 2 set, 3 clear. rs1 is the register number or uimm. */
export function csrInsn(h: Hart, kind: number, csr: number, srcLo: number, srcHi: number, rs1: number, xd: number, raw: number): void {
  const src = (BigInt(srcHi >>> 0) << 32n) | BigInt(srcLo >>> 0);
  const writes = kind === 1 || rs1 !== 0;
  // A write to a read-only CSR is illegal whatever the read would raise (with H, reading might be virtual).
  if (writes && (csr >>> 10) === 3) illegal(h, raw);
  // CSRRW with rd = x0 does not read (no read side effects), but access is still checked by the write.
  const old = kind === 1 && xd === 64 ? 0n : csrRead(h, csr, raw);
  if (writes) csrWrite(h, csr, kind === 1 ? src : kind === 2 ? old | src : old & ~src, raw);
  h.x[xd] = Number(old & 0xffffffffn) | 0;
  h.x[xd + 1] = Number(old >> 32n) | 0;
  h.stop = true;
}

export function mret(h: Hart, raw: number): void {
  if (h.priv !== Priv.M) illegal(h, raw);
  trapReturn(h, true);
  h.stop = true;
}

export function sret(h: Hart, raw: number): void {
  if (h.virt && (h.priv === Priv.U || (h.hyp.hstatus & HSTATUS.VTSR))) virtualInsn(h, raw);
  if (h.priv === Priv.U || (h.priv === Priv.S && (h.mstatus & MSTATUS.TSR))) illegal(h, raw);
  trapReturn(h, false);
  h.stop = true;
}

export function wfi(h: Hart, raw: number): void {
  if (h.virt && !(h.mstatus & MSTATUS.TW) && (h.priv === Priv.U || (h.hyp.hstatus & HSTATUS.VTW))) virtualInsn(h, raw);
  if (h.priv === Priv.U || (h.priv === Priv.S && (h.mstatus & MSTATUS.TW))) illegal(h, raw);
  if ((readMip(h) & h.mie) === 0) h.waiting = true;
  h.stop = true;
}

export function sfenceVma(h: Hart, raw: number): void {
  if (h.virt) {
    if (h.priv === Priv.U || (h.hyp.hstatus & HSTATUS.VTVM)) virtualInsn(h, raw);
  } else if (h.priv === Priv.U || (h.priv === Priv.S && (h.mstatus & MSTATUS.TVM))) illegal(h, raw);
  h.flushTlb();
  h.onTranslationChange();
}

export function fenceI(h: Hart): void {
  h.onFenceI();
}

function checkAligned(h: Hart, lo: number, hi: number, size: number, cause: number): void {
  if ((lo & (size - 1)) !== 0) throw h.raise(cause, pcBig(lo, hi));
}

/** Read size bytes at a physical address of an atomic access, as (lo, out.hi). */
function readAtomic(h: Hart, pa: number, size: number, lo: number, hi: number): number {
  const off = h.bus.ramOffset(pa, size);
  if (off < 0) throw h.raise(Cause.StoreAccess, pcBig(lo, hi));
  const w = off >>> 2;
  out.hi = size === 8 ? h.ram32[w + 1] : h.ram32[w] >> 31;
  return h.ram32[w];
}

function writeAtomic(h: Hart, pa: number, size: number, vlo: number, vhi: number): void {
  const off = pa - h.bus.ramBase, w = off >>> 2;
  h.ram32[w] = vlo;
  if (size === 8) h.ram32[w + 1] = vhi;
  if (h.codePages[off >>> 12]) h.onCodeWrite(off, size);
}

/** AMO: returns the old value (sign-extended for .w) as (lo, out.hi). */
export function amo(h: Hart, lo: number, hi: number, size: number, op: number, bl: number, bh: number, raw: number): number {
  void raw;
  checkAligned(h, lo, hi, size, Cause.StoreMisaligned);
  const pa = h.access(lo, hi, size, Access.Write);
  const al = readAtomic(h, pa, size, lo, hi), ah = out.hi;
  if (size === 4) bh = bl >> 31;
  let rl: number, rh: number;
  switch (op) {
    case 0: rl = bl; rh = bh; break;
    case 1: rl = (al + bl) | 0; rh = (ah + bh + ((rl >>> 0) < (al >>> 0) ? 1 : 0)) | 0; break;
    case 2: rl = al ^ bl; rh = ah ^ bh; break;
    case 3: rl = al & bl; rh = ah & bh; break;
    case 4: rl = al | bl; rh = ah | bh; break;
    default: {
      const aLess = op === 5 || op === 6
        ? ah < bh || (ah === bh && (al >>> 0) < (bl >>> 0))
        : (ah >>> 0) < (bh >>> 0) || (ah === bh && (al >>> 0) < (bl >>> 0));
      const pickA = (op === 5 || op === 7) ? aLess : !aLess;
      rl = pickA ? al : bl; rh = pickA ? ah : bh;
    }
  }
  writeAtomic(h, pa, size, rl, rh);
  out.hi = ah;
  return al;
}

/** LR: QEMU keeps the virtual address and the loaded value; SC succeeds if both still match. */
export function loadReserved(h: Hart, lo: number, hi: number, size: number): number {
  checkAligned(h, lo, hi, size, Cause.LoadMisaligned);
  const pa = h.access(lo, hi, size, Access.Read);
  const off = h.bus.ramOffset(pa, size);
  if (off < 0) throw h.raise(Cause.LoadAccess, pcBig(lo, hi));
  const w = off >>> 2;
  const vl = h.ram32[w], vh = size === 8 ? h.ram32[w + 1] : vl >> 31;
  h.resValid = true; h.resLo = lo; h.resHi = hi; h.resValLo = vl; h.resValHi = vh;
  out.hi = vh;
  return vl;
}

/** SC: returns 0 on success, 1 on failure. The reservation is always cleared. */
export function storeConditional(h: Hart, lo: number, hi: number, size: number, bl: number, bh: number): number {
  checkAligned(h, lo, hi, size, Cause.StoreMisaligned);
  if (!h.resValid || h.resLo !== lo || h.resHi !== hi) { h.resValid = false; return 1; }
  h.resValid = false;
  const pa = h.access(lo, hi, size, Access.Write);
  const cl = readAtomic(h, pa, size, lo, hi), ch = out.hi;
  if (cl !== h.resValLo || ch !== h.resValHi) return 1;
  writeAtomic(h, pa, size, bl, bh);
  return 0;
}

// ---- F and D ----
export * from '../fpu.js';

/** Resolve the rounding mode field (7 = dynamic, from frm); reserved modes are illegal. */
export function rmOf(h: Hart, rm: number, raw: number): number {
  const mode = rm === 7 ? h.frm : rm;
  if (mode > 4) illegal(h, raw);
  return mode;
}

export function getS(fi: Int32Array, r: number): number {
  return fi[r * 2 + 1] === -1 ? fi[r * 2] : 0x7fc00000;
}

export function setS(fi: Int32Array, r: number, bits: number): void {
  fi[r * 2] = bits;
  fi[r * 2 + 1] = -1;
}
