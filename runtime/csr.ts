// Control and status registers: access checks, WARL legalisation and side effects.
import { Hart, Priv } from './hart.js';
import { Cause, Irq } from './trap.js';
import { updatePmp } from './mmu.js';
import { hCsrRead, hCsrWrite, hMipBits } from './hcsr.js';

const M64 = 0xffffffffffffffffn;
export const MSTATUS = {
  SIE: 1 << 1, MIE: 1 << 3, SPIE: 1 << 5, MPIE: 1 << 7, SPP: 1 << 8, VS: 3 << 9, MPP: 3 << 11, FS: 3 << 13,
  MPRV: 1 << 17, SUM: 1 << 18, MXR: 1 << 19, TVM: 1 << 20, TW: 1 << 21, TSR: 1 << 22,
};
// VS is writable without the V extension: the spec allows it and QEMU 7.2 does it.
const MSTATUS_WRITABLE = MSTATUS.SIE | MSTATUS.MIE | MSTATUS.SPIE | MSTATUS.MPIE | MSTATUS.SPP | MSTATUS.VS | MSTATUS.MPP |
  MSTATUS.FS | MSTATUS.MPRV | MSTATUS.SUM | MSTATUS.MXR | MSTATUS.TVM | MSTATUS.TW | MSTATUS.TSR;
const SSTATUS_MASK = MSTATUS.SIE | MSTATUS.SPIE | MSTATUS.SPP | MSTATUS.VS | MSTATUS.FS | MSTATUS.SUM | MSTATUS.MXR;
/** UXL = SXL = 64-bit. */
const MSTATUS_XL = 0xa00000000n;
const SSTATUS_UXL = 0x200000000n;

const S_INTS = (1 << Irq.SSI) | (1 << Irq.STI) | (1 << Irq.SEI);
const M_INTS = (1 << Irq.MSI) | (1 << Irq.MTI) | (1 << Irq.MEI);
const MEDELEG_WRITABLE = 0xb3ff; // causes 0-9, 12, 13, 15
const MENVCFG_STCE = 1n << 63n;
/** marchid and mimpid: those of the QEMU 7.2 virt machine we are compatible with, so probes agree with it. */
const MACHINE_ID = 0x70216n;

export const CSR = {
  fflags: 0x001, frm: 0x002, fcsr: 0x003,
  sstatus: 0x100, sie: 0x104, stvec: 0x105, scounteren: 0x106, senvcfg: 0x10a,
  sscratch: 0x140, sepc: 0x141, scause: 0x142, stval: 0x143, sip: 0x144, stimecmp: 0x14d, satp: 0x180,
  mstatus: 0x300, misa: 0x301, medeleg: 0x302, mideleg: 0x303, mie: 0x304, mtvec: 0x305, mcounteren: 0x306,
  menvcfg: 0x30a, mcountinhibit: 0x320, mscratch: 0x340, mepc: 0x341, mcause: 0x342, mtval: 0x343, mip: 0x344,
  pmpcfg0: 0x3a0, pmpaddr0: 0x3b0,
  mcycle: 0xb00, minstret: 0xb02, cycle: 0xc00, time: 0xc01, instret: 0xc02,
  mvendorid: 0xf11, marchid: 0xf12, mimpid: 0xf13, mhartid: 0xf14, mconfigptr: 0xf15,
  vsstatus: 0x200, vsie: 0x204, vstvec: 0x205, vsscratch: 0x240, vsepc: 0x241, vscause: 0x242, vstval: 0x243,
  vsip: 0x244, vstimecmp: 0x24d, vsatp: 0x280,
  hstatus: 0x600, hedeleg: 0x602, hideleg: 0x603, hie: 0x604, htimedelta: 0x605, hcounteren: 0x606, hgeie: 0x607,
  henvcfg: 0x60a, htval: 0x643, hip: 0x644, hvip: 0x645, htinst: 0x64a, hgatp: 0x680,
} as const;

export function readMstatus(h: Hart): bigint {
  const dirty = (h.mstatus & MSTATUS.FS) === MSTATUS.FS || (h.mstatus & MSTATUS.VS) === MSTATUS.VS;
  return BigInt(h.mstatus >>> 0) | MSTATUS_XL | (dirty ? 1n << 63n : 0n);
}

/** Effective mip: software-written bits plus device lines, with STIP from stimecmp under Sstc. */
export function readMip(h: Hart): number {
  let mip = h.mipSw | h.irqLines;
  if (h.menvcfg & MENVCFG_STCE) {
    mip &= ~(1 << Irq.STI);
    if (h.readTime() >= h.stimecmp) mip |= 1 << Irq.STI;
  }
  if (h.hext) mip |= hMipBits(h);
  return mip;
}

function illegal(h: Hart, raw: number): never {
  throw h.raise(Cause.IllegalInstruction, BigInt(raw >>> 0));
}

function counterAllowed(h: Hart, bit: number): boolean {
  if (h.priv === Priv.M) return true;
  if (!((h.mcounteren >>> bit) & 1)) return false;
  return h.priv === Priv.S || ((h.scounteren >>> bit) & 1) === 1;
}

function legalPmpcfg(v: number): number {
  // R=0,W=1 is reserved: QEMU keeps the write as is; we do too.
  return v & 0x9f;
}

function writePmpcfg(h: Hart, index: number, v: bigint): void {
  for (let k = 0; k < 8; k++) {
    const i = index + k;
    if (h.pmpcfg[i] & 0x80) continue;
    h.pmpcfg[i] = legalPmpcfg(Number((v >> BigInt(8 * k)) & 0xffn));
  }
  updatePmp(h);
}

function writePmpaddr(h: Hart, i: number, v: bigint): void {
  if (h.pmpcfg[i] & 0x80) return;
  if (i < 15 && (h.pmpcfg[i + 1] & 0x80) && ((h.pmpcfg[i + 1] >> 3) & 3) === 1) return;
  h.pmpaddr[i] = v & 0x3fffffffffffffn;
  updatePmp(h);
}

/**
 * Read a CSR for an instruction at the current privilege, checking access. `raw` is the instruction bits,
 * reported as tval when the access is illegal.
 */
export function csrRead(h: Hart, csr: number, raw: number): bigint {
  if (h.hext) {
    const v = hCsrRead(h, csr, raw); // runtime/hcsr.ts: V=1 access rules, H and VS CSRs
    if (v !== undefined) return v;
  }
  const minPriv = (csr >>> 8) & 3;
  if (h.priv < minPriv) illegal(h, raw);
  switch (csr) {
    case CSR.fflags: fpAllowed(h, raw); return BigInt(h.fflags);
    case CSR.frm: fpAllowed(h, raw); return BigInt(h.frm);
    case CSR.fcsr: fpAllowed(h, raw); return BigInt((h.frm << 5) | h.fflags);
    case CSR.cycle: if (!counterAllowed(h, 0)) illegal(h, raw); return BigInt(h.instret + h.cycleOffset);
    case CSR.time: if (!counterAllowed(h, 1)) illegal(h, raw); return h.readTime();
    case CSR.instret: if (!counterAllowed(h, 2)) illegal(h, raw); return BigInt(h.instret);
    case CSR.sstatus: return readMstatus(h) & (BigInt(SSTATUS_MASK) | SSTATUS_UXL | (1n << 63n));
    case CSR.sie: return BigInt(h.mie & h.mideleg);
    case CSR.stvec: return h.stvec;
    case CSR.scounteren: return BigInt(h.scounteren >>> 0);
    case CSR.senvcfg: return h.senvcfg;
    case CSR.sscratch: return h.sscratch;
    case CSR.sepc: return h.sepc;
    case CSR.scause: return h.scause;
    case CSR.stval: return h.stval;
    case CSR.sip: return BigInt(readMip(h) & h.mideleg);
    case CSR.stimecmp: stimecmpAllowed(h, raw); return h.stimecmp;
    case CSR.satp:
      if (h.priv === Priv.S && (h.mstatus & MSTATUS.TVM)) illegal(h, raw);
      return h.satp;
    case CSR.mstatus: return readMstatus(h);
    case CSR.misa: return h.misa;
    case CSR.medeleg: return BigInt(h.medeleg);
    case CSR.mideleg: return BigInt(h.mideleg);
    case CSR.mie: return BigInt(h.mie);
    case CSR.mtvec: return h.mtvec;
    case CSR.mcounteren: return BigInt(h.mcounteren >>> 0);
    case CSR.menvcfg: return h.menvcfg;
    case CSR.mcountinhibit: return BigInt(h.mcountinhibit >>> 0);
    case CSR.mscratch: return h.mscratch;
    case CSR.mepc: return h.mepc;
    case CSR.mcause: return h.mcause;
    case CSR.mtval: return h.mtval;
    case CSR.mip: return BigInt(readMip(h));
    case CSR.mcycle: return BigInt(h.instret + h.cycleOffset);
    case CSR.minstret: return BigInt(h.instret);
    case CSR.mvendorid: case CSR.mconfigptr: return 0n;
    case CSR.marchid: case CSR.mimpid: return MACHINE_ID;
    case CSR.mhartid: return BigInt(h.mhartid);
  }
  if (csr === CSR.pmpcfg0 || csr === CSR.pmpcfg0 + 2) {
    const base = (csr - CSR.pmpcfg0) * 4;
    let v = 0n;
    for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(h.pmpcfg[base + k]);
    return v;
  }
  if (csr >= CSR.pmpaddr0 && csr < CSR.pmpaddr0 + 16) return h.pmpaddr[csr - CSR.pmpaddr0];
  // hpmcounter3..18 (as on QEMU virt) and every mhpmevent exist and read as zero.
  if (csr >= 0xc03 && csr <= 0xc12) { if (!counterAllowed(h, csr - 0xc00)) illegal(h, raw); return 0n; }
  if ((csr >= 0xb03 && csr <= 0xb12) || (csr >= 0x323 && csr <= 0x33f)) return 0n;
  illegal(h, raw);
}

function fpAllowed(h: Hart, raw: number): void {
  if ((h.mstatus & MSTATUS.FS) === 0) illegal(h, raw);
}

function stimecmpAllowed(h: Hart, raw: number): void {
  if (h.priv === Priv.M) return;
  if (!(h.mcounteren & 2) || !(h.menvcfg & MENVCFG_STCE)) illegal(h, raw);
}

/** Write a CSR. The caller has already done csrRead (so access checks ran) unless the instruction skips the read. */
export function csrWrite(h: Hart, csr: number, v: bigint, raw: number): void {
  if (h.hext && hCsrWrite(h, csr, v, raw)) return;
  const minPriv = (csr >>> 8) & 3;
  if (h.priv < minPriv || (csr >>> 10) === 3) illegal(h, raw);
  v &= M64;
  const lo = Number(v & 0xffffffffn) | 0;
  switch (csr) {
    case CSR.fflags: fpAllowed(h, raw); h.fflags = lo & 0x1f; h.mstatus |= MSTATUS.FS; return;
    case CSR.frm: fpAllowed(h, raw); h.frm = lo & 7; h.mstatus |= MSTATUS.FS; return;
    case CSR.fcsr: fpAllowed(h, raw); h.fflags = lo & 0x1f; h.frm = (lo >> 5) & 7; h.mstatus |= MSTATUS.FS; return;
    case CSR.sstatus: writeMstatus(h, (h.mstatus & ~SSTATUS_MASK) | (lo & SSTATUS_MASK)); return;
    case CSR.sie: h.mie = (h.mie & ~h.mideleg) | (lo & h.mideleg & S_INTS); return;
    case CSR.stvec: if (Number(v & 3n) < 2) h.stvec = v; return;
    case CSR.scounteren: h.scounteren = lo; return;
    case CSR.senvcfg: h.senvcfg = v & 1n; return;
    case CSR.sscratch: h.sscratch = v; return;
    case CSR.sepc: h.sepc = v & ~1n; return;
    case CSR.scause: h.scause = v; return;
    case CSR.stval: h.stval = v; return;
    case CSR.sip: {
      const mask = h.mideleg & (1 << Irq.SSI);
      h.mipSw = (h.mipSw & ~mask) | (lo & mask);
      return;
    }
    case CSR.stimecmp: stimecmpAllowed(h, raw); h.stimecmp = v; return;
    case CSR.satp: {
      if (h.priv === Priv.S && (h.mstatus & MSTATUS.TVM)) illegal(h, raw);
      const mode = Number(v >> 60n);
      if (mode !== 0 && mode !== 8 && mode !== 9 && mode !== 10) return;
      h.satp = v; // MODE, a 16-bit ASID and PPN fill all 64 bits
      h.flushTlb();
      return;
    }
    case CSR.mstatus: writeMstatus(h, (h.mstatus & ~MSTATUS_WRITABLE) | (lo & MSTATUS_WRITABLE)); return;
    case CSR.misa: return;
    case CSR.medeleg: h.medeleg = lo & MEDELEG_WRITABLE; return;
    case CSR.mideleg: h.mideleg = lo & S_INTS; return;
    case CSR.mie: h.mie = lo & (S_INTS | M_INTS); return;
    case CSR.mtvec: if (Number(v & 3n) < 2) h.mtvec = v; return;
    case CSR.mcounteren: h.mcounteren = lo; return;
    case CSR.menvcfg: h.menvcfg = v & (MENVCFG_STCE | 1n); return;
    case CSR.mcountinhibit: h.mcountinhibit = lo & ~2; return;
    case CSR.mscratch: h.mscratch = v; return;
    case CSR.mepc: h.mepc = v & ~1n; return;
    case CSR.mcause: h.mcause = v; return;
    case CSR.mtval: h.mtval = v; return;
    case CSR.mip: {
      const mask = (1 << Irq.SSI) | (1 << Irq.SEI) | ((h.menvcfg & MENVCFG_STCE) ? 0 : 1 << Irq.STI);
      h.mipSw = (h.mipSw & ~mask) | (lo & mask);
      return;
    }
    case CSR.mcycle: h.cycleOffset = Number(v) - h.instret; return;
    case CSR.minstret: {
      // The writing instruction's own retirement follows; mcycle must not move with instret.
      const delta = Number(v) - 1 - h.instret;
      h.instret += delta;
      h.cycleOffset -= delta;
      return;
    }
  }
  if (csr === CSR.pmpcfg0 || csr === CSR.pmpcfg0 + 2) { writePmpcfg(h, (csr - CSR.pmpcfg0) * 4, v); return; }
  if (csr >= CSR.pmpaddr0 && csr < CSR.pmpaddr0 + 16) { writePmpaddr(h, csr - CSR.pmpaddr0, v); return; }
  if ((csr >= 0xb03 && csr <= 0xb12) || (csr >= 0x323 && csr <= 0x33f)) return;
  illegal(h, raw);
}

function writeMstatus(h: Hart, v: number): void {
  // MPP is WARL: the reserved value 2 is not kept.
  if (((v >>> 11) & 3) === 2) v = (v & ~MSTATUS.MPP) | (h.mstatus & MSTATUS.MPP);
  const changed = h.mstatus ^ v;
  h.mstatus = v;
  if (changed & (MSTATUS.MPRV | MSTATUS.MPP | MSTATUS.SUM | MSTATUS.MXR)) h.flushTlb();
}

