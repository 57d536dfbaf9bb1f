// JIT behaviour the workloads cannot show on their own: code overwritten by DMA, precise state at a fault in
// the middle of a compiled block, interrupts breaking a compiled self-loop, and source maps of dumped code.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SourceMapConsumer } from 'source-map';
import { Machine, EngineName } from '../src/machine.js';
import { JitEngine } from '../jit/engine.js';
import { parseElf } from '../src/elf.js';
import { Asm, enc } from './asm.js';
import { REPO_ROOT, WORKLOADS_BIN } from './oracle.js';

const RAM = 0x80000000;
const [ra, t0, t1, t2, s0, s1, a0, a1, t3, t4, t5, t6] = [1, 5, 6, 7, 8, 9, 10, 11, 28, 29, 30, 31];
const MTVEC = 0x305, MIE = 0x304, MSTATUS = 0x300;

function machine(engine: EngineName, prog: Asm, maxInsns?: number): Machine {
  const m = new Machine({ memBytes: 16 << 20, engine, maxInsns, jit: { threshold: 2 } });
  m.bus.writeBytes(RAM, prog.assemble(RAM));
  m.hart.pc = BigInt(RAM);
  return m;
}

/** Write 0x5555 to the test finisher: the run ends with status 0. */
const pass = (a: Asm) => a.li(t5, 0x100000).li(t6, 0x5555).raw(enc.sw(t6, t5, 0)).label('hang').jal(0, 'hang');

function state(m: Machine) {
  const h = m.hart;
  return { x: Array.from({ length: 32 }, (_, i) => h.getX(i)), pc: h.pc, instret: h.instret, mepc: h.mepc, mcause: h.mcause, mtval: h.mtval };
}

describe('jit', () => {
  it('drops translated code that DMA overwrites', () => {
    const prog = new Asm().raw(enc.addi(a1, 0, 0))
      .label('loop').jal(ra, 'f').raw(enc.add(a1, a1, a0)).jal(0, 'loop')
      .label('f').raw(enc.addi(a0, 0, 1)).raw(enc.jalr(0, ra, 0));
    const fAddr = RAM + prog.offsetOf('f');
    const results = (['interp', 'jit'] as const).map((engine) => {
      const m = machine(engine, prog, 5000);
      expect(m.run().kind).toBe('limit');
      const before = m.hart.getX(a1);
      const bytes = new Uint8Array(4);
      new DataView(bytes.buffer).setUint32(0, enc.addi(a0, 0, 2), true);
      m.bus.writeBytes(fAddr, bytes); // as a DMA engine would
      m.opts.maxInsns = 10_000; // the limit counts all instructions run
      expect(m.run().kind).toBe('limit');
      return { m, before, after: m.hart.getX(a1) };
    });
    const [interp, jit] = results;
    expect(jit.m.engine).toBeInstanceOf(JitEngine);
    expect((jit.m.engine as JitEngine).stats.compiledUnits).toBeGreaterThan(0);
    expect((jit.m.engine as JitEngine).stats.invalidations).toBeGreaterThan(0);
    // 5000 instructions are 1000 iterations of 5: +1 each before the write, +2 each after.
    expect(jit.before).toBe(1000n);
    expect(jit.after - jit.before).toBeGreaterThan(1990n);
    expect(jit.after).toBe(interp.after);
  });

  // A store's write-back of the registers written before it happens only when it misses in the TLB.
  it.each([
    ['load', enc.ld(t2, s0, 0), 5n],
    ['store', enc.sd(t1, s0, 0), 7n],
  ])('leaves precise state when a %s faults in the middle of a compiled block', (_, access, cause) => {
    const prog = new Asm().la(s0, 'data').li(s1, 200).la(t4, 'handler').raw(enc.csrrw(0, MTVEC, t4))
      .label('loop').raw(enc.addi(t0, t0, 1)).raw(enc.addi(t1, t1, 3)).raw(access)
      .raw(enc.addi(t3, t3, 1)).bne(t0, s1, 'loop')
      .raw(enc.addi(s0, 0, 0)).jal(0, 'loop') // next pass accesses address 0: an access fault mid-block
      .label('handler');
    pass(prog).label('data').raw(0x12345678).raw(0x9abcdef0);
    const [interp, jit] = (['interp', 'jit'] as const).map((engine) => {
      const m = machine(engine, prog);
      expect(m.run()).toEqual({ kind: 'exit', code: 0 });
      return { m, s: state(m) };
    });
    expect(jit.s.mcause).toBe(cause); // load or store access fault
    expect(jit.s.mtval).toBe(0n);
    expect(jit.s.mepc).toBe(BigInt(RAM + prog.offsetOf('loop') + 8));
    expect(jit.s.x[t0]).toBe(201n);
    expect(jit.s.x[t1]).toBe(603n);
    expect(jit.s.x[t3]).toBe(200n); // the addi after the faulting access did not run
    expect(jit.s).toEqual(interp.s);
    expect((jit.m.engine as JitEngine).stats.compiledUnits).toBeGreaterThan(0);
  });

  it('takes a timer interrupt out of a compiled self-loop', () => {
    const prog = new Asm().la(t4, 'handler').raw(enc.csrrw(0, MTVEC, t4))
      .raw(enc.lui(t0, 0x200c)).raw(enc.ld(t1, t0, -8)) // mtime
      .raw(enc.addi(t1, t1, 1000)).raw(enc.lui(t2, 0x2004)).raw(enc.sd(t1, t2, 0)) // mtimecmp = mtime + 1000
      .li(t3, 0x80).raw(enc.csrrs(0, MIE, t3)).li(t3, 8).raw(enc.csrrs(0, MSTATUS, t3))
      .label('spin').jal(0, 'spin')
      .label('handler');
    pass(prog);
    const m = machine('jit', prog, 2_000_000_000);
    expect(m.run()).toEqual({ kind: 'exit', code: 0 });
    expect(m.hart.mcause).toBe((1n << 63n) | 7n);
    expect(m.hart.mepc).toBe(BigInt(RAM + prog.offsetOf('spin')));
  });

  it('compiles a function entered by calls from another page, not only loops', () => {
    const prog = () => {
      const a = new Asm().li(s0, 3000).li(a0, 0).label('loop').jal(ra, 'f').raw(enc.addi(s0, s0, -1)).bne(s0, 0, 'loop');
      pass(a);
      for (let i = 0; i < 1024; i++) a.raw(enc.addi(0, 0, 0)); // f starts in the next page
      a.label('f');
      for (let i = 1; i <= 20; i++) a.raw(enc.addi(a0, a0, i));
      return a.raw(enc.jalr(0, ra, 0));
    };
    const [interp, jit] = (['interp', 'jit'] as const).map((e) => { const m = machine(e, prog()); m.run(); return m; });
    expect(state(jit)).toEqual(state(interp));
    expect(jit.hart.getX(a0)).toBe(3000n * 210n);
    // Straight-line code called 3000 times is compiled once its calls reach 32 times the loop threshold.
    const stats = (jit.engine as JitEngine).stats;
    expect(stats.interpreted / jit.stats.instructions).toBeLessThan(0.1);
  });

  it('stays exact when the code cache is bounded to one page and evicts', () => {
    const elf = parseElf(readFileSync(path.join(WORKLOADS_BIN, 'rv64i_alu.elf')), 'rv64i_alu');
    const outputs = ([['interp', {}], ['jit', { threshold: 2, maxPages: 1 }]] as const).map(([engine, jit]) => {
      const chunks: Uint8Array[] = [];
      const m = new Machine({ memBytes: 16 << 20, engine, jit, output: (b) => chunks.push(b) });
      m.loadElf(elf, 'rv64i_alu');
      expect(m.run()).toEqual({ kind: 'exit', code: 0 });
      return { m, text: Buffer.concat(chunks).toString('latin1') };
    });
    expect((outputs[1].m.engine as JitEngine).stats.evictions).toBeGreaterThan(0);
    expect(outputs[1].text).toBe(outputs[0].text);
    expect(outputs[1].text.length).toBeGreaterThan(1000);
  });

  it('--jit-dump source maps resolve generated lines to the guest instructions they came from', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'salus-jit-dump-'));
    const elfPath = path.join(WORKLOADS_BIN, 'rv64i_alu.elf');
    const r = spawnSync('node', [path.join(REPO_ROOT, 'dist/src/cli.js'), 'run', '--jit-verify', '--jit-threshold', '2', '--jit-dump', dir, elfPath], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const maps = readdirSync(dir).filter((f) => f.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(0);
    const elf = parseElf(readFileSync(elfPath), 'rv64i_alu');
    const bytesAt = (pa: number, n: number) => {
      const seg = elf.segments.find((s) => pa >= s.paddr && pa + n <= s.paddr + s.data.length)!;
      return seg.data.subarray(pa - seg.paddr, pa - seg.paddr + n);
    };
    let checked = 0;
    for (const file of maps.slice(0, 5)) {
      const js = readFileSync(path.join(dir, file.replace(/\.map$/, '')), 'utf8').split('\n');
      const consumer = await new SourceMapConsumer(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
      js.forEach((line, i) => {
        if (!/\/\*@\d+:\d+\*\//.test(line)) return;
        const pos = consumer.originalPositionFor({ line: i + 1, column: 0 });
        expect(pos.source).toMatch(/\.S$/);
        const listing = consumer.sourceContentFor(pos.source!)!.split('\n')[pos.line! - 1];
        const m = /^0x([0-9a-f]+): ([0-9a-f]+) /.exec(listing)!;
        const raw = m[2], pa = parseInt(m[1], 16);
        const got = Array.from(bytesAt(pa, raw.length / 2)).reverse().map((b) => b.toString(16).padStart(2, '0')).join('');
        expect(got).toBe(raw);
        checked++;
      });
      consumer.destroy();
    }
    expect(checked).toBeGreaterThan(10);
  });
});
