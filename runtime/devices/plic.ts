// Platform-Level Interrupt Controller, SiFive-compatible register layout (RISC-V PLIC specification 1.0.0),
// as on QEMU's virt machine: two contexts per hart (2h = M-mode, 2h+1 = S-mode), level-triggered sources.
import type { Device } from '../bus.js';
import type { IrqSink } from './clint.js';

/** Number of interrupt sources on QEMU virt (1..53: virtio 1..8, UART 10); source 0 does not exist. */
export const PLIC_NUM_SOURCES = 53;
/** Priorities are 3 bits wide (0 = never interrupt, 7 = highest), as on QEMU virt. */
export const PLIC_MAX_PRIORITY = 7;
export const PLIC_SIZE = 0x600000;

/** mip bits driven by the contexts (trap.ts Irq.MEI / Irq.SEI; not imported so this module has no runtime imports). */
const IRQ_MEI = 11, IRQ_SEI = 9;

const PRIORITY_BASE = 0x0;
const PENDING_BASE = 0x1000;
const ENABLE_BASE = 0x2000;
const ENABLE_STRIDE = 0x80;
const CONTEXT_BASE = 0x200000;
const CONTEXT_STRIDE = 0x1000;

export class Plic implements Device {
  readonly name = 'plic';
  readonly size = PLIC_SIZE;
  readonly numContexts: number;
  /** Words of 32 source bits covering sources 0..numSources. */
  private readonly words: number;
  private readonly priority: Uint8Array;
  /** Input line levels, as driven by the devices. */
  private readonly level: Uint8Array;
  /** Gateway state: a claimed source waits for its completion before it can be pending again. */
  private readonly inFlight: Uint8Array;
  private readonly pending: Uint32Array;
  private readonly enable: Uint32Array;
  private readonly threshold: Uint8Array;
  /** Last level driven on each context's output, to only call the sink on changes. */
  private readonly outLevel: Uint8Array;

  constructor(readonly base: number, private readonly harts: IrqSink[], readonly numSources = PLIC_NUM_SOURCES) {
    if (!Number.isInteger(numSources) || numSources < 1 || numSources > 1023) throw new RangeError(`PLIC: bad source count ${numSources}`);
    this.numContexts = 2 * harts.length;
    this.words = (numSources >>> 5) + 1;
    this.priority = new Uint8Array(numSources + 1);
    this.level = new Uint8Array(numSources + 1);
    this.inFlight = new Uint8Array(numSources + 1);
    this.pending = new Uint32Array(this.words);
    this.enable = new Uint32Array(this.words * this.numContexts);
    this.threshold = new Uint8Array(this.numContexts);
    this.outLevel = new Uint8Array(this.numContexts);
  }

  /** Drive a source's input line (level-triggered). Unknown source numbers are ignored. */
  setSourceLevel(src: number, level: boolean): void {
    if (src < 1 || src > this.numSources) return;
    const l = level ? 1 : 0;
    if (this.level[src] === l) return;
    this.level[src] = l;
    this.gateway(src);
    this.update();
  }

  /** Whether a source is pending (for tests and debugging). */
  isPending(src: number): boolean {
    return src >= 1 && src <= this.numSources && ((this.pending[src >>> 5] >>> (src & 31)) & 1) === 1;
  }

  /** A level-triggered gateway forwards the line while no request of the source is being serviced. */
  private gateway(src: number): void {
    const w = src >>> 5, bit = 1 << (src & 31);
    if (this.level[src] && !this.inFlight[src]) this.pending[w] |= bit;
    else this.pending[w] &= ~bit;
  }

  /** Highest-priority pending source enabled for a context whose priority exceeds the threshold (ties: lowest id), or 0. */
  private best(ctx: number): number {
    let best = 0, bestPrio = this.threshold[ctx];
    const eBase = ctx * this.words;
    for (let w = 0; w < this.words; w++) {
      let bits = this.pending[w] & this.enable[eBase + w];
      while (bits !== 0) {
        const b = 31 - Math.clz32(bits & -bits); // lowest set bit first, so ties keep the lowest id
        bits &= bits - 1;
        const src = (w << 5) | b;
        if (this.priority[src] > bestPrio) { best = src; bestPrio = this.priority[src]; }
      }
    }
    return best;
  }

  /** Recompute every context's interrupt output: MEIP for even contexts, SEIP for odd ones. */
  private update(): void {
    for (let ctx = 0; ctx < this.numContexts; ctx++) {
      const l = this.best(ctx) !== 0 ? 1 : 0;
      if (l === this.outLevel[ctx]) continue;
      this.outLevel[ctx] = l;
      this.harts[ctx >>> 1].setIrq(ctx & 1 ? IRQ_SEI : IRQ_MEI, l === 1);
    }
  }

  private claim(ctx: number): number {
    const src = this.best(ctx);
    if (src === 0) return 0;
    this.inFlight[src] = 1;
    this.gateway(src);
    this.update();
    return src;
  }

  private complete(ctx: number, src: number): void {
    // The specification ignores completions of sources that are not enabled for the completing context.
    if (src < 1 || src > this.numSources || !this.isEnabled(ctx, src)) return;
    if (!this.inFlight[src]) return;
    this.inFlight[src] = 0;
    this.gateway(src);
    this.update();
  }

  private isEnabled(ctx: number, src: number): boolean {
    return ((this.enable[ctx * this.words + (src >>> 5)] >>> (src & 31)) & 1) === 1;
  }

  /** The 32-bit register at a word-aligned offset; claim has its side effect only when `claimOk`. */
  private readWord(off: number, claimOk: boolean): number {
    if (off < PENDING_BASE) {
      const src = (off - PRIORITY_BASE) >>> 2;
      return src <= this.numSources ? this.priority[src] : 0;
    }
    if (off < ENABLE_BASE) {
      const w = (off - PENDING_BASE) >>> 2;
      return w < this.words ? this.pending[w] >>> 0 : 0;
    }
    if (off < CONTEXT_BASE) {
      const ctx = Math.floor((off - ENABLE_BASE) / ENABLE_STRIDE), w = ((off - ENABLE_BASE) % ENABLE_STRIDE) >>> 2;
      return ctx < this.numContexts && w < this.words ? this.enable[ctx * this.words + w] >>> 0 : 0;
    }
    const ctx = Math.floor((off - CONTEXT_BASE) / CONTEXT_STRIDE), reg = (off - CONTEXT_BASE) % CONTEXT_STRIDE;
    if (ctx >= this.numContexts) return 0;
    if (reg === 0) return this.threshold[ctx];
    if (reg === 4) return claimOk ? this.claim(ctx) : 0;
    return 0;
  }

  private writeWord(off: number, value: number, completeOk: boolean): void {
    if (off < PENDING_BASE) {
      const src = (off - PRIORITY_BASE) >>> 2;
      if (src === 0 || src > this.numSources) return;
      this.priority[src] = Math.min(value >>> 0, PLIC_MAX_PRIORITY) & PLIC_MAX_PRIORITY;
      this.update();
      return;
    }
    if (off < ENABLE_BASE) return; // pending bits are read-only
    if (off < CONTEXT_BASE) {
      const ctx = Math.floor((off - ENABLE_BASE) / ENABLE_STRIDE), w = ((off - ENABLE_BASE) % ENABLE_STRIDE) >>> 2;
      if (ctx >= this.numContexts || w >= this.words) return;
      let v = value >>> 0;
      if (w === 0) v &= ~1; // source 0 does not exist
      if (w === this.words - 1) { const top = (this.numSources & 31) + 1; if (top < 32) v &= (1 << top) - 1; }
      this.enable[ctx * this.words + w] = v;
      this.update();
      return;
    }
    const ctx = Math.floor((off - CONTEXT_BASE) / CONTEXT_STRIDE), reg = (off - CONTEXT_BASE) % CONTEXT_STRIDE;
    if (ctx >= this.numContexts) return;
    if (reg === 0) {
      this.threshold[ctx] = Math.min(value >>> 0, PLIC_MAX_PRIORITY);
      this.update();
    } else if (reg === 4 && completeOk) {
      this.complete(ctx, value >>> 0);
    }
  }

  read(offset: number, width: number): number {
    const aligned = offset & ~3;
    // Claim only happens on a full-width read of the claim register; narrower reads see 0 there.
    const word = this.readWord(aligned, width === 4 && aligned === offset);
    if (width === 4) return word >>> 0;
    const shift = 8 * (offset & 3);
    return (word >>> shift) & (width === 1 ? 0xff : 0xffff);
  }

  write(offset: number, width: number, value: number): void {
    const aligned = offset & ~3;
    if (width === 4 && aligned === offset) { this.writeWord(aligned, value, true); return; }
    // Narrow writes merge into the current register value (no claim/complete side effects).
    const isClaim = aligned >= CONTEXT_BASE && (aligned - CONTEXT_BASE) % CONTEXT_STRIDE === 4;
    if (isClaim) return;
    const shift = 8 * (offset & 3), mask = (width === 1 ? 0xff : 0xffff) << shift;
    const cur = this.readWord(aligned, false);
    this.writeWord(aligned, (cur & ~mask) | ((value << shift) & mask), false);
  }
}
