// Architectural state of one hart, and its load/store paths (TLB fast path, MMU slow path).
import { Bus } from './bus.js';
import { Access, Cause, TRAP, TrapSignal } from './trap.js';
import { translate, pmpAllowsPage } from './mmu.js';
import { out } from './int64.js';
import { HypervisorState } from './hstate.js';

export const TLB_SIZE = 256;
const TLB_MASK = TLB_SIZE - 1;
/** Slot of the register file that absorbs writes to x0. */
export const X0_SINK = 64;
export const PAGE_MASK = ~0xfff;

export const enum Priv { U = 0, S = 1, M = 3 }

/** Tag of an empty TLB entry: bits 3–11 set, which no page address masked for an access check has. */
export const INVALID_TAG = 0xff8;

/** Software-visible TLB for one access type: direct-mapped, keyed by virtual page, value is a RAM page offset. */
export class Tlb {
  tagLo = new Int32Array(TLB_SIZE).fill(INVALID_TAG);
  tagHi = new Int32Array(TLB_SIZE);
  off = new Int32Array(TLB_SIZE);
  flush(): void { this.tagLo.fill(INVALID_TAG); }
}

export class Hart {
  /** x registers as (lo, hi) int32 pairs; slots 64/65 absorb writes to x0. */
  readonly x = new Int32Array(66);
  /** f registers: raw bits (fi, lo/hi pairs) and the same storage as doubles (f). */
  readonly f = new Float64Array(32);
  readonly fi = new Int32Array(this.f.buffer);
  pcLo = 0;
  pcHi = 0;
  priv: Priv = Priv.M;
  fflags = 0;
  frm = 0;

  // Machine/supervisor CSR state. mstatus holds bits 0..31; higher bits are derived.
  mstatus = 0;
  misa = 0n;
  medeleg = 0;
  mideleg = 0;
  mie = 0;
  /** mip bits written by software (SSIP, STIP, SEIP); lines driven by devices live in irqLines. */
  mipSw = 0;
  irqLines = 0;
  mtvec = 0n; stvec = 0n;
  mepc = 0n; sepc = 0n;
  mcause = 0n; scause = 0n;
  mtval = 0n; stval = 0n;
  mscratch = 0n; sscratch = 0n;
  mcounteren = 0; scounteren = 0; mcountinhibit = 0;
  menvcfg = 0n; senvcfg = 0n;
  satp = 0n;
  stimecmp = 0n;
  /** Hypervisor extension: implemented (misa.H; set before running), the virtualization mode V, and its CSRs. */
  hext = false;
  virt = false;
  /** vsstatus bits 31:0 (here, not in hyp: FP instructions test its FS field when V=1). */
  vsstatus = 0;
  /** Non-zero while an HLV/HSV (1) or HLVX (2) makes its access, as though V=1 at privilege hstatus.SPVP. */
  hlv = 0;
  readonly hyp = new HypervisorState();
  readonly pmpcfg = new Uint8Array(16);
  readonly pmpaddr = new Array<bigint>(16).fill(0n);
  /** Byte ranges of the PMP entries, from updatePmp (runtime/mmu.ts): entries at or beyond pmpActive are off. */
  readonly pmpLo = new Float64Array(16);
  readonly pmpHi = new Float64Array(16);
  pmpActive = 0;
  pmpLocked = false;
  /** Retired instructions; cycle counts the same (one instruction per cycle). */
  instret = 0;
  cycleOffset = 0;
  mhartid = 0;

  /** LR/SC reservation as QEMU keeps it: the virtual address and the value loaded. */
  resValid = false;
  resLo = 0; resHi = 0;
  resValLo = 0; resValHi = 0;
  /** Set by instructions after which the engine must leave its inner loop (interrupts, translation changes). */
  stop = false;
  /** Why the hart can never make progress (a trap loop), once detected. */
  stuck: string | null = null;
  /** Set by WFI until an interrupt is pending. */
  waiting = false;
  /** Pending trap details, set just before throwing TRAP. */
  trapCause = 0;
  trapTval = 0n;
  /** Guest-page faults: the guest physical address that faulted (else -1n), and the pseudoinstruction for htinst/
   * mtinst when an implicit VS-stage page-table access faulted (else 0). */
  trapGpa = -1n;
  trapTinst = 0;

  readonly tlbR = new Tlb();
  readonly tlbW = new Tlb();
  readonly tlbX = new Tlb();
  readonly ram8: Uint8Array;
  readonly ram16: Uint16Array;
  readonly ram32: Int32Array;
  /** Per RAM page: 1 if decoded or translated code exists for it (stores must invalidate it). */
  readonly codePages: Uint8Array;
  /** Called when a write hits a code page (RAM offset and length); set by the execution engine. */
  onCodeWrite: (ramOff: number, length: number) => void = () => {};
  /**
   * Optional M-mode firmware in TypeScript: called for a trap that would enter M-mode; returns true if it handled
   * it (leaving the hart ready to resume), false to enter the guest's own M-mode handler at mtvec.
   */
  machineTrapHandler: ((cause: number, tval: bigint, interrupt: boolean) => boolean) | null = null;
  /**
   * Optional HS-mode software in TypeScript (the Salus hypervisor): called once a trap has entered HS-mode, in
   * place of running code at stvec. It leaves the hart ready to resume, normally by returning to a guest with sret.
   */
  hypervisorTrapHandler: (() => void) | null = null;
  /** Engine hooks: satp/sfence changes and fence.i. */
  onTranslationChange: () => void = () => {};
  onFenceI: () => void = () => {};
  /** Current time in timebase ticks, provided by the machine (CLINT). */
  readTime: () => bigint = () => 0n;

  constructor(readonly bus: Bus) {
    this.ram8 = bus.ram8;
    this.ram16 = bus.ram16;
    this.ram32 = bus.ram32;
    this.codePages = new Uint8Array(Math.ceil(bus.ramSize / 4096));
  }

  get pc(): bigint { return (BigInt(this.pcHi >>> 0) << 32n) | BigInt(this.pcLo >>> 0); }
  set pc(v: bigint) { this.pcLo = Number(v & 0xffffffffn) | 0; this.pcHi = Number((v >> 32n) & 0xffffffffn) | 0; }

  getX(r: number): bigint { return (BigInt(this.x[2 * r + 1] >>> 0) << 32n) | BigInt(this.x[2 * r] >>> 0); }
  setX(r: number, v: bigint): void {
    if (r === 0) return;
    this.x[2 * r] = Number(v & 0xffffffffn) | 0;
    this.x[2 * r + 1] = Number((v >> 32n) & 0xffffffffn) | 0;
  }

  /** Drive an interrupt line (devices call this); wakes the engine to re-check interrupts. */
  setIrq(irq: number, level: boolean): void {
    const bit = 1 << irq;
    const lines = level ? this.irqLines | bit : this.irqLines & ~bit;
    if (lines !== this.irqLines) { this.irqLines = lines; this.stop = true; }
  }

  /** Record a trap and return the sentinel for the caller to throw. */
  raise(cause: number, tval: bigint = 0n): TrapSignal {
    this.trapCause = cause;
    this.trapTval = tval;
    this.trapGpa = -1n;
    this.trapTinst = 0;
    return TRAP;
  }

  flushTlb(): void {
    this.tlbR.flush(); this.tlbW.flush(); this.tlbX.flush();
  }

  /** Drop write-TLB entries that point at a RAM page, so stores to it take the slow path. */
  protectCodePage(ramPage: number): void {
    this.codePages[ramPage] = 1;
    const off = ramPage << 12, t = this.tlbW;
    for (let i = 0; i < TLB_SIZE; i++) if (t.off[i] === off) t.tagLo[i] = INVALID_TAG;
  }

  /** Translate and check an access; returns the physical address. Fills the TLB when the page is plain RAM. */
  access(lo: number, hi: number, size: number, type: Access): number {
    const pa = translate(this, lo, hi, size, type);
    const ramOff = this.bus.ramOffset(pa, size);
    if (ramOff >= 0 && !this.hlv) { // HLV/HSV translate as though V=1: never cached
      const page = ramOff >>> 12;
      if ((type !== Access.Write || !this.codePages[page]) && pmpAllowsPage(this, pa - (pa % 4096), type)) {
        const t = type === Access.Read ? this.tlbR : type === Access.Write ? this.tlbW : this.tlbX;
        const i = (lo >>> 12) & TLB_MASK;
        t.tagLo[i] = lo & PAGE_MASK; t.tagHi[i] = hi; t.off[i] = ramOff & PAGE_MASK;
      }
    }
    return pa;
  }
}

// ---- Loads and stores. The instruction templates test the TLB themselves (runtime/isa/snippets.ts) and call the
// slow paths here on a miss; load32/load64/store32 are the same for TypeScript callers (firmware, micro-benchmarks).

function faultAccess(h: Hart, type: Access, lo: number, hi: number): TrapSignal {
  const tval = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  return h.raise(type === Access.Read ? Cause.LoadAccess : Cause.StoreAccess, tval);
}

/** Read up to 4 bytes (unsigned little-endian value, as a JS number) at an already translated address. */
function readPhys(h: Hart, pa: number, size: number, lo: number, hi: number): number {
  const off = h.bus.ramOffset(pa, size);
  if (off >= 0) {
    const m = h.ram8;
    if (size === 1) return m[off];
    if (size === 2) return m[off] | (m[off + 1] << 8);
    return (m[off] | (m[off + 1] << 8) | (m[off + 2] << 16) | (m[off + 3] << 24)) >>> 0;
  }
  const d = h.bus.device(pa);
  if (!d || pa + size > d.base + d.size) throw faultAccess(h, Access.Read, lo, hi);
  return d.read(pa - d.base, size) >>> 0;
}

function writePhys(h: Hart, pa: number, size: number, v: number, lo: number, hi: number): void {
  const off = h.bus.ramOffset(pa, size);
  if (off >= 0) {
    const m = h.ram8;
    for (let k = 0; k < size; k++) m[off + k] = v >>> (8 * k);
    if (h.codePages[off >>> 12] || h.codePages[(off + size - 1) >>> 12]) h.onCodeWrite(off, size);
    return;
  }
  const d = h.bus.device(pa);
  if (!d || pa + size > d.base + d.size) throw faultAccess(h, Access.Write, lo, hi);
  d.write(pa - d.base, size, v);
}

/** Unsigned load of size 1, 2 or 4 through the MMU; misaligned accesses are split by bytes like QEMU does. */
export function loadSlow(h: Hart, lo: number, hi: number, size: number): number {
  if ((lo & (size - 1)) !== 0) {
    let v = 0;
    for (let k = 0; k < size; k++) {
      const blo = (lo + k) | 0, bhi = (hi + ((blo >>> 0) < (lo >>> 0) ? 1 : 0)) | 0;
      v |= loadSlow(h, blo, bhi, 1) << (8 * k);
    }
    return v >>> 0;
  }
  return readPhys(h, h.access(lo, hi, size, Access.Read), size, lo, hi);
}

export function storeSlow(h: Hart, lo: number, hi: number, size: number, v: number): void {
  if ((lo & (size - 1)) !== 0) {
    // Check every byte's translation first so a fault leaves memory unchanged.
    const pas: number[] = [];
    for (let k = 0; k < size; k++) {
      const blo = (lo + k) | 0, bhi = (hi + ((blo >>> 0) < (lo >>> 0) ? 1 : 0)) | 0;
      pas.push(h.access(blo, bhi, 1, Access.Write));
    }
    for (let k = 0; k < size; k++) writePhys(h, pas[k], 1, v >>> (8 * k), lo, hi);
    return;
  }
  writePhys(h, h.access(lo, hi, size, Access.Write), size, v, lo, hi);
}

/** Returns the word as int32. */
export function load32(h: Hart, lo: number, hi: number): number {
  const t = h.tlbR, i = (lo >>> 12) & TLB_MASK;
  if (t.tagLo[i] === (lo & PAGE_MASK) && t.tagHi[i] === hi && (lo & 3) === 0) return h.ram32[(t.off[i] + (lo & 0xfff)) >>> 2];
  return loadSlow(h, lo, hi, 4) | 0;
}
/** Returns the low word; the high word is left in out.hi. */
export function load64(h: Hart, lo: number, hi: number): number {
  const t = h.tlbR, i = (lo >>> 12) & TLB_MASK;
  if (t.tagLo[i] === (lo & PAGE_MASK) && t.tagHi[i] === hi && (lo & 7) === 0) {
    const w = (t.off[i] + (lo & 0xfff)) >>> 2;
    out.hi = h.ram32[w + 1];
    return h.ram32[w];
  }
  return load64Slow(h, lo, hi);
}
export function load64Slow(h: Hart, lo: number, hi: number): number {
  if ((lo & 7) !== 0) {
    const bytes = new Array<number>(8);
    for (let k = 0; k < 8; k++) {
      const blo = (lo + k) | 0, bhi = (hi + ((blo >>> 0) < (lo >>> 0) ? 1 : 0)) | 0;
      bytes[k] = loadSlow(h, blo, bhi, 1);
    }
    out.hi = bytes[4] | (bytes[5] << 8) | (bytes[6] << 16) | (bytes[7] << 24);
    return bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24);
  }
  const pa = h.access(lo, hi, 8, Access.Read);
  const vlo = readPhys(h, pa, 4, lo, hi) | 0;
  out.hi = readPhys(h, pa + 4, 4, lo, hi) | 0;
  return vlo;
}

export function store32(h: Hart, lo: number, hi: number, v: number): void {
  const t = h.tlbW, i = (lo >>> 12) & TLB_MASK;
  if (t.tagLo[i] === (lo & PAGE_MASK) && t.tagHi[i] === hi && (lo & 3) === 0) { h.ram32[(t.off[i] + (lo & 0xfff)) >>> 2] = v; return; }
  storeSlow(h, lo, hi, 4, v);
}
export function store64Slow(h: Hart, lo: number, hi: number, vlo: number, vhi: number): void {
  if ((lo & 7) !== 0) {
    const pas: number[] = [];
    for (let k = 0; k < 8; k++) {
      const blo = (lo + k) | 0, bhi = (hi + ((blo >>> 0) < (lo >>> 0) ? 1 : 0)) | 0;
      pas.push(h.access(blo, bhi, 1, Access.Write));
    }
    for (let k = 0; k < 8; k++) writePhys(h, pas[k], 1, (k < 4 ? vlo : vhi) >>> (8 * (k & 3)), lo, hi);
    return;
  }
  const pa = h.access(lo, hi, 8, Access.Write);
  writePhys(h, pa, 4, vlo, lo, hi);
  writePhys(h, pa + 4, 4, vhi, lo, hi);
}
