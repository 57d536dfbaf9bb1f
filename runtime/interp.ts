// The reference interpreter: decoded ops cached per RAM page, executed one at a time.
import { Hart, PAGE_MASK, TLB_SIZE } from './hart.js';
import { Decoder, Decoded, ENDS, SYSTEM } from './decoder.js';
import { allDefs, compileForInterpreter } from './isa/index.js';
import { Access, Cause, TRAP } from './trap.js';
import { takeException } from './exception.js';

const OPS_PER_PAGE = 2048;

/**
 * A table indexed by RAM page number, filled with undefined up to the RAM size. A `[]` grown by storing at page
 * 20000 has dictionary elements in V8 (a hash lookup on every access), and one whose elements kind changes after
 * code using it was optimised deoptimises that code (docs/jit.md, "Rare paths").
 */
export function pageTable<T>(h: Hart, fill: T): T[] {
  return Array.from({ length: h.codePages.length }, () => fill);
}

/** Profile.compiled of a page without compiled code: shared, all zero, never written. */
export const NOT_COMPILED = new Uint8Array(2048);

/**
 * What a loop iteration counts towards compiling its header, against 1 for entering code by a call, a return or
 * from another page: straight-line code must run LOOP_WEIGHT times as often as a loop before a unit pays for V8's
 * warm-up (docs/jit.md, "Entry points").
 */
export const LOOP_WEIGHT = 32;

/** Profile.seen bit of a loop header. */
export const LOOP_HEADER = 2;

/** Execution profile shared with the JIT, per RAM page (indexed by halfword offset). */
export interface Profile {
  /** Count at which an entry point is compiled: loop iterations times LOOP_WEIGHT. */
  threshold: number;
  counts: (Uint16Array | undefined)[];
  /**
   * Nonzero where compiled code starts; NOT_COMPILED for pages without any, so the lookup has no branch that
   * runs only once the first unit exists (V8 deoptimised run() there, docs/jit.md).
   */
  compiled: Uint8Array[];
  /**
   * Nonzero where the interpreter has started a block (entered a page, or a control transfer landed there);
   * LOOP_HEADER is set where a backward branch landed.
   */
  seen: (Uint8Array | undefined)[];
}

export class Interpreter {
  readonly decoder = new Decoder(allDefs, compileForInterpreter);
  /** Decoded ops per RAM page, indexed by halfword offset. */
  private pages: ((Decoded | undefined)[] | undefined)[];

  constructor(readonly h: Hart) {
    this.pages = pageTable(h, undefined);
    h.onCodeWrite = (ramOff, length) => this.invalidate(ramOff, length);
    // Device DMA and loaders write RAM directly.
    h.bus.onRamWrite = (ramOff, length) => {
      for (let p = ramOff >>> 12; p <= (ramOff + length - 1) >>> 12; p++) if (h.codePages[p]) { this.invalidate(ramOff, length); return; }
    };
  }

  /** Drop cached ops that overlap written bytes (an op may start up to 2 bytes before them). */
  invalidate(ramOff: number, length: number): void {
    for (let a = ramOff - 2; a < ramOff + length; a += 2) {
      const ops = this.pages[a >>> 12];
      if (ops && a >= 0) ops[(a & 0xfff) >>> 1] = undefined;
    }
  }

  /** RAM offset of the page holding the current pc, translating through the exec TLB. */
  fetchPage(h: Hart): number {
    const t = h.tlbX, i = (h.pcLo >>> 12) & (TLB_SIZE - 1);
    if (t.tagLo[i] === (h.pcLo & PAGE_MASK) && t.tagHi[i] === h.pcHi) return t.off[i];
    return this.ramOffsetForFetch(h, h.pcLo, h.pcHi) & PAGE_MASK;
  }

  private ramOffsetForFetch(h: Hart, lo: number, hi: number): number {
    const pa = h.access(lo, hi, 2, Access.Exec);
    const off = h.bus.ramOffset(pa, 2);
    if (off < 0) throw h.raise(Cause.FetchAccess, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
    return off;
  }

  opsFor(ramPageOff: number): (Decoded | undefined)[] {
    const page = ramPageOff >>> 12;
    let ops = this.pages[page];
    if (!ops) {
      ops = new Array<Decoded | undefined>(OPS_PER_PAGE).fill(undefined);
      this.pages[page] = ops;
      this.h.protectCodePage(page);
    }
    return ops;
  }

  /** The op at a page offset; ops straddling into the next page are decoded through translation, not cached. */
  decodeAt(h: Hart, ops: (Decoded | undefined)[], pageOff: number, off: number): Decoded {
    const lo16 = h.ram16[(pageOff + off) >>> 1];
    if ((lo16 & 3) !== 3) return (ops[off >>> 1] = this.decoder.decode(lo16));
    if (off !== 0xffe) return (ops[off >>> 1] = this.decoder.decode(lo16 | (h.ram16[(pageOff + off + 2) >>> 1] << 16)));
    // The instruction straddles two pages: fetch its upper half through translation; don't cache it.
    const lo = (h.pcLo + 2) | 0, hi = (h.pcHi + (lo === 0 ? 1 : 0)) | 0;
    const upper = h.ram16[this.ramOffsetForFetch(h, lo, hi) >>> 1];
    return this.decoder.decode(lo16 | (upper << 16));
  }

  /**
   * Set by the JIT. The interpreter counts how often control arrives at block starts (loop headers weigh
   * LOOP_WEIGHT, calls, returns and page entries 1) and stops where compiled code starts or where such a count
   * reaches the threshold, so the JIT can take over. Straight-line code needs many more arrivals than a loop:
   * V8's own warm-up of a compiled function costs more than interpreting it a few thousand times.
   */
  profile: Profile | null = null;

  private compiledAt(pageOff: number, off: number): boolean {
    return this.profile!.compiled[pageOff >>> 12][off >>> 1] !== 0;
  }

  private seenOf(page: number): Uint8Array {
    const seen = this.profile!.seen;
    return seen[page] ?? (seen[page] = new Uint8Array(2048));
  }

  private markSeen(pageOff: number, off: number): void {
    this.seenOf(pageOff >>> 12)[off >>> 1] |= 1;
  }

  /** Count an entry point (weight 1, or LOOP_WEIGHT for a loop header); true if the JIT should take over here. */
  private jitWants(pageOff: number, off: number, weight: number): boolean {
    if (this.compiledAt(pageOff, off)) return true;
    const prof = this.profile!, page = pageOff >>> 12, i = off >>> 1;
    let counts = prof.counts[page];
    if (counts === undefined) counts = prof.counts[page] = new Uint16Array(2048);
    if (weight === LOOP_WEIGHT) this.seenOf(page)[i] |= LOOP_HEADER;
    const old = counts[i], c = Math.min(old + weight, 0xffff);
    counts[i] = c;
    return old < prof.threshold && c >= prof.threshold;
  }

  /**
   * Execute up to budget instructions; returns early when an instruction sets h.stop (or, with a profile, where
   * the JIT should take over, never before the first instruction). Traps are taken here.
   */
  run(budget: number): number {
    const h = this.h, profiled = this.profile !== null;
    // Retired instructions are counted in n and written to h.instret before system instructions (which may read
    // or write it) and on the way out; base + n is the architectural instret.
    let n = 0, base = h.instret, handOver = false;
    while (n < budget && !h.stop && !handOver) {
      try {
        while (n < budget && !h.stop) {
          const pageOff = this.fetchPage(h);
          const ops = this.opsFor(pageOff);
          const baseLo = h.pcLo & PAGE_MASK, baseHi = h.pcHi;
          let off = h.pcLo & 0xfff;
          if (profiled) {
            if (this.jitWants(pageOff, off, 1) && n > 0) { handOver = true; break; }
            this.markSeen(pageOff, off);
          }
          for (;;) {
            const d = ops[off >>> 1] ?? this.decodeAt(h, ops, pageOff, off);
            if (d.flags === 0) {
              d.fn(h, d);
              n++;
              off += d.len;
              if (off >= 4096) {
                // Next page; off may be 4098 after an instruction that straddled the boundary.
                h.pcLo = (baseLo + off) | 0;
                if ((h.pcLo >>> 0) < (baseLo >>> 0)) h.pcHi = (h.pcHi + 1) | 0;
                break;
              }
              h.pcLo = baseLo | off;
              if (h.stop || n >= budget) break;
              continue;
            }
            if (d.flags & SYSTEM) {
              h.instret = base + n;
              d.fn(h, d);
              base = h.instret - n;
            } else {
              d.fn(h, d);
            }
            n++;
            if (d.flags & ENDS) {
              if ((h.pcLo & PAGE_MASK) !== baseLo || h.pcHi !== baseHi || h.stop || n >= budget) break;
              const from = off;
              off = h.pcLo & 0xfff;
              if (profiled) {
                // Entry points worth a unit: loop headers (backward branches) and calls and returns (jumps).
                if ((off <= from || d.def.format !== 'B') && this.jitWants(pageOff, off, off <= from ? LOOP_WEIGHT : 1)) { handOver = true; break; }
                this.markSeen(pageOff, off);
              }
              continue;
            } else {
              off += d.len;
              h.pcLo = (baseLo + off) | 0;
              if (off >= 4096) {
                if ((h.pcLo >>> 0) < (baseLo >>> 0)) h.pcHi = (h.pcHi + 1) | 0;
                break;
              }
              if (h.stop || n >= budget) break;
            }
          }
          if (handOver) break;
        }
      } catch (e) {
        if (e !== TRAP) throw e;
        h.instret = base + n;
        takeException(h);
        // A trapping instruction does not retire, but counts against the budget so trap loops end.
        n++;
        base--;
      }
    }
    h.instret = base + n;
    return n;
  }
}
