// Privilege transitions with the hypervisor extension: trap entry delegated M -> HS -> VS, interrupt selection
// over M-, HS- and VS-level interrupts, and mret/sret restoring V. runtime/privilege.ts calls in here when H is
// implemented; without H it keeps its own (unchanged) paths.
import type { Hart } from './hart.js';
import { Access, TRAP } from './trap.js';
import { readMip } from './csr.js';
import { HSTATUS, HS_INTS, VS_INTS } from './hcsr.js';
import { translate } from './mmu.js';
import { expandRVC } from './rvc.js';

const M64 = 0xffffffffffffffffn;
const INTERRUPT_BIT = 1n << 63n;
const SIE = 1 << 1, MIE = 1 << 3, SPIE = 1 << 5, MPIE = 1 << 7, SPP = 1 << 8, MPP = 3 << 11, MPRV = 1 << 17;
/** Exceptions that write a virtual address to xtval: a guest virtual address when taken from V=1 or by HLV/HSV. */
const ADDRESS_CAUSES = (1 << 0) | (1 << 1) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 12) | (1 << 13) |
  (1 << 15) | (1 << 20) | (1 << 21) | (1 << 23);
/** Exceptions of explicit memory accesses: mtinst/htinst get the transformed instruction. */
const ACCESS_CAUSES = (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 13) | (1 << 15) | (1 << 21) | (1 << 23);
/** Decreasing priority: MEI, MSI, MTI, SEI, SSI, STI, SGEI, VSEI, VSSI, VSTI. */
const IRQ_PRIORITY = [11, 3, 7, 9, 1, 5, 12, 10, 2, 6];

/** The instruction bits at the pc, fetched as the trapping mode would (0 if that fails). */
function fetchInsn(h: Hart): number {
  try {
    const lo = h.pcLo, hi = h.pcHi;
    const off = h.bus.ramOffset(translate(h, lo, hi, 2, Access.Exec), 2);
    if (off < 0) return 0;
    const lo16 = h.ram16[off >>> 1];
    if ((lo16 & 3) !== 3) return lo16;
    if ((lo & 0xfff) !== 0xffe) return lo16 | (h.ram16[(off + 2) >>> 1] << 16);
    const lo2 = (lo + 2) | 0, hi2 = (hi + (lo2 === 0 ? 1 : 0)) | 0;
    const off2 = h.bus.ramOffset(translate(h, lo2, hi2, 2, Access.Exec), 2);
    return off2 < 0 ? 0 : lo16 | (h.ram16[off2 >>> 1] << 16);
  } catch (e) {
    if (e === TRAP) return 0;
    throw e;
  }
}

/**
 * The transformed instruction for mtinst/htinst of an explicit memory access that faulted at address `tval`:
 * loads keep opcode, rd and funct3; stores opcode, rs2 and funct3; atomics and HLV/HSV every field; the rs1 field
 * becomes the offset of the faulting address from the access's start (non-zero only for misaligned accesses); the
 * immediate fields become zero; a compressed instruction is expanded first and then has bit 1 cleared.
 */
export function transformedInsn(h: Hart, raw: number, tval: bigint): bigint {
  const compressed = (raw & 3) !== 3;
  const w = compressed ? expandRVC(raw & 0xffff) : raw;
  if (w === 0) return 0n;
  const opcode = w & 0x7f;
  let start = h.getX((w >>> 15) & 31), kept: number;
  if (opcode === 0x03 || opcode === 0x07) {
    kept = w & 0x7fff;
    start += BigInt(w >> 20);
  } else if (opcode === 0x23 || opcode === 0x27) {
    kept = w & 0x01f0707f;
    start += BigInt(((w >> 25) << 5) | ((w >>> 7) & 31));
  } else if (opcode === 0x2f || (opcode === 0x73 && ((w >>> 12) & 7) === 4)) {
    kept = w & ~(31 << 15);
  } else {
    return 0n;
  }
  const offset = (tval - start) & M64;
  let t = kept | (offset < 32n ? Number(offset) << 15 : 0);
  if (compressed) t &= ~2;
  return BigInt(t >>> 0);
}

/** Enter the trap handler (M, HS or VS); the hart's pc is the trapping instruction's. */
export function hTakeTrap(h: Hart, cause: number, tval: bigint, interrupt: boolean): void {
  const pc = h.pc, virt = h.virt, priv = h.priv, hlv = h.hlv;
  const gpa = h.trapGpa, pseudo = h.trapTinst;
  h.hlv = 0;
  const y = h.hyp;
  const toHS = priv <= 1 && (((interrupt ? h.mideleg | HS_INTS : h.medeleg) >>> cause) & 1) === 1;
  const toVS = toHS && virt && (((interrupt ? y.hideleg : y.hedeleg) >>> cause) & 1) === 1;
  // Firmware written in TypeScript (the built-in SBI) stands in for M-mode trap handlers.
  if (!toHS && h.machineTrapHandler?.(cause, tval, interrupt)) { h.flushTlb(); return; }
  h.resValid = false; // as on QEMU, any trap drops an LR reservation
  // tval holds a guest virtual address for address traps from V=1, of HLV/HSV, and of M-mode loads and stores
  // translated as though V=1 (MPRV=1, MPV=1, MPP not M).
  const mprvGuest = priv === 3 && (h.mstatus & MPRV) !== 0 && y.mpv && ((h.mstatus >>> 11) & 3) !== 3 &&
    ((ACCESS_CAUSES >>> cause) & 1) === 1;
  const gva = !interrupt && ((ADDRESS_CAUSES >>> cause) & 1) === 1 && (virt || hlv !== 0 || mprvGuest);
  // The transformed instruction only for accesses made as though V=1, where a hypervisor may emulate them (zero
  // is always allowed): other faults, such as an OS's own page faults, cost no second look at the instruction.
  let tinst = 0n;
  if (!interrupt && !toVS) {
    if (pseudo) tinst = BigInt(pseudo);
    else if (((ACCESS_CAUSES >>> cause) & 1) && (virt || hlv !== 0 || mprvGuest)) tinst = transformedInsn(h, fetchInsn(h), tval);
  }
  const tval2 = gpa >= 0n ? gpa >> 2n : 0n;
  let vector = cause;
  let s = h.mstatus;
  let tvec: bigint;
  if (toVS) {
    // VS-level interrupts arrive in VS-mode as the corresponding S-level ones.
    if (interrupt && ((VS_INTS >>> cause) & 1)) vector = cause - 1;
    y.vsepc = pc; y.vscause = BigInt(vector) | (interrupt ? INTERRUPT_BIT : 0n); y.vstval = tval;
    const vs = h.vsstatus;
    h.vsstatus = (vs & ~(SPIE | SPP | SIE)) | ((vs & SIE) ? SPIE : 0) | (priv << 8);
    h.priv = 1;
    tvec = y.vstvec;
  } else if (toHS) {
    h.sepc = pc; h.scause = BigInt(cause) | (interrupt ? INTERRUPT_BIT : 0n); h.stval = tval;
    y.htval = tval2; y.htinst = tinst;
    let hs = y.hstatus & ~(HSTATUS.SPV | HSTATUS.GVA);
    if (virt) hs = (hs & ~HSTATUS.SPVP) | HSTATUS.SPV | (priv === 1 ? HSTATUS.SPVP : 0);
    if (gva) hs |= HSTATUS.GVA;
    y.hstatus = hs;
    s = (s & ~(SPIE | SPP | SIE)) | ((s & SIE) ? SPIE : 0) | (priv << 8);
    h.priv = 1; h.virt = false;
    tvec = h.stvec;
  } else {
    h.mepc = pc; h.mcause = BigInt(cause) | (interrupt ? INTERRUPT_BIT : 0n); h.mtval = tval;
    y.mtval2 = tval2; y.mtinst = tinst;
    y.mpv = virt; y.mgva = gva;
    s = (s & ~(MPIE | MPP | MIE)) | ((s & MIE) ? MPIE : 0) | (priv << 11);
    h.priv = 3; h.virt = false;
    tvec = h.mtvec;
  }
  h.mstatus = s;
  const base = tvec & ~3n;
  h.pc = interrupt && (tvec & 1n) ? base + 4n * BigInt(vector) : base;
  h.flushTlb();
  if (toHS && !toVS && h.hypervisorTrapHandler) h.hypervisorTrapHandler();
}

function highest(bits: number): number {
  for (const irq of IRQ_PRIORITY) if ((bits >>> irq) & 1) return irq;
  return -1;
}

/**
 * The interrupt to take now, or -1: M-level interrupts before HS-level before VS-level ones. HS-level interrupts
 * are enabled in V=1 modes and U-mode, and in HS-mode with sstatus.SIE; VS-level ones (delegated by hideleg) only
 * when V=1: in VU-mode, and in VS-mode with vsstatus.SIE.
 */
export function hPendingInterrupt(h: Hart): number {
  const pending = readMip(h) & h.mie;
  if (pending === 0) return -1;
  const mideleg = h.mideleg | HS_INTS, hideleg = h.hyp.hideleg;
  const m = pending & ~mideleg;
  if (m && (h.priv < 3 || (h.mstatus & MIE))) return highest(m);
  const hs = pending & mideleg & ~hideleg;
  if (hs && (h.virt || h.priv === 0 || (h.priv === 1 && (h.mstatus & SIE)))) return highest(hs);
  const vs = pending & mideleg & hideleg;
  if (vs && h.virt && (h.priv === 0 || (h.vsstatus & SIE))) return highest(vs);
  return -1;
}

/** mret (fromM) and sret: return to the privilege and virtualization mode saved at trap entry. */
export function hTrapReturn(h: Hart, fromM: boolean): void {
  const y = h.hyp;
  let s = h.mstatus;
  let target: number, virt: boolean;
  if (fromM) {
    target = (s >>> 11) & 3;
    virt = target !== 3 && y.mpv;
    y.mpv = false;
    s = (s & ~(MIE | MPP)) | ((s & MPIE) ? MIE : 0) | MPIE;
    h.pc = h.mepc;
  } else if (h.virt) {
    // sret in VS-mode: vsstatus and vsepc; V stays 1.
    const vs = h.vsstatus;
    target = (vs >>> 8) & 1;
    h.vsstatus = (vs & ~(SIE | SPP)) | ((vs & SPIE) ? SIE : 0) | SPIE;
    virt = true;
    h.pc = y.vsepc;
  } else {
    target = (s >>> 8) & 1;
    virt = (y.hstatus & HSTATUS.SPV) !== 0;
    y.hstatus &= ~HSTATUS.SPV;
    s = (s & ~(SIE | SPP)) | ((s & SPIE) ? SIE : 0) | SPIE;
    h.pc = h.sepc;
  }
  if (target !== 3) s &= ~MPRV;
  h.mstatus = s;
  h.resValid = false; // as on QEMU, xRET drops an LR reservation
  h.priv = target;
  h.virt = virt;
  h.flushTlb();
}
