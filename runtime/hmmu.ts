// Two-stage address translation of the hypervisor extension: the VS-stage (vsatp, Sv39/48/57) maps a guest
// virtual address to a guest physical address, and the G-stage (hgatp, Sv39x4/48x4/57x4) maps every guest physical
// address, the VS-level page-table entries included, to a supervisor physical address. Hardware A/D updates at both
// stages, as QEMU does. Addresses are (lo, hi) int32 pairs: guest physical addresses can have 59 bits.
import type { Hart } from './hart.js';
import { Access, Cause } from './trap.js';
import { pmpCheck, pteAt, pteKind, ptePpn, leafAllows, wantedAD, setAD, Pte, mmuStats } from './mmu.js';
import { GCACHE_SIZE } from './hstate.js';

const MSTATUS_MPRV = 1 << 17, MSTATUS_SUM = 1 << 18, MSTATUS_MXR = 1 << 19;
const HSTATUS_SPVP = 1 << 8;
const PTE_U = 16, PTE_AD = 64 | 128;
const TWO32 = 4294967296;

const pageFault = [Cause.LoadPage, Cause.StorePage, Cause.FetchPage];
const guestPageFault = [Cause.LoadGuestPage, Cause.StoreGuestPage, Cause.FetchGuestPage];
const accessFaultCause = [Cause.LoadAccess, Cause.StoreAccess, Cause.FetchAccess];
/** htinst/mtinst pseudoinstructions for a guest-page fault of an implicit VS-stage page-table read or write (RV64). */
export const TINST_PTE_READ = 0x3000, TINST_PTE_WRITE = 0x3020;

function big(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/**
 * The nominal privilege (0 VU, 1 VS) of an access that is translated in two stages, or -1 if it is not: V=1, an
 * HLV/HSV/HLVX (as though V=1 at hstatus.SPVP, MPRV ignored), or an M-mode load/store with MPRV=1 and MPV=1.
 */
export function guestPriv(h: Hart, type: Access): number {
  if (type !== Access.Exec) {
    if (h.hlv) return (h.hyp.hstatus & HSTATUS_SPVP) ? 1 : 0;
    if (h.priv === 3) {
      const mpp = (h.mstatus >>> 11) & 3;
      return (h.mstatus & MSTATUS_MPRV) && h.hyp.mpv && mpp !== 3 ? mpp : -1;
    }
  }
  return h.virt ? h.priv : -1;
}

/** VPN field of an address at a bit position (12 + 9 * level), `mask` wide. */
function field(lo: number, hi: number, shift: number, mask: number): number {
  return (shift < 32 ? (lo >>> shift) | (shift > 0 ? hi << (32 - shift) : 0) : hi >>> (shift - 32)) & mask;
}

/** Offset inside a (super)page of 2^bits bytes, as a number. */
function pageOffset(lo: number, hi: number, bits: number): number {
  return bits < 32 ? (lo >>> 0) % 2 ** bits : (hi & ((1 << (bits - 32)) - 1)) * TWO32 + (lo >>> 0);
}

/** Physical page base of a PTE's PPN as a pair, in outLo/outHi. */
let outLo = 0, outHi = 0;
function ppnBase(pteLo: number, pteHi: number): void {
  outLo = (pteLo >>> 10) << 12;
  outHi = (pteLo >>> 30) | ((pteHi & 0x3fffff) << 2);
}

/**
 * G-stage translation of the guest physical address (gLo, gHi); returns the supervisor physical address (-1 if it
 * cannot be one). `perm` is the permission checked (for a VS-level PTE: Read, or Write to update A/D); faults are
 * reported for the original access `type` with tval = the guest virtual address (vaLo, vaHi). `implicit` is 0 for
 * the access itself, else the pseudoinstruction recorded for htinst/mtinst. G-stage leaves must have U=1 (every
 * access counts as a user access); mstatus.MXR applies to explicit loads; HLVX needs X instead of R.
 */
function gStage(h: Hart, gLo: number, gHi: number, perm: Access, type: Access, implicit: number,
  vaLo: number, vaHi: number, hlvx: boolean): number {
  const mode = h.hyp.hgatpMode;
  if (mode === 0) return gHi < 0 ? -1 : gHi * TWO32 + (gLo >>> 0);
  const levels = mode - 5; // Sv39x4 = 8, Sv48x4 = 9, Sv57x4 = 10
  const y = h.hyp;
  const gPage = gHi * TWO32 + ((gLo >>> 12) * 4096);
  const slot = (gLo >>> 12) & (GCACHE_SIZE - 1);
  const mxr = implicit === 0 && (h.mstatus & MSTATUS_MXR) !== 0;
  if (y.gcachePage[slot] === gPage && leafAllows(y.gcacheFlags[slot], perm, mxr, hlvx)) return y.gcacheBase[slot] + (gLo & 0xfff);
  const fault = () => {
    const t = h.raise(guestPageFault[type], big(vaLo, vaHi));
    h.trapGpa = big(gLo, gHi);
    h.trapTinst = implicit;
    return t;
  };
  // The guest physical address has 2 bits more than the virtual address of the same scheme, all higher bits 0.
  if ((gHi >>> (9 * levels - 18)) !== 0) throw fault();
  mmuStats.walks++;
  let table = Number((y.hgatp & 0xfffffffffffn) & ~3n) * 4096; // 16 KiB root: PPN[1:0] read as zero
  const accessFault = () => h.raise(accessFaultCause[type], big(vaLo, vaHi));
  for (let i = levels - 1; i >= 0; i--) {
    const pteAddr = table + field(gLo, gHi, 12 + 9 * i, i === levels - 1 ? 0x7ff : 511) * 8;
    const off = pteAt(h, pteAddr, accessFault);
    const pteLo = h.ram32[off >>> 2], pteHi = h.ram32[(off >>> 2) + 1];
    const kind = pteKind(pteLo, pteHi);
    if (kind === Pte.Invalid) throw fault();
    const ppn = ptePpn(pteLo, pteHi);
    if (kind === Pte.Pointer) {
      table = ppn * 4096;
      continue;
    }
    // G-stage leaves are checked as user pages; MXR applies to the guest's own accesses, not to its page walks.
    if (!(pteLo & PTE_U) || !leafAllows(pteLo, perm, mxr, hlvx)) throw fault();
    if (ppn % 2 ** (9 * i) !== 0) throw fault();
    const want = wantedAD(perm);
    if ((pteLo & want) !== want) {
      if (!pmpCheck(h, pteAddr, 8, Access.Write, 1)) throw accessFault();
      setAD(h, off, pteLo, want);
    }
    const spa = ppn * 4096 + pageOffset(gLo, gHi, 12 + 9 * i);
    if ((pteLo & PTE_AD) === PTE_AD) {
      y.gcachePage[slot] = gPage;
      y.gcacheBase[slot] = spa - (gLo & 0xfff);
      y.gcacheFlags[slot] = pteLo;
    }
    return spa;
  }
  throw fault();
}

/**
 * Translate a guest virtual address for an access at nominal privilege `priv` (VS or VU) and check PMP on the
 * result. Throws page faults (VS-stage), guest-page faults (G-stage, of the page tables or of the final address)
 * and access faults.
 */
export function translateGuest(h: Hart, lo: number, hi: number, size: number, type: Access, priv: number): number {
  const hlvx = h.hlv === 2;
  const vsatp = h.hyp.vsatp;
  const mode = Number(vsatp >> 60n);
  let gLo = lo, gHi = hi;
  if (mode !== 0) {
    mmuStats.walks++;
    const fault = () => h.raise(pageFault[type], big(lo, hi));
    const vsAccessFault = () => h.raise(accessFaultCause[type], big(lo, hi));
    const levels = mode - 5; // Sv39 = 8, Sv48 = 9, Sv57 = 10
    const ext = hi >> (9 * levels - 21); // bits 63..VA width - 1 must all equal
    if (ext !== 0 && ext !== -1) throw fault();
    const mxr = (h.vsstatus & MSTATUS_MXR) !== 0 || (h.mstatus & MSTATUS_MXR) !== 0;
    // Root table: vsatp.PPN (44 bits) as a guest physical address.
    let tLo = Number(vsatp & 0xfffffn) << 12, tHi = Number((vsatp >> 20n) & 0xffffffn);
    for (let i = levels - 1; i >= 0; i--) {
      const pLo = tLo | (field(lo, hi, 12 + 9 * i, 511) * 8), pHi = tHi;
      const spa = gStage(h, pLo, pHi, Access.Read, type, TINST_PTE_READ, lo, hi, false);
      const off = pteAt(h, spa, vsAccessFault);
      const pteLo = h.ram32[off >>> 2], pteHi = h.ram32[(off >>> 2) + 1];
      const kind = pteKind(pteLo, pteHi);
      if (kind === Pte.Invalid) throw fault();
      ppnBase(pteLo, pteHi);
      if (kind === Pte.Pointer) {
        tLo = outLo; tHi = outHi;
        continue;
      }
      const user = (pteLo & PTE_U) !== 0;
      if (priv === 0 ? !user : user && (type === Access.Exec || !(h.vsstatus & MSTATUS_SUM))) throw fault();
      if (!leafAllows(pteLo, type, mxr, hlvx) || ptePpn(pteLo, pteHi) % 2 ** (9 * i) !== 0) throw fault();
      const want = wantedAD(type);
      if ((pteLo & want) !== want) {
        // Updating A/D is an implicit store: it needs G-stage write permission (and sets D there).
        const spaW = gStage(h, pLo, pHi, Access.Write, type, TINST_PTE_WRITE, lo, hi, false);
        const offW = h.bus.ramOffset(spaW, 8);
        if (offW < 0 || !pmpCheck(h, spaW, 8, Access.Write, 1)) throw vsAccessFault();
        setAD(h, offW, pteLo, want);
      }
      // Guest physical address: the leaf's PPN with the offset inside the (super)page from the virtual address.
      const bits = 12 + 9 * i;
      if (bits < 32) {
        gLo = outLo | (lo & ((1 << bits) - 1));
        gHi = outHi;
      } else {
        gLo = lo;
        gHi = outHi | (hi & ((1 << (bits - 32)) - 1));
      }
      break;
    }
  }
  const pa = gStage(h, gLo, gHi, type, type, 0, lo, hi, hlvx);
  if (pa < 0 || !pmpCheck(h, pa, size, type, priv) || (hlvx && !pmpCheck(h, pa, size, Access.Exec, priv))) {
    throw h.raise(accessFaultCause[type], big(lo, hi));
  }
  return pa;
}
