// G-stage page tables (Sv39x4) that Salus builds in physical memory for each VM, and the physical-memory access
// Salus has as HS-mode software with translation off. The MMU walks these tables like any other; nothing here
// reaches into the MMU.
import type { Bus } from '../runtime/bus.js';

export const PAGE = 4096;
export const MEGAPAGE = 2 * 1024 * 1024;
/** Sv39x4: a 16 KiB root table covering a 41-bit guest physical address space. */
export const ROOT_BYTES = 16384;
export const GPA_LIMIT = 2 ** 41;
const HGATP_SV39X4 = 8n;

export const PTE = { V: 1, R: 2, W: 4, X: 8, U: 16, A: 64, D: 128 } as const;
/** Leaves Salus maps: G-stage leaves must have U; A and D are preset so the hardware never has to set them. */
export const LEAF_RWX = PTE.V | PTE.R | PTE.W | PTE.X | PTE.U | PTE.A | PTE.D;
export const LEAF_RW = PTE.V | PTE.R | PTE.W | PTE.U | PTE.A | PTE.D;

/** Physical memory as Salus sees it (satp = Bare): RAM through the bus, so writes invalidate translated code. */
export class PhysMem {
  constructor(readonly bus: Bus) {}
  isRam(pa: number, length: number): boolean {
    return Number.isSafeInteger(pa) && length >= 0 && this.bus.ramOffset(pa, length) >= 0;
  }
  private off(pa: number, length: number): number {
    const o = this.bus.ramOffset(pa, length);
    if (o < 0) throw new RangeError(`salus: physical access at 0x${pa.toString(16)} outside RAM`);
    return o;
  }
  read64(pa: number): bigint { return this.bus.ramView.getBigUint64(this.off(pa, 8), true); }
  write64(pa: number, v: bigint): void {
    const o = this.off(pa, 8);
    this.bus.ramView.setBigUint64(o, BigInt.asUintN(64, v), true);
    this.bus.onRamWrite?.(o, 8);
  }
  read(pa: number, length: number): Uint8Array { return this.bus.readBytes(pa, length); }
  write(pa: number, bytes: Uint8Array): void { this.bus.writeBytes(pa, bytes); }
  zero(pa: number, length: number): void {
    const o = this.off(pa, length);
    this.bus.ram8.fill(0, o, o + length);
    this.bus.onRamWrite?.(o, length);
  }
  isZero(pa: number, length: number): boolean {
    const o = this.off(pa, length);
    return this.bus.ram8.subarray(o, o + length).every((b) => b === 0);
  }
}

export interface Leaf { gpa: number; hpa: number; size: number; flags: number; pteAddr: number }

const index = (gpa: number, level: number) =>
  level === 2 ? Math.floor(gpa / 2 ** 30) & 0x7ff : Math.floor(gpa / 2 ** (12 + 9 * level)) & 0x1ff;
const pteOf = (pa: number, flags: number) => (BigInt(Math.floor(pa / PAGE)) << 10n) | BigInt(flags);
const paOf = (pte: bigint) => Number((pte >> 10n) & 0xfffffffffffn) * PAGE;

/** One VM's G-stage tables. Table pages come from `allocTable` (a zeroed 4 KiB page, or null when none are left). */
export class GStage {
  /** Every table page in use besides the root, for teardown and for isolation checks. */
  readonly tables: number[] = [];

  constructor(readonly mem: PhysMem, readonly root: number, private readonly allocTable: () => number | null) {
    if (root % ROOT_BYTES !== 0) throw new RangeError('G-stage root must be 16 KiB aligned');
  }

  hgatp(vmid: number): bigint {
    return (HGATP_SV39X4 << 60n) | (BigInt(vmid) << 44n) | BigInt(this.root / PAGE);
  }

  /** The PTE address for gpa at `level`, creating tables above it when `create`; null if absent or out of tables. */
  private slot(gpa: number, level: number, create: boolean): number | null {
    let table = this.root;
    for (let l = 2; l > level; l--) {
      const addr = table + 8 * index(gpa, l);
      const pte = this.mem.read64(addr);
      if (!(pte & 1n)) {
        if (!create) return null;
        const t = this.allocTable();
        if (t === null) return null;
        this.tables.push(t);
        this.mem.write64(addr, pteOf(t, PTE.V));
        table = t;
      } else if (pte & 0xen) {
        if (!create) return null;
        // A larger leaf covers gpa: split it into a table of leaves one level down.
        const t = this.allocTable();
        if (t === null) return null;
        this.tables.push(t);
        const step = 2 ** (12 + 9 * (l - 1));
        const flags = Number(pte & 0x3ffn);
        for (let i = 0; i < 512; i++) this.mem.write64(t + 8 * i, pteOf(paOf(pte) + i * step, flags));
        this.mem.write64(addr, pteOf(t, PTE.V));
        table = t;
      } else {
        table = paOf(pte);
      }
    }
    return table + 8 * index(gpa, level);
  }

  /** Map [gpa, gpa+size) to hpa with one leaf (size 4 KiB or 2 MiB, both aligned). False when out of table pages. */
  map(gpa: number, hpa: number, size: number, flags: number): boolean {
    const level = size === MEGAPAGE ? 1 : 0;
    const addr = this.slot(gpa, level, true);
    if (addr === null) return false;
    this.mem.write64(addr, pteOf(hpa, flags));
    return true;
  }

  /** The leaf that maps gpa (valid or not), or null. */
  leaf(gpa: number): Leaf | null {
    if (!(gpa >= 0 && gpa < GPA_LIMIT)) return null;
    let table = this.root;
    for (let l = 2; l >= 0; l--) {
      const addr = table + 8 * index(gpa, l);
      const pte = this.mem.read64(addr);
      if (pte === 0n) return null;
      if ((pte & 0xen) || l === 0) {
        const size = 2 ** (12 + 9 * l);
        const base = Math.floor(gpa / size) * size;
        return { gpa: base, hpa: paOf(pte), size, flags: Number(pte & 0x3ffn), pteAddr: addr };
      }
      table = paOf(pte);
    }
    return null;
  }

  /** Whether the last-level table for the 2 MiB range holding gpa exists (mapping 4 KiB pages there needs no new table). */
  hasTableFor(gpa: number): boolean {
    const l1 = this.slot(gpa, 1, false);
    if (l1 === null) return false;
    const pte = this.mem.read64(l1);
    return (pte & 1n) === 1n && (pte & 0xen) === 0n;
  }

  /** Make the 4 KiB page at gpa its own leaf (splitting a larger one) and return it; null if unmapped or no tables. */
  page(gpa: number): Leaf | null {
    const l = this.leaf(gpa);
    if (!l) return null;
    if (l.size === PAGE) return l;
    const addr = this.slot(gpa, 0, true);
    return addr === null ? null : this.leaf(gpa);
  }

  /** Set a 4 KiB leaf's flags (0 clears it entirely). */
  setFlags(leaf: Leaf, flags: number): void {
    this.mem.write64(leaf.pteAddr, flags === 0 ? 0n : pteOf(leaf.hpa, flags));
  }

  /** Every leaf, valid or not. */
  leaves(): Leaf[] {
    const out: Leaf[] = [];
    const walk = (table: number, level: number, base: number, entries: number) => {
      for (let i = 0; i < entries; i++) {
        const addr = table + 8 * i;
        const pte = this.mem.read64(addr);
        if (pte === 0n) continue;
        const size = 2 ** (12 + 9 * level);
        const gpa = base + i * size;
        if ((pte & 0xen) || level === 0) out.push({ gpa, hpa: paOf(pte), size, flags: Number(pte & 0x3ffn), pteAddr: addr });
        else walk(paOf(pte), level - 1, gpa, 512);
      }
    };
    walk(this.root, 2, 0, 2048);
    return out;
  }
}
