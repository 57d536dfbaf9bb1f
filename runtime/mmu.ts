// Address translation (Sv39/48/57, hardware A/D updates as on QEMU) and PMP.
import type { Hart } from './hart.js';
import { Access, Cause, TrapSignal } from './trap.js';
import { guestPriv, translateGuest } from './hmmu.js';

const MSTATUS_MPRV = 1 << 17, MSTATUS_SUM = 1 << 18, MSTATUS_MXR = 1 << 19;
const PTE_V = 1, PTE_R = 2, PTE_W = 4, PTE_X = 8, PTE_U = 16, PTE_A = 64, PTE_D = 128;
const TWO32 = 4294967296;

const pageFault = [Cause.LoadPage, Cause.StorePage, Cause.FetchPage];
const accessFaultCause = [Cause.LoadAccess, Cause.StoreAccess, Cause.FetchAccess];

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
  if (pa < 0 || !pmpCheck(h, pa, size, type, priv)) throw h.raise(accessFaultCause[type], vaBig(lo, hi));
  return pa;
}

// ---- Page-table entries, shared by the single-stage walk here and the two-stage walks (runtime/hmmu.ts). ----

/** RAM offset of a page-table entry read by a walk; throws accessFault() unless it is RAM that PMP lets S read. */
export function pteAt(h: Hart, addr: number, accessFault: () => TrapSignal): number {
  const off = h.bus.ramOffset(addr, 8);
  if (off < 0 || !pmpCheck(h, addr, 8, Access.Read, 1)) throw accessFault();
  return off;
}

export const enum Pte { Invalid = -1, Pointer = 0, Leaf = 1 }

/** Invalid or reserved (V clear, W without R, bits above the PPN set, A/D/U in a pointer), pointer or leaf. */
export function pteKind(lo: number, hi: number): Pte {
  if (!(lo & PTE_V) || (lo & (PTE_R | PTE_W)) === PTE_W || (hi >>> 22) !== 0) return Pte.Invalid;
  if (lo & (PTE_R | PTE_X)) return Pte.Leaf;
  return lo & (PTE_A | PTE_D | PTE_U) ? Pte.Invalid : Pte.Pointer;
}

/** The PTE's physical page number. */
export const ptePpn = (lo: number, hi: number) => (hi & 0x3fffff) * 4194304 + (lo >>> 10);

/** Whether a leaf grants the access: X to fetch, W to store, R (or X under MXR) to load; HLVX loads need X. */
export function leafAllows(lo: number, type: Access, mxr: boolean, hlvx = false): boolean {
  if (type === Access.Exec) return (lo & PTE_X) !== 0;
  if (type === Access.Write) return (lo & PTE_W) !== 0;
  if (hlvx) return (lo & PTE_X) !== 0;
  return (lo & PTE_R) !== 0 || (mxr && (lo & PTE_X) !== 0);
}

/** The A bit, and D for stores, that a leaf must have; the walk sets them in hardware as QEMU does. */
export const wantedAD = (type: Access) => PTE_A | (type === Access.Write ? PTE_D : 0);

/** Write a leaf back with A/D set (the caller checked it may); translated code in that page is dropped. */
export function setAD(h: Hart, off: number, lo: number, want: number): void {
  h.ram32[off >>> 2] = lo | want;
  if (h.codePages[off >>> 12]) h.onCodeWrite(off, 8);
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
  const accessFault = () => h.raise(accessFaultCause[type], vaBig(lo, hi));
  const mxr = (h.mstatus & MSTATUS_MXR) !== 0;
  for (let i = levels - 1; i >= 0; i--) {
    const pteAddr = table + vpnAt(i) * 8;
    const off = pteAt(h, pteAddr, accessFault);
    const pteLo = h.ram32[off >>> 2], pteHi = h.ram32[(off >>> 2) + 1];
    const kind = pteKind(pteLo, pteHi);
    if (kind === Pte.Invalid) throw fault();
    const ppn = ptePpn(pteLo, pteHi);
    if (kind === Pte.Pointer) {
      table = ppn * 4096;
      continue;
    }
    const user = (pteLo & PTE_U) !== 0;
    if (priv === 0 ? !user : user && (type === Access.Exec || !(h.mstatus & MSTATUS_SUM))) throw fault();
    if (!leafAllows(pteLo, type, mxr) || ppn % 2 ** (9 * i) !== 0) throw fault();
    const want = wantedAD(type);
    if ((pteLo & want) !== want) {
      if (!pmpCheck(h, pteAddr, 8, Access.Write, 1)) throw accessFault();
      setAD(h, off, pteLo, want);
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
  h.hyp.flushGcache();
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
