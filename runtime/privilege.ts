// Privilege transitions: trap entry, interrupt selection, mret/sret.

import type { Hart } from './hart.js';
import { readMip, MSTATUS } from './csr.js';
import { Irq } from './trap.js';
import { hPendingInterrupt, hTakeTrap, hTrapReturn } from './htrap.js';

const INTERRUPT_BIT = 1n << 63n;
/** Highest priority first, as the privileged spec orders them. */
const IRQ_PRIORITY = [Irq.MEI, Irq.MSI, Irq.MTI, Irq.SEI, Irq.SSI, Irq.STI];

/** Enter the trap handler for an exception or interrupt; the hart's pc is the trapping instruction's. */
export function takeTrap(h: Hart, cause: number, tval: bigint, interrupt: boolean): void {
  if (h.hext) { hTakeTrap(h, cause, tval, interrupt); return; } // runtime/htrap.ts
  const pc = h.pc;
  const deleg = interrupt ? h.mideleg : h.medeleg;
  const toS = h.priv <= 1 && ((deleg >>> cause) & 1) === 1;
  // Firmware written in TypeScript (the built-in SBI) stands in for M-mode trap handlers.
  if (!toS && h.machineTrapHandler?.(cause, tval, interrupt)) { h.flushTlb(); return; }
  const causeValue = BigInt(cause) | (interrupt ? INTERRUPT_BIT : 0n);
  h.resValid = false; // as on QEMU, any trap drops an LR reservation
  let s = h.mstatus;
  let tvec: bigint;
  if (toS) {
    h.sepc = pc; h.scause = causeValue; h.stval = tval;
    s = (s & ~(MSTATUS.SPIE | MSTATUS.SPP | MSTATUS.SIE)) | ((s & MSTATUS.SIE) ? MSTATUS.SPIE : 0) | (h.priv << 8);
    h.priv = 1;
    tvec = h.stvec;
  } else {
    h.mepc = pc; h.mcause = causeValue; h.mtval = tval;
    s = (s & ~(MSTATUS.MPIE | MSTATUS.MPP | MSTATUS.MIE)) | ((s & MSTATUS.MIE) ? MSTATUS.MPIE : 0) | (h.priv << 11);
    h.priv = 3;
    tvec = h.mtvec;
  }
  h.mstatus = s;
  const base = tvec & ~3n;
  h.pc = interrupt && (tvec & 1n) ? base + 4n * BigInt(cause) : base;
  h.flushTlb();
}

/** The interrupt to take now, or -1. */
export function pendingInterrupt(h: Hart): number {
  if (h.hext) return hPendingInterrupt(h);
  const pending = readMip(h) & h.mie;
  if (pending === 0) return -1;
  const mEnabled = h.priv < 3 || (h.mstatus & MSTATUS.MIE) !== 0;
  const sEnabled = h.priv < 1 || (h.priv === 1 && (h.mstatus & MSTATUS.SIE) !== 0);
  for (const irq of IRQ_PRIORITY) {
    const bit = 1 << irq;
    if (!(pending & bit)) continue;
    if (h.mideleg & bit ? sEnabled : mEnabled) return irq;
  }
  return -1;
}

/** mret and sret: return to the privilege saved in xPP. */
export function trapReturn(h: Hart, fromM: boolean): void {
  if (h.hext) { hTrapReturn(h, fromM); return; }
  let s = h.mstatus;
  let target: number;
  if (fromM) {
    target = (s >>> 11) & 3;
    s = (s & ~(MSTATUS.MIE | MSTATUS.MPP)) | ((s & MSTATUS.MPIE) ? MSTATUS.MIE : 0) | MSTATUS.MPIE;
    h.pc = h.mepc;
  } else {
    target = (s >>> 8) & 1;
    s = (s & ~(MSTATUS.SIE | MSTATUS.SPP)) | ((s & MSTATUS.SPIE) ? MSTATUS.SIE : 0) | MSTATUS.SPIE;
    h.pc = h.sepc;
  }
  if (target !== 3) s &= ~MSTATUS.MPRV;
  h.mstatus = s;
  h.resValid = false; // as on QEMU, xRET drops an LR reservation
  h.priv = target;
  h.flushTlb();
}
