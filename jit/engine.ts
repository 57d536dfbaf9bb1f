// The JIT engine: interprets cold code, and compiles the hot blocks of a physical page into one function.
import { Hart } from '../runtime/hart.js';
import { Interpreter } from '../runtime/interp.js';
import { TRAP } from '../runtime/trap.js';
import { takeTrap } from '../runtime/privilege.js';
import type { Decoded } from '../runtime/decoder.js';
import { Block, RegionFn, compileRegion, regionSource } from './translate.js';

export interface JitOptions {
  /** Executions of a block before its page is compiled. */
  threshold: number;
  /** Most instructions in one block. */
  maxBlockLength: number;
  /** Most pages with compiled code; the least recently compiled is evicted first. */
  maxPages: number;
  /** Parse each generated function with acorn before compiling it. */
  verify?: (src: string, where: string) => void;
  /** Receives each compiled unit (for --jit-dump); pagePhys is the physical address of its page. */
  dump?: (unit: { name: string; src: string; blocks: Block[]; pagePhys: number }) => void;
}

export const DEFAULT_JIT: JitOptions = { threshold: 16, maxBlockLength: 128, maxPages: 4096 };

/** What is known about the code in one RAM page. */
class PageCode {
  blocks = new Map<number, Block & { hits: number }>();
  region: RegionFn | null = null;
  /** Page offsets (halfword index) that the region has a case for. */
  entries = new Uint8Array(2048);
  compiles = 0;
}

export interface JitStats { compiledUnits: number; compiledBlocks: number; compileMs: number; invalidations: number; evictions: number; sourceBytes: number }

export class JitEngine {
  readonly interp: Interpreter;
  /** Per RAM page; a plain array indexed by page number is the fastest lookup on the dispatch path. */
  private pages: (PageCode | undefined)[] = [];
  /** Pages holding compiled code, oldest first, for eviction. */
  private compiledPages: number[] = [];
  readonly stats: JitStats = { compiledUnits: 0, compiledBlocks: 0, compileMs: 0, invalidations: 0, evictions: 0, sourceBytes: 0 };

  constructor(readonly h: Hart, readonly opts: JitOptions = DEFAULT_JIT) {
    this.interp = new Interpreter(h);
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

  private invalidatePages(ramOff: number, length: number): void {
    for (let p = ramOff >>> 12; p <= (ramOff + length - 1) >>> 12; p++) {
      if (this.pages[p]) {
        this.pages[p] = undefined;
        this.stats.invalidations++;
        // A region may be running on this page: make it leave after the current instruction.
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
      if (d.ends || d.def.system) break;
    }
    return { off, ops: list, end: at };
  }

  private compile(pageOff: number, code: PageCode, hot: Block): void {
    // The region: every block of the page that has run, up to 4096 instructions, hottest first. Blocks never
    // run are left out: a transfer to them leaves the function, and compiling cold code costs more than it saves.
    const candidates = [...code.blocks.values()].filter((b) => b.hits > 0 && b.ops.length > 0).sort((a, b) => b.hits - a.hits);
    const chosen = new Map<number, Block>([[hot.off, hot]]);
    let insns = hot.ops.length;
    for (const b of candidates) {
      if (insns + b.ops.length > 4096) break;
      if (chosen.has(b.off)) continue;
      chosen.set(b.off, b);
      insns += b.ops.length;
    }
    const blocks = [...chosen.values()];
    const name = `page_${(pageOff >>> 12).toString(16)}_${code.compiles}`;
    const t0 = performance.now();
    const src = regionSource(blocks, name);
    this.opts.verify?.(src, `page at RAM offset 0x${pageOff.toString(16)}, guest pc 0x${this.h.pc.toString(16)}`);
    code.region = compileRegion(src);
    this.stats.compileMs += performance.now() - t0;
    this.stats.compiledUnits++;
    this.stats.compiledBlocks += blocks.length;
    this.stats.sourceBytes += src.length;
    if (code.compiles++ === 0) this.evictIfFull(pageOff >>> 12);
    code.entries.fill(0);
    for (const b of blocks) code.entries[b.off >>> 1] = 1;
    this.opts.dump?.({ name, src, blocks, pagePhys: this.h.bus.ramBase + pageOff });
  }

  /** Bound the cache: forget the oldest compiled page (its blocks are rebuilt if it runs again). */
  private evictIfFull(page: number): void {
    this.compiledPages.push(page);
    while (this.compiledPages.length > this.opts.maxPages) {
      const old = this.compiledPages.shift()!;
      if (this.pages[old]?.region) {
        this.pages[old] = undefined;
        this.stats.evictions++;
      }
    }
  }

  private pageCode(page: number): PageCode {
    let code = this.pages[page];
    if (!code) {
      code = new PageCode();
      this.pages[page] = code;
    }
    return code;
  }

  run(budget: number): number {
    const h = this.h;
    let n = 0;
    while (n < budget && !h.stop) {
      try {
        const pageOff = this.interp.fetchPage(h);
        const code = this.pageCode(pageOff >>> 12);
        const off = h.pcLo & 0xfff;
        // A region checks its budget between blocks, so it gets one block's length less than what is left:
        // runs stop at exactly the budget. The last few instructions of a slice are interpreted.
        const left = budget - n - this.opts.maxBlockLength;
        if (code.region && code.entries[off >>> 1] && left > 0) {
          n += code.region(h, left);
          continue;
        }
        let b = code.blocks.get(off);
        if (!b) {
          b = { ...this.buildBlock(pageOff, off), hits: 0 };
          code.blocks.set(off, b);
        }
        // Each recompilation of a page needs hotter code than the last, so pages settle quickly.
        if (++b.hits >= this.opts.threshold << Math.min(code.compiles, 8) && !code.entries[off >>> 1] &&
          b.ops.length > 0 && code.compiles < 64) {
          this.compile(pageOff, code, b);
          continue;
        }
        n += this.interp.run(Math.min(b.ops.length || 1, budget - n));
      } catch (e) {
        if (e !== TRAP) throw e;
        takeTrap(h, h.trapCause, h.trapTval, false);
        n++;
      }
    }
    return n;
  }
}
