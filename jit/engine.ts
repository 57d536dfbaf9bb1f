// The JIT engine: interprets cold code, and compiles the hot blocks of a physical page into one function.
import { Hart } from '../runtime/hart.js';
import { Interpreter, LOOP_HEADER, LOOP_WEIGHT, NOT_COMPILED, Profile, pageTable } from '../runtime/interp.js';
import { TRAP } from '../runtime/trap.js';
import { takeException } from '../runtime/exception.js';
import type { Decoded } from '../runtime/decoder.js';
import { Block, RegionFn, compileRegion, regionSource } from './translate.js';

export interface JitOptions {
  /** Iterations of a loop before it is compiled; code entered by calls and returns needs LOOP_WEIGHT times as many. */
  threshold: number;
  /** Most instructions in one block. */
  maxBlockLength: number;
  /**
   * Most instructions in one compiled unit. V8 does not optimise functions beyond about 60 KB of bytecode, and
   * a guest instruction takes about 170 bytes of generated source.
   */
  maxUnitInsns: number;
  /** Most pages with compiled code; the least recently compiled is evicted first. */
  maxPages: number;
  /** Parse each generated function with acorn before compiling it. */
  verify?: (src: string, where: string) => void;
  /** Receives each compiled unit (for --jit-dump); pagePhys is the physical address of its page. */
  dump?: (unit: { name: string; src: string; blocks: Block[]; pagePhys: number }) => void;
}

/**
 * Loops are compiled after 1000 iterations: V8 needs tens of milliseconds to optimise a generated function, so
 * only code that will keep running repays it (docs/jit.md has the measurements).
 */
export const DEFAULT_JIT: JitOptions = { threshold: 1000, maxBlockLength: 128, maxPages: 4096, maxUnitInsns: 200 };

/** Compiled code of one RAM page: one unit per hot entry point (the interpreter's profile marks them). */
class PageCode {
  /** Blocks already built for this page, by offset. */
  blocks = new Map<number, Block>();
  /** Units by entry (halfword index). */
  units: (RegionFn | undefined)[] = new Array(2048).fill(undefined);
  /** The blocks each unit was compiled from, by entry (halfword index), to know which units a write touches. */
  unitBlocks = new Map<number, Block[]>();
  compiles = 0;
}

const overlaps = (b: Block, lo: number, hi: number) => b.off < hi && lo < b.end;

export interface JitStats { interpreted: number; unitCalls: number; compiledUnits: number; compiledBlocks: number; compileMs: number; invalidations: number; evictions: number; sourceBytes: number }

/**
 * Most instructions in one call of a unit. A unit's exit path gets V8 type feedback only when a call returns
 * after its feedback vector exists: a loop whose first call ran for millions of instructions was optimised by
 * on-stack replacement without it, and deoptimised when it first left (docs/jit.md). A return to the dispatcher
 * every few thousand instructions costs nothing measurable.
 */
const UNIT_CALL_INSNS = 2000;

/** Most units compiled for one page. */
const MAX_UNITS_PER_PAGE = 256;

export class JitEngine {
  readonly interp: Interpreter;
  /** Per RAM page; a plain array indexed by page number is the fastest lookup on the dispatch path. */
  private pages: (PageCode | undefined)[];
  /** Pages holding compiled code, oldest first, for eviction. */
  private compiledPages: number[] = [];
  private readonly profile: Profile;
  readonly stats: JitStats = { interpreted: 0, unitCalls: 0, compiledUnits: 0, compiledBlocks: 0, compileMs: 0, invalidations: 0, evictions: 0, sourceBytes: 0 };

  constructor(readonly h: Hart, readonly opts: JitOptions = DEFAULT_JIT) {
    this.interp = new Interpreter(h);
    this.pages = pageTable(h, undefined);
    this.profile = {
      threshold: Math.max(1, Math.min(opts.threshold, Math.floor(0xffff / LOOP_WEIGHT))) * LOOP_WEIGHT,
      counts: pageTable(h, undefined), compiled: pageTable(h, NOT_COMPILED), seen: pageTable(h, undefined),
    };
    this.interp.profile = this.profile;
    const onWrite = h.onCodeWrite;
    h.onCodeWrite = (ramOff, length) => {
      onWrite(ramOff, length);
      this.invalidatePages(ramOff, length);
    };
    const onRam = h.bus.onRamWrite;
    h.bus.onRamWrite = (ramOff, length) => {
      onRam?.(ramOff, length);
      this.invalidatePages(ramOff, length);
    };
  }

  get decoder() { return this.interp.decoder; }

  private dropPage(p: number): void {
    this.pages[p] = undefined;
    this.profile.compiled[p] = NOT_COMPILED;
    this.profile.seen[p] = undefined;
    // It must become hot again before it is compiled again, or pages would evict each other on every entry.
    this.profile.counts[p] = undefined;
  }

  /** Drop the units (and cached blocks) holding any of the written bytes; writes to data beside code cost nothing. */
  private invalidatePages(ramOff: number, length: number): void {
    for (let p = ramOff >>> 12; p <= (ramOff + length - 1) >>> 12; p++) {
      const code = this.pages[p];
      if (!code) continue;
      const lo = Math.max(ramOff, p << 12) - (p << 12), hi = Math.min(ramOff + length, (p + 1) << 12) - (p << 12);
      for (const [off, b] of code.blocks) if (overlaps(b, lo, hi)) code.blocks.delete(off);
      let dropped = false;
      for (const [i, blocks] of code.unitBlocks) {
        if (!blocks.some((b) => overlaps(b, lo, hi))) continue;
        code.unitBlocks.delete(i);
        code.units[i] = undefined;
        this.profile.compiled[p][i] = 0; // NOT_COMPILED stays all zero
        dropped = true;
      }
      if (dropped) {
        this.stats.invalidations++;
        // The unit running may be one of them: make it leave after the current instruction.
        this.h.stop = true;
      }
    }
  }

  /** Straight-line code from a page offset up to a control transfer, system instruction, page end or length cap. */
  private buildBlock(pageOff: number, off: number): Block {
    const h = this.h, ops = this.interp.opsFor(pageOff);
    const list: Decoded[] = [];
    let at = off;
    while (at < 4096 && list.length < this.opts.maxBlockLength) {
      // An instruction straddling into the next page is left to the interpreter.
      if (at === 0xffe && (h.ram16[(pageOff + at) >>> 1] & 3) === 3) break;
      const d = ops[at >>> 1] ?? this.interp.decodeAt(h, ops, pageOff, at);
      list.push(d);
      at += d.len;
      if (d.flags !== 0) break; // a control transfer or system instruction ends the block
    }
    return { off, ops: list, end: at };
  }

  /** Static successors of a block inside its page: branch and jal targets, fall-through (incl. after calls). */
  private successors(b: Block): number[] {
    const last = b.ops[b.ops.length - 1], lastOff = b.end - last.len, name = last.def.name;
    const out: number[] = [];
    if (!last.def.ends || last.def.format === 'B' || (name === 'jal' && last.rd !== 0) || (name === 'jalr' && last.rd !== 0)) out.push(b.end);
    if (last.def.format === 'B' || name === 'jal') out.push(lastOff + last.imm);
    return out.filter((o) => o >= 0 && o < 4096);
  }

  /**
   * Compile a unit for a hot loop header: its block and the blocks reachable from it inside the page, breadth
   * first, up to maxUnitInsns. A transfer to anything else leaves the unit.
   */
  private compile(pageOff: number, entry: number): void {
    const page = pageOff >>> 12;
    let code = this.pages[page];
    if (!code) code = this.pages[page] = new PageCode();
    const chosen = new Map<number, Block>();
    const queue = [entry];
    const seen = this.profile.seen[page];
    let insns = 0;
    while (queue.length) {
      const off = queue.shift()!;
      // Blocks the interpreter never started are left out: V8 would optimise the unit before they ever ran, and
      // deoptimise it ("insufficient type feedback") when they first do.
      if (chosen.has(off) || (off !== entry && !seen?.[off >>> 1])) continue;
      // Another unit's loop is left to that unit: it is optimised already, and taking it in here would compile
      // it again, in a larger function. Other entries are taken in, so calls and returns inside the page stay
      // inside the unit.
      if (off !== entry && this.profile.compiled[page][off >>> 1] && seen![off >>> 1] & LOOP_HEADER) continue;
      let b = code.blocks.get(off);
      if (!b) { b = this.buildBlock(pageOff, off); code.blocks.set(off, b); }
      if (b.ops.length === 0 || insns + b.ops.length > this.opts.maxUnitInsns) continue;
      chosen.set(off, b);
      insns += b.ops.length;
      queue.push(...this.successors(b));
    }
    code.compiles++;
    if (chosen.size === 0) return;
    const blocks = [...chosen.values()];
    const name = `unit_${page.toString(16)}_${entry.toString(16)}`;
    const t0 = performance.now();
    const src = regionSource(blocks, name);
    this.opts.verify?.(src, `page at RAM offset 0x${pageOff.toString(16)}, guest pc 0x${this.h.pc.toString(16)}`);
    code.units[entry >>> 1] = compileRegion(src, this.h);
    code.unitBlocks.set(entry >>> 1, blocks);
    this.stats.compileMs += performance.now() - t0;
    this.stats.compiledUnits++;
    this.stats.compiledBlocks += blocks.length;
    this.stats.sourceBytes += src.length;
    if (code.compiles === 1) this.evictIfFull(page);
    let entries = this.profile.compiled[page];
    if (entries === NOT_COMPILED) entries = this.profile.compiled[page] = new Uint8Array(2048);
    entries[entry >>> 1] = 1;
    this.opts.dump?.({ name, src, blocks, pagePhys: this.h.bus.ramBase + pageOff });
  }

  /** Bound the cache: forget the oldest compiled page (it is compiled again if it becomes hot again). */
  private evictIfFull(page: number): void {
    this.compiledPages.push(page);
    while (this.compiledPages.length > this.opts.maxPages) {
      const old = this.compiledPages.shift()!;
      if (this.pages[old]?.compiles) {
        this.dropPage(old);
        this.stats.evictions++;
      }
    }
  }

  run(budget: number): number {
    const h = this.h, threshold = this.profile.threshold;
    let n = 0;
    while (n < budget && !h.stop) {
      try {
        const pageOff = this.interp.fetchPage(h);
        const page = pageOff >>> 12, i = (h.pcLo & 0xfff) >>> 1;
        const compiled = this.profile.compiled[page];
        // A region checks its budget between blocks, so it gets one block's length less than what is left:
        // runs stop at exactly the budget. The last few instructions of a slice are interpreted.
        const left = budget - n - this.opts.maxBlockLength;
        if (compiled[i] !== 0) {
          if (left > 0) { n += this.pages[page]!.units[i]!(h, Math.min(left, UNIT_CALL_INSNS)); this.stats.unitCalls++; continue; }
        } else {
          const counts = this.profile.counts[page];
          if (counts !== undefined && counts[i] >= threshold && (this.pages[page]?.compiles ?? 0) < MAX_UNITS_PER_PAGE) {
            this.compile(pageOff, i << 1);
            if (this.profile.compiled[page][i]) continue;
          }
        }
        // The interpreter runs until compiled or newly hot code starts.
        const ran = this.interp.run(budget - n);
        n += ran;
        this.stats.interpreted += ran;
      } catch (e) {
        if (e !== TRAP) throw e;
        takeException(h);
        n++;
      }
    }
    return n;
  }
}
