// CSRs of the hypervisor extension, and what H changes about the others: access from VS/VU-mode (S CSRs
// substituted by their VS counterparts, virtual-instruction exceptions for HS-qualified accesses, hcounteren),
// the HS-level hypervisor CSRs, the VS CSRs, and the M-level additions (mstatus.MPV/GVA, mtval2, mtinst,
// read-only-one mideleg bits). csrRead/csrWrite in runtime/csr.ts call in here first when H is implemented.
import type { Hart } from './hart.js';
import { Cause } from './trap.js';
import { readMip, readMstatus } from './csr.js';

// No imported binding may be used at module evaluation time (csr.ts and this module import each other).
const M64 = 0xffffffffffffffffn;
const SIE = 1 << 1, SPIE = 1 << 5, SPP = 1 << 8, VS = 3 << 9, FS = 3 << 13, SUM = 1 << 18, MXR = 1 << 19;
const SSTATUS_MASK = SIE | SPIE | SPP | VS | FS | SUM | MXR;
/** vsstatus.UXL: VU-mode is 64-bit. */
const VSSTATUS_UXL = 2n << 32n;

export const HSTATUS = {
  VSBE: 1 << 5, GVA: 1 << 6, SPV: 1 << 7, SPVP: 1 << 8, HU: 1 << 9, VTVM: 1 << 20, VTW: 1 << 21, VTSR: 1 << 22,
} as const;
/** GEILEN = 0: VGEIN is read-only zero; VSBE is zero (little-endian guests). */
const HSTATUS_WRITABLE = HSTATUS.GVA | HSTATUS.SPV | HSTATUS.SPVP | HSTATUS.HU | HSTATUS.VTVM | HSTATUS.VTW | HSTATUS.VTSR;
/** hstatus.VSXL: VS-mode is 64-bit. */
const HSTATUS_VSXL = 2n << 32n;

const S_INTS = (1 << 1) | (1 << 5) | (1 << 9);
const M_INTS = (1 << 3) | (1 << 7) | (1 << 11);
/** VSSI, VSTI, VSEI. */
export const VS_INTS = (1 << 2) | (1 << 6) | (1 << 10);
/** The interrupts that hip/hie hold, and that mideleg delegates as read-only one: the VS-level ones and SGEI. */
export const HS_INTS = VS_INTS | (1 << 12);
/** medeleg with H: causes 0-10, 12, 13, 15 and the guest-page faults and virtual instruction (20-23). */
const MEDELEG_WRITABLE = 0xb7ff | (0xf << 20);
/** hedeleg: what may go to VS-mode (not ecalls from HS/VS/M, not guest-page faults, not virtual instruction). */
const HEDELEG_WRITABLE = 0xb1ff;
const ENVCFG_STCE = 1n << 63n, ENVCFG_FIOM = 1n;
const MISA_H = 1n << 7n;
const COUNTEREN_TM = 2;

const enum C {
  fflags = 0x001, fcsr = 0x003,
  sstatus = 0x100, sie = 0x104, stvec = 0x105, scounteren = 0x106, senvcfg = 0x10a, sscratch = 0x140, sepc = 0x141,
  scause = 0x142, stval = 0x143, sip = 0x144, stimecmp = 0x14d, satp = 0x180,
  vsstatus = 0x200, vsie = 0x204, vstvec = 0x205, vsscratch = 0x240, vsepc = 0x241, vscause = 0x242, vstval = 0x243,
  vsip = 0x244, vstimecmp = 0x24d, vsatp = 0x280,
  hstatus = 0x600, hedeleg = 0x602, hideleg = 0x603, hie = 0x604, htimedelta = 0x605, hcounteren = 0x606,
  hgeie = 0x607, henvcfg = 0x60a, htval = 0x643, hip = 0x644, hvip = 0x645, htinst = 0x64a, hgatp = 0x680,
  hgeip = 0xe12,
  mstatus = 0x300, misa = 0x301, medeleg = 0x302, mideleg = 0x303, mie = 0x304, mip = 0x344, mtinst = 0x34a,
  mtval2 = 0x34b,
  cycle = 0xc00, time = 0xc01, hpmcounter18 = 0xc12,
}

/** The S CSRs (as implemented) that have a VS counterpart at csr + 0x100, which V=1 accesses instead. */
const HAS_VS = new Set<number>([C.sstatus, C.sie, C.stvec, C.sscratch, C.sepc, C.scause, C.stval, C.sip, C.stimecmp, C.satp]);
const S_CSRS = new Set<number>([...HAS_VS, C.scounteren, C.senvcfg]);
/** Hypervisor and VS CSRs (privilege level 2). */
const H_CSRS = new Set<number>([
  C.hstatus, C.hedeleg, C.hideleg, C.hie, C.htimedelta, C.hcounteren, C.hgeie, C.henvcfg, C.htval, C.hip, C.hvip,
  C.htinst, C.hgatp, C.hgeip, ...[...HAS_VS].map((c) => c + 0x100),
]);

function illegal(h: Hart, raw: number): never {
  throw h.raise(Cause.IllegalInstruction, BigInt(raw >>> 0));
}
function virtualInsn(h: Hart, raw: number): never {
  throw h.raise(Cause.VirtualInstruction, BigInt(raw >>> 0));
}

/** henvcfg as read: STCE is read-only zero while menvcfg.STCE is zero. */
export function henvcfgOf(h: Hart): bigint {
  return h.hyp.henvcfg & ((h.menvcfg & ENVCFG_STCE) | ~ENVCFG_STCE);
}

/** Whether HS-mode may access the (v)stimecmp CSR: Sstc enabled by menvcfg.STCE and mcounteren.TM. */
function timecmpForHS(h: Hart): boolean {
  return (h.mcounteren & COUNTEREN_TM) !== 0 && (h.menvcfg & ENVCFG_STCE) !== 0n;
}

/**
 * Access checks of H for an instruction at the current privilege. Returns the CSR to access (an S CSR becomes its
 * VS counterpart when V=1); throws illegal-instruction or virtual-instruction exceptions.
 */
function route(h: Hart, csr: number, raw: number, write: boolean): number {
  const level = (csr >>> 8) & 3;
  if (write && (csr >>> 10) === 3) illegal(h, raw); // read-only, in every mode
  if (!h.virt) {
    if (level === 2) {
      if (h.priv === 0 || !H_CSRS.has(csr)) illegal(h, raw);
      if (h.priv === 1 && csr === C.hgatp && (h.mstatus & (1 << 20))) illegal(h, raw); // mstatus.TVM
      if (h.priv === 1 && csr === C.vstimecmp && !timecmpForHS(h)) illegal(h, raw);
    }
    return csr;
  }
  // V=1: VS-mode (priv 1) or VU-mode (priv 0). An access that HS-mode could make (taking mstatus.TVM as 0) but
  // V=1 may not is a virtual-instruction exception; anything else not allowed is an illegal instruction.
  if (level === 3) return csr; // M-level: illegal, as csrRead/csrWrite find
  if (level === 2) {
    if (H_CSRS.has(csr) && (csr !== C.vstimecmp || timecmpForHS(h))) virtualInsn(h, raw);
    illegal(h, raw);
  }
  if (level === 1) {
    if (!S_CSRS.has(csr) || (csr === C.stimecmp && !timecmpForHS(h))) illegal(h, raw);
    if (h.priv === 0) virtualInsn(h, raw);
    if (csr === C.satp && (h.hyp.hstatus & HSTATUS.VTVM)) virtualInsn(h, raw);
    if (csr === C.stimecmp && (!(h.hyp.hcounteren & COUNTEREN_TM) || !(henvcfgOf(h) & ENVCFG_STCE))) virtualInsn(h, raw);
    return HAS_VS.has(csr) ? csr + 0x100 : csr;
  }
  // User level: FP CSRs need FS on in both sstatus and vsstatus (always illegal, never virtual); counters need
  // mcounteren (else illegal), then hcounteren and, in VU-mode, scounteren (else virtual instruction).
  if (csr >= C.fflags && csr <= C.fcsr) {
    if ((h.vsstatus & FS) === 0 || (h.mstatus & FS) === 0) illegal(h, raw);
    if (write) h.vsstatus |= FS;
  } else if (csr >= C.cycle && csr <= C.hpmcounter18) {
    const bit = 1 << (csr - C.cycle);
    if (!(h.mcounteren & bit)) illegal(h, raw);
    if (!(h.hyp.hcounteren & bit) || (h.priv === 0 && !(h.scounteren & bit))) virtualInsn(h, raw);
  }
  return csr;
}

function readVsstatus(h: Hart): bigint {
  const s = h.vsstatus;
  const dirty = (s & FS) === FS || (s & VS) === VS;
  return BigInt(s >>> 0) | VSSTATUS_UXL | (dirty ? 1n << 63n : 0n);
}

/** CSR read with H implemented; undefined when csrRead handles the CSR as without H. */
export function hCsrRead(h: Hart, csr: number, raw: number): bigint | undefined {
  csr = route(h, csr, raw, false);
  const y = h.hyp;
  switch (csr) {
    case C.time: return h.virt ? (h.readTime() + y.htimedelta) & M64 : undefined;
    case C.misa: return h.priv === 3 ? h.misa | MISA_H : undefined;
    case C.mstatus:
      if (h.priv !== 3) return undefined;
      return readMstatus(h) | (y.mpv ? 1n << 39n : 0n) | (y.mgva ? 1n << 38n : 0n);
    case C.mideleg: return h.priv === 3 ? BigInt((h.mideleg & S_INTS) | HS_INTS) : undefined;
    case C.mtval2: return h.priv === 3 ? y.mtval2 : undefined;
    case C.mtinst: return h.priv === 3 ? y.mtinst : undefined;
    case C.hstatus: return BigInt(y.hstatus) | HSTATUS_VSXL;
    case C.hedeleg: return BigInt(y.hedeleg);
    case C.hideleg: return BigInt(y.hideleg);
    case C.hie: return BigInt(h.mie & HS_INTS);
    case C.hip: return BigInt(readMip(h) & HS_INTS);
    case C.hvip: return BigInt(y.hvip);
    case C.htimedelta: return y.htimedelta;
    case C.hcounteren: return BigInt(y.hcounteren >>> 0);
    case C.hgeie: case C.hgeip: return 0n;
    case C.henvcfg: return henvcfgOf(h);
    case C.htval: return y.htval;
    case C.htinst: return y.htinst;
    case C.hgatp: return y.hgatp;
    case C.vsstatus: return readVsstatus(h);
    case C.vsie: return BigInt((h.mie & y.hideleg & VS_INTS) >>> 1);
    case C.vsip: return BigInt((readMip(h) & y.hideleg & VS_INTS) >>> 1);
    case C.vstvec: return y.vstvec;
    case C.vsscratch: return y.vsscratch;
    case C.vsepc: return y.vsepc;
    case C.vscause: return y.vscause;
    case C.vstval: return y.vstval;
    case C.vsatp: return y.vsatp;
    case C.vstimecmp: return y.vstimecmp;
  }
  return undefined;
}

/** satp/vsatp MODE values implemented: Bare, Sv39, Sv48, Sv57. */
function pagingMode(mode: number): boolean {
  return mode === 0 || mode === 8 || mode === 9 || mode === 10;
}

/** CSR write with H implemented; false when csrWrite handles the CSR as without H. */
export function hCsrWrite(h: Hart, csr: number, v: bigint, raw: number): boolean {
  csr = route(h, csr, raw, true);
  v &= M64;
  const lo = Number(v & 0xffffffffn) | 0;
  const y = h.hyp;
  switch (csr) {
    case C.mstatus: {
      if (h.priv !== 3) return false;
      const mpv = ((v >> 39n) & 1n) === 1n;
      if (mpv !== y.mpv) h.flushTlb(); // MPRV with MPV=1 translates in two stages
      y.mpv = mpv;
      y.mgva = ((v >> 38n) & 1n) === 1n;
      return false; // the low bits as without H
    }
    case C.medeleg: if (h.priv !== 3) return false; h.medeleg = lo & MEDELEG_WRITABLE; return true;
    case C.mie: if (h.priv !== 3) return false; h.mie = lo & (S_INTS | M_INTS | HS_INTS); return true;
    case C.mip: {
      if (h.priv !== 3) return false;
      // As without H (SSIP, SEIP, and STIP unless Sstc drives it), plus VSSIP (hvip.VSSIP); VSTIP/VSEIP are
      // read-only here (they come from hvip and vstimecmp).
      const mask = (1 << 1) | (1 << 9) | ((h.menvcfg & ENVCFG_STCE) ? 0 : 1 << 5);
      h.mipSw = (h.mipSw & ~mask) | (lo & mask);
      y.hvip = (y.hvip & ~4) | (lo & 4);
      return true;
    }
    case C.mtval2: if (h.priv !== 3) return false; y.mtval2 = v; return true;
    case C.mtinst: if (h.priv !== 3) return false; y.mtinst = v; return true;
    case C.hstatus: y.hstatus = lo & HSTATUS_WRITABLE; return true;
    case C.hedeleg: y.hedeleg = lo & HEDELEG_WRITABLE; return true;
    case C.hideleg: y.hideleg = lo & VS_INTS; return true;
    case C.hie: h.mie = (h.mie & ~HS_INTS) | (lo & HS_INTS); return true;
    case C.hip: y.hvip = (y.hvip & ~4) | (lo & 4); return true; // only VSSIP is writable
    case C.hvip: y.hvip = lo & VS_INTS; return true;
    case C.htimedelta: y.htimedelta = v; return true;
    case C.hcounteren: y.hcounteren = lo; return true;
    case C.hgeie: return true; // GEILEN = 0
    case C.henvcfg: y.henvcfg = v & (ENVCFG_STCE | ENVCFG_FIOM); return true;
    case C.htval: y.htval = v; return true;
    case C.htinst: y.htinst = v; return true;
    case C.hgatp: {
      // WARL: an unsupported MODE becomes Bare; 14 VMID bits; the root table is 16 KiB aligned (PPN[1:0] = 0).
      let mode = Number(v >> 60n);
      if (!pagingMode(mode)) mode = 0;
      y.hgatp = (BigInt(mode) << 60n) | (v & (0x3fffn << 44n)) | (v & 0xffffffffffcn);
      h.flushTlb();
      y.flushGcache();
      return true;
    }
    case C.vsstatus: {
      const s = (h.vsstatus & ~SSTATUS_MASK) | (lo & SSTATUS_MASK);
      if ((s ^ h.vsstatus) & (SUM | MXR)) h.flushTlb();
      h.vsstatus = s;
      return true;
    }
    case C.vsie: {
      const mask = y.hideleg & VS_INTS;
      h.mie = (h.mie & ~mask) | ((lo << 1) & mask);
      return true;
    }
    case C.vsip: if (y.hideleg & 4) y.hvip = (y.hvip & ~4) | ((lo << 1) & 4); return true;
    case C.vstvec: if (Number(v & 3n) < 2) y.vstvec = v; return true;
    case C.vsscratch: y.vsscratch = v; return true;
    case C.vsepc: y.vsepc = v & ~1n; return true;
    case C.vscause: y.vscause = v; return true;
    case C.vstval: y.vstval = v; return true;
    case C.vsatp:
      // As for satp, a write selecting an unsupported MODE is ignored (V=1 requires it; V=0 may do it).
      if (!pagingMode(Number(v >> 60n))) return true;
      y.vsatp = v;
      h.flushTlb();
      return true;
    case C.vstimecmp: y.vstimecmp = v; return true;
  }
  return false;
}

/** hip bits for readMip: hvip, and VSTIP from vstimecmp (time + htimedelta) when henvcfg.STCE is on. */
export function hMipBits(h: Hart): number {
  const y = h.hyp;
  // STCE is bit 63: comparisons test it without BigInt arithmetic (this runs at every interrupt check).
  if (y.henvcfg < ENVCFG_STCE || h.menvcfg < ENVCFG_STCE) return y.hvip;
  return ((h.readTime() + y.htimedelta) & M64) >= y.vstimecmp ? y.hvip | (1 << 6) : y.hvip;
}

/** When (in time ticks) the vstimecmp timer makes hip.VSTIP pending, for a hart waiting in WFI; all ones if never. */
export function vstimecmpDeadline(h: Hart): bigint {
  if (!h.hext || !(h.mie & (1 << 6)) || !(henvcfgOf(h) & ENVCFG_STCE)) return M64;
  return (h.hyp.vstimecmp - h.hyp.htimedelta) & M64;
}
