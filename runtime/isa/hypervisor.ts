// Hypervisor extension instructions: virtual-machine loads and stores (HLV, HLVX, HSV) and the hypervisor
// memory-management fences (HFENCE.VVMA, HFENCE.GVMA), with the helpers their templates call.
// Without H (h.hext false) every one of them is an illegal instruction, as it was before H existed.
import { def, InsnDef, OP } from './types.js';
import { setW, setPair } from './snippets.js';
import { Hart, loadSlow, load64Slow, storeSlow, store64Slow } from '../hart.js';
import { Cause } from '../trap.js';

const HSTATUS_HU = 1 << 9;
const MSTATUS_TVM = 1 << 20;

function illegal(h: Hart, raw: number): never {
  throw h.raise(Cause.IllegalInstruction, BigInt(raw >>> 0));
}

/** HLV/HLVX/HSV are valid in M-mode, HS-mode, and U-mode with hstatus.HU=1; with V=1 they are virtual instructions. */
function vmAccessAllowed(h: Hart, raw: number): void {
  if (!h.hext) illegal(h, raw);
  if (h.virt) throw h.raise(Cause.VirtualInstruction, BigInt(raw >>> 0));
  if (h.priv === 0 && !(h.hyp.hstatus & HSTATUS_HU)) illegal(h, raw);
}

/**
 * HLV/HLVX: load size bytes (unsigned; 8 bytes as lo with the high word in out.hi) with two-stage translation at
 * privilege hstatus.SPVP. exec: HLVX (execute permission instead of read). The access never uses or fills the TLB;
 * a fault leaves h.hlv set for the trap entry to see (GVA=1), which clears it.
 */
export function hlv(h: Hart, lo: number, hi: number, size: number, exec: number, raw: number): number {
  vmAccessAllowed(h, raw);
  h.hlv = exec ? 2 : 1;
  const v = size === 8 ? load64Slow(h, lo, hi) : loadSlow(h, lo, hi, size);
  h.hlv = 0;
  return v;
}

/** HSV: store size bytes (8: vlo, vhi) with two-stage translation at privilege hstatus.SPVP. */
export function hsv(h: Hart, lo: number, hi: number, size: number, vlo: number, vhi: number, raw: number): void {
  vmAccessAllowed(h, raw);
  h.hlv = 1;
  if (size === 8) store64Slow(h, lo, hi, vlo, vhi);
  else storeSlow(h, lo, hi, size, vlo);
  h.hlv = 0;
}

/** HFENCE.VVMA / HFENCE.GVMA: valid in M-mode and HS-mode (GVMA not with mstatus.TVM=1 in HS-mode). */
export function hfence(h: Hart, gvma: number, raw: number): void {
  if (!h.hext) illegal(h, raw);
  if (h.virt) throw h.raise(Cause.VirtualInstruction, BigInt(raw >>> 0));
  if (h.priv === 0 || (gvma && h.priv === 1 && (h.mstatus & MSTATUS_TVM))) illegal(h, raw);
  // The TLB caches whole two-stage translations; drop them all, and the G-stage cache with them.
  h.flushTlb();
  h.hyp.flushGcache();
  h.onTranslationChange();
}

const VM_LOAD = 0xfff0707f, VM_STORE = 0xfe007fff;
const vmLoad = (name: string, f7: number, rs2: number, exec: string) =>
  def(name, 'R', VM_LOAD, OP.SYSTEM | (4 << 12) | (rs2 << 20) | (f7 << 25),
    `const alo = x[$x1], ahi = x[$x1 + 1]; ${exec}`, { system: true });
const vmStore = (name: string, f7: number, size: number) =>
  def(name, 'R', VM_STORE, OP.SYSTEM | (4 << 12) | (f7 << 25),
    `hsv(h, x[$x1], x[$x1 + 1], ${size}, x[$x2], x[$x2 + 1], $raw);`, { system: true });
const unsigned = (call: string) => `x[$xd] = ${call}; x[$xd + 1] = 0;`;

export const hypervisor: InsnDef[] = [
  vmLoad('hlv.b', 0x30, 0, setW('(hlv(h, alo, ahi, 1, 0, $raw) << 24) >> 24')),
  vmLoad('hlv.bu', 0x30, 1, unsigned('hlv(h, alo, ahi, 1, 0, $raw)')),
  vmLoad('hlv.h', 0x32, 0, setW('(hlv(h, alo, ahi, 2, 0, $raw) << 16) >> 16')),
  vmLoad('hlv.hu', 0x32, 1, unsigned('hlv(h, alo, ahi, 2, 0, $raw)')),
  vmLoad('hlvx.hu', 0x32, 3, unsigned('hlv(h, alo, ahi, 2, 1, $raw)')),
  vmLoad('hlv.w', 0x34, 0, setW('hlv(h, alo, ahi, 4, 0, $raw) | 0')),
  vmLoad('hlv.wu', 0x34, 1, unsigned('hlv(h, alo, ahi, 4, 0, $raw)')),
  vmLoad('hlvx.wu', 0x34, 3, unsigned('hlv(h, alo, ahi, 4, 1, $raw)')),
  vmLoad('hlv.d', 0x36, 0, setPair('hlv(h, alo, ahi, 8, 0, $raw)')),
  vmStore('hsv.b', 0x31, 1),
  vmStore('hsv.h', 0x33, 2),
  vmStore('hsv.w', 0x35, 4),
  vmStore('hsv.d', 0x37, 8),
  def('hfence.vvma', 'R', 0xfe007fff, 0x22000073, 'hfence(h, 0, $raw);', { system: true }),
  def('hfence.gvma', 'R', 0xfe007fff, 0x62000073, 'hfence(h, 1, $raw);', { system: true }),
];
