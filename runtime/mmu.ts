// Address translation (Sv39/48/57, hardware A/D updates as on QEMU) and PMP.
import type { Hart } from './hart.js';
import { Access, Cause } from './trap.js';
import { guestPriv, translateGuest } from './hmmu.js';

const MSTATUS_MPRV = 1 << 17, MSTATUS_SUM = 1 << 18, MSTATUS_MXR = 1 << 19;
const PTE_V = 1, PTE_R = 2, PTE_W = 4, PTE_X = 8, PTE_U = 16, PTE_A = 64, PTE_D = 128;
const TWO32 = 4294967296;

const pageFault = [Cause.LoadPage, Cause.StorePage, Cause.FetchPage];
const accessFault = [Cause.LoadAccess, Cause.StoreAccess, Cause.FetchAccess];

/** Privilege used for the data access of this type (MPRV applies to loads and stores). */
export function effectivePriv(h: Hart, type: Access): number {
  if (type !== Access.Exec && h.priv === 3 && (h.mstatus & MSTATUS_MPRV)) return (h.mstatus >>> 11) & 3;
  return h.priv;
}

function vaBig(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Virtual to physical. Throws the trap for a page or access fault. */
export function translate(h: Hart, lo: number, hi: number, size: number, type: Access): number {
  if (h.hext) {
    // V=1, HLV/HSV, or MPRV with MPV=1: two-stage translation (runtime/hmmu.ts).
    const g = guestPriv(h, type);
    if (g >= 0) return translateGuest(h, lo, hi, size, type, g);
  }
  const priv = effectivePriv(h, type);
  const mode = Number(h.satp >> 60n);
  let pa: number;
  if (priv === 3 || mode === 0) {
    pa = hi < 0 ? -1 : hi * TWO32 + (lo >>> 0);
  } else {
    pa = walk(h, lo, hi, type, priv, mode === 8 ? 3 : mode === 9 ? 4 : 5);
  }
  if (pa < 0 || !pmpCheck(h, pa, size, type, priv)) throw h.raise(accessFault[type], vaBig(lo, hi));
  return pa;
}

/** Page-table walks done so far (TLB misses that needed one), for --stats. */
export const mmuStats = { walks: 0 };

function walk(h: Hart, lo: number, hi: number, type: Access, priv: number, levels: number): number {
  mmuStats.walks++;
  const fault = () => h.raise(pageFault[type], vaBig(lo, hi));
  // Bits above the VA width must equal its top bit.
  const vaBits = 12 + 9 * levels;
  const ext = hi >> (vaBits - 33); // 0 or -1 when bits 63..vaBits-1 are all equal
  if (ext !== 0 && ext !== -1) throw fault();
  const vpnAt = (i: number) => {
    const shift = 12 + 9 * i;
    return shift < 32 ? ((lo >>> shift) | (shift > 23 ? (hi << (32 - shift)) : 0)) & 511 : (hi >>> (shift - 32)) & 511;
  };
  let table = Number(h.satp & 0xfffffffffffn) * 4096;
  const bus = h.bus;
  for (let i = levels - 1; i >= 0; i--) {
    const pteAddr = table + vpnAt(i) * 8;
    const off = bus.ramOffset(pteAddr, 8);
    if (off < 0 || !pmpCheck(h, pteAddr, 8, Access.Read, 1)) throw h.raise(accessFault[type], vaBig(lo, hi));
    let pteLo = h.ram32[off >>> 2];
    const pteHi = h.ram32[(off >>> 2) + 1];
    if (!(pteLo & PTE_V) || ((pteLo & (PTE_R | PTE_W)) === PTE_W) || (pteHi >>> 22) !== 0) throw fault();
    const ppn = (pteHi & 0x3fffff) * 4194304 + (pteLo >>> 10);
    if (!(pteLo & (PTE_R | PTE_X))) {
      if (pteLo & (PTE_A | PTE_D | PTE_U)) throw fault();
      table = ppn * 4096;
      continue;
    }
    // Leaf.
    const user = (pteLo & PTE_U) !== 0;
    if (priv === 0 ? !user : user && (type === Access.Exec || !(h.mstatus & MSTATUS_SUM))) throw fault();
    const ok = type === Access.Exec ? pteLo & PTE_X
      : type === Access.Write ? pteLo & PTE_W
      : (pteLo & PTE_R) || ((h.mstatus & MSTATUS_MXR) && (pteLo & PTE_X));
    if (!ok) throw fault();
    const spanPages = 2 ** (9 * i);
    if (ppn % spanPages !== 0) throw fault();
    const want = PTE_A | (type === Access.Write ? PTE_D : 0);
    if ((pteLo & want) !== want) {
      if (!pmpCheck(h, pteAddr, 8, Access.Write, 1)) throw h.raise(accessFault[type], vaBig(lo, hi));
      pteLo |= want;
      h.ram32[off >>> 2] = pteLo;
      if (h.codePages[off >>> 12]) h.onCodeWrite(off, 8);
    }
    // Offset inside the (super)page: low 12 + 9*i bits of the VA.
    const offBits = 12 + 9 * i;
    const offset = offBits <= 32 ? (lo >>> 0) % 2 ** offBits : (hi & ((1 << (offBits - 32)) - 1)) * TWO32 + (lo >>> 0);
    return ppn * 4096 + offset;
  }
  throw fault();
}

// ---- PMP: 16 entries, 4-byte granularity. ----
const PMP_R = 1, PMP_W = 2, PMP_X = 4, PMP_L = 0x80;

/** Byte range [lo, hi) matched by entry i (lo >= hi when it matches nothing). */
function pmpRange(h: Hart, i: number): [number, number] {
  const cfg = h.pmpcfg[i], a = (cfg >> 3) & 3;
  if (a === 0) return [0, 0];
  const addr = Number(h.pmpaddr[i]) * 4;
  if (a === 1) return [i === 0 ? 0 : Number(h.pmpaddr[i - 1]) * 4, addr];
  if (a === 2) return [addr, addr + 4];
  // NAPOT: trailing ones in pmpaddr give the size.
  let v = h.pmpaddr[i], t = 0;
  while (v & 1n) { v >>= 1n; t++; }
  const base = Number((h.pmpaddr[i] >> BigInt(t + 1)) << BigInt(t + 1)) * 4;
  return [base, base + 2 ** (t + 3)];
}

/** Recompute the cached PMP ranges; call after any write to pmpcfg or pmpaddr. */
export function updatePmp(h: Hart): void {
  h.pmpLocked = false;
  h.pmpActive = 0;
  for (let i = 0; i < 16; i++) {
    const [lo, hi] = pmpRange(h, i);
    h.pmpLo[i] = lo;
    h.pmpHi[i] = hi;
    if (lo < hi) h.pmpActive = i + 1;
    if (h.pmpcfg[i] & PMP_L) h.pmpLocked = true;
  }
  h.flushTlb();
}

/** Whether an access of size bytes at pa is allowed for this privilege. */
export function pmpCheck(h: Hart, pa: number, size: number, type: Access, priv: number): boolean {
  // With no entry active, M-mode may access everything (and S/U nothing, below).
  if (priv === 3 && h.pmpActive === 0) return true;
  for (let i = 0; i < h.pmpActive; i++) {
    const lo = h.pmpLo[i], hi = h.pmpHi[i];
    if (lo >= hi || pa + size <= lo || pa >= hi) continue;
    if (pa < lo || pa + size > hi) return false;
    const cfg = h.pmpcfg[i];
    if (priv === 3 && !(cfg & PMP_L)) return true;
    return (cfg & (type === Access.Read ? PMP_R : type === Access.Write ? PMP_W : PMP_X)) !== 0;
  }
  return priv === 3;
}

/** Whether every access of this type to the 4 KiB page is allowed, so a TLB entry can skip PMP. */
export function pmpAllowsPage(h: Hart, pageBase: number, type: Access): boolean {
  return pmpCheck(h, pageBase, 4096, type, effectivePriv(h, type));
}
