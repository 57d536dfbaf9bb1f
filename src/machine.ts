// The virt machine: RAM, devices at QEMU virt's addresses, one hart, and the run loop.
import { writeSync } from 'node:fs';
import { Bus } from '../runtime/bus.js';
import { Hart } from '../runtime/hart.js';
import { Interpreter } from '../runtime/interp.js';
import { JitEngine, JitOptions, DEFAULT_JIT } from '../jit/engine.js';
import { Uart } from '../runtime/devices/uart.js';
import { Clint, TIMEBASE_HZ } from '../runtime/devices/clint.js';
import { Finisher, FinisherEvent } from '../runtime/devices/finisher.js';
import { Plic } from '../runtime/devices/plic.js';
import { VirtioBlk, EmptyVirtioSlot, BlockBackend } from '../runtime/devices/virtio-blk.js';
import { pendingInterrupt, takeTrap } from '../runtime/privilege.js';
import { readMip } from '../runtime/csr.js';
import { disassemble } from '../runtime/disasm.js';
import { ElfImage, LoadError } from './elf.js';
import { mmuStats } from '../runtime/mmu.js';
import { vstimecmpDeadline } from '../runtime/hcsr.js';

export const VIRT = {
  ramBase: 0x80000000,
  uart: 0x10000000,
  uartIrq: 10,
  clint: 0x2000000,
  plic: 0xc000000,
  finisher: 0x100000,
  virtio: 0x10001000,
  virtioStride: 0x1000,
  virtioSlots: 8,
} as const;

export const MISA_RV64GC = (2n << 62n) | [..."ACDFIMSU"].reduce((m, c) => m | (1n << BigInt(c.charCodeAt(0) - 65)), 0n);

export type EngineName = 'interp' | 'jit';
/** --isa values: rv64gch implements the hypervisor extension (QEMU 7.2's default CPU has it), rv64gc does not. */
export const ISAS = ['rv64gch', 'rv64gc'] as const;
export type IsaName = (typeof ISAS)[number];

export interface MachineOptions {
  memBytes: number;
  engine?: EngineName;
  /** Default rv64gch. */
  isa?: IsaName;
  jit?: Partial<JitOptions>;
  maxInsns?: number;
  trace?: boolean;
  /** Receives guest console output. */
  output?: (bytes: Uint8Array) => void;
  /**
   * Deterministic time: mtime advances with executed instructions (100 per tick, so one instruction is 1 ns
   * at the 10 MHz timebase, like QEMU's -icount shift=0), and while every hart waits in WFI the clock jumps
   * straight to the next timer event.
   */
  icount?: boolean;
  /** Console input can wake the guest, so waiting with no timer armed is not a dead end. */
  interactive?: boolean;
  /** Block devices, attached to the virtio-mmio slots from the first (IRQ 1) on. */
  disks?: BlockBackend[];
}

export type RunResult =
  | { kind: 'exit'; code: number }
  | { kind: 'limit'; executed: number }
  | { kind: 'stuck'; reason: string };

const SLICE = 1 << 16;
/** Most progress samples kept for the second-half rate (Machine.recordProgress). */
const PROGRESS_SAMPLES = 4096;
const INSNS_PER_TICK = 100n;

export class Machine {
  readonly bus: Bus;
  readonly hart: Hart;
  readonly clint: Clint;
  readonly plic: Plic;
  readonly uart: Uart;
  readonly disks: VirtioBlk[] = [];
  readonly engine: Interpreter | JitEngine;
  private outBuf: number[] = [];
  // Deterministic clock state: instructions before the current slice, instret when it began, instructions
  // skipped while idle.
  private executedTotal = 0n;
  private sliceStartInstret = 0;
  private skippedInsns = 0n;
  private event: FinisherEvent | null = null;
  private readonly startNs = process.hrtime.bigint();

  constructor(readonly opts: MachineOptions) {
    const MAX_RAM = 2 ** 31;
    if (opts.memBytes < 1 << 20 || opts.memBytes > MAX_RAM) throw new LoadError(`--mem must be between 1M and 2G, got ${opts.memBytes} bytes`);
    if (opts.memBytes % 4096 !== 0) throw new LoadError('--mem must be a multiple of 4K');
    this.bus = new Bus(VIRT.ramBase, opts.memBytes);
    this.hart = new Hart(this.bus);
    this.hart.misa = MISA_RV64GC;
    this.hart.hext = (opts.isa ?? 'rv64gch') === 'rv64gch'; // misa.H reads as hext
    const now = opts.icount
      ? () => (this.executedTotal + BigInt(this.hart.instret - this.sliceStartInstret) + this.skippedInsns) / INSNS_PER_TICK
      : () => ((process.hrtime.bigint() - this.startNs) * BigInt(TIMEBASE_HZ)) / 1_000_000_000n;
    this.hart.readTime = now;
    this.clint = new Clint(VIRT.clint, [this.hart], now);
    this.plic = new Plic(VIRT.plic, [this.hart]);
    this.uart = new Uart(VIRT.uart, (b) => this.outBuf.push(b), (level) => this.plic.setSourceLevel(VIRT.uartIrq, level));
    this.bus.addDevice(this.uart);
    this.bus.addDevice(this.clint);
    this.bus.addDevice(this.plic);
    const disks = opts.disks ?? [];
    if (disks.length > VIRT.virtioSlots) throw new LoadError(`at most ${VIRT.virtioSlots} disks`);
    for (let i = 0; i < VIRT.virtioSlots; i++) {
      const base = VIRT.virtio + i * VIRT.virtioStride, irq = 1 + i;
      if (i < disks.length) {
        const d = new VirtioBlk(base, this.bus, disks[i], (level) => this.plic.setSourceLevel(irq, level));
        this.disks.push(d);
        this.bus.addDevice(d);
      } else {
        this.bus.addDevice(new EmptyVirtioSlot(base));
      }
    }
    this.bus.addDevice(new Finisher(VIRT.finisher, (e) => { this.event = e; this.hart.stop = true; }));
    this.engine = opts.engine === 'jit' && !opts.trace
      ? new JitEngine(this.hart, { ...DEFAULT_JIT, ...opts.jit })
      : new Interpreter(this.hart);
  }

  /** Load an ELF like `qemu -M virt -bios none -kernel`: segments at their physical addresses, M-mode at the entry. */
  loadElf(img: ElfImage, name: string): void {
    for (const s of img.segments) {
      if (this.bus.ramOffset(s.paddr, s.memsz) < 0) {
        throw new LoadError(`${name}: segment at 0x${s.paddr.toString(16)} (+0x${s.memsz.toString(16)}) is outside RAM ` +
          `0x${VIRT.ramBase.toString(16)}..0x${(VIRT.ramBase + this.opts.memBytes).toString(16)}`);
      }
      this.bus.writeBytes(s.paddr, s.data);
    }
    const h = this.hart;
    h.pc = img.entry;
    h.setX(10, 0n); // a0 = hart id
    h.setX(11, BigInt(VIRT.ramBase + this.opts.memBytes - (2 << 20))); // a1: where QEMU puts the device tree
    h.setX(5, img.entry); // t0: QEMU's reset vector jumps through it
  }

  private flushOutput(): void {
    if (this.outBuf.length === 0) return;
    const bytes = Uint8Array.from(this.outBuf);
    this.outBuf.length = 0;
    if (this.opts.output) this.opts.output(bytes);
    else writeSync(1, bytes);
  }

  /** Guest instructions executed and host time spent running. */
  readonly stats = { instructions: 0, seconds: 0 };
  /** (ms, instructions executed) pairs taken as the run goes, for the second-half rate. */
  private readonly progress: number[] = [];
  /** Instructions executed towards --max-insns. */
  private executed = 0;

  /** Run to the end (exit, instruction limit, or no way to progress), blocking; for programs without input. */
  run(): RunResult {
    for (;;) {
      const r = this.step(Infinity, true);
      if (r.kind !== 'paused') return r;
    }
  }

  /**
   * Run to the end, returning to the event loop every few milliseconds and while the guest idles, so console
   * input and timers are serviced.
   */
  async runAsync(): Promise<RunResult> {
    for (;;) {
      const r = this.step(20, false);
      if (r.kind !== 'paused') return r;
      await new Promise((resolve) => (r.idleMs > 0 ? setTimeout(resolve, r.idleMs) : setImmediate(resolve)));
    }
  }

  /** Ask the run loop to stop with this result (Ctrl-A X, SBI shutdown). */
  finish(code: number): void {
    this.event = { kind: 'exit', code };
    this.hart.stop = true;
  }

  /**
   * Execute slices until the run ends or sliceMs of wall time pass. When the hart idles: block for the wait
   * if blockWhenIdle, else return 'paused' with how long to wait.
   */
  step(sliceMs: number, blockWhenIdle: boolean): RunResult | { kind: 'paused'; idleMs: number } {
    const h = this.hart, max = this.opts.maxInsns ?? Infinity;
    const t0 = process.hrtime.bigint(), until = performance.now() + sliceMs;
    const before = this.executed;
    let round = 0, full = true;
    try {
      for (;;) {
        if (this.event) {
          if (this.event.kind === 'exit') return { kind: 'exit', code: this.event.code };
          return { kind: 'stuck', reason: 'guest requested a reset, which bare-metal runs do not support' };
        }
        if (h.stuck) return { kind: 'stuck', reason: h.stuck };
        if (this.executed >= max) return { kind: 'limit', executed: this.executed };
        // Slices cut short by a CSR write or an MMIO access are frequent: poll the clocks only after a full
        // slice or every 64 short ones.
        if (full || (++round & 63) === 0) {
          const now = performance.now();
          this.recordProgress(now);
          if (now >= until) return { kind: 'paused', idleMs: 0 };
          this.clint.update();
        }
        const irq = pendingInterrupt(h);
        if (irq >= 0) { h.waiting = false; takeTrap(h, irq, 0n, true); }
        if (h.waiting) {
          if ((readMip(h) & h.mie) !== 0) { h.waiting = false; continue; }
          const idle = this.idle(blockWhenIdle);
          if (idle < 0) return { kind: 'stuck', reason: 'the hart waits (wfi) for an interrupt that can never arrive' };
          if (idle > 0) return { kind: 'paused', idleMs: idle };
          continue;
        }
        h.stop = false;
        let budget = Math.min(SLICE, max - this.executed);
        if (this.opts.icount) {
          // End the slice at the next timer deadline, so the interrupt arrives at the same instruction every run.
          const ticks = this.nextDeadline() - h.readTime();
          if (ticks > 0n && ticks * INSNS_PER_TICK < BigInt(budget)) budget = Number(ticks * INSNS_PER_TICK);
        }
        this.sliceStartInstret = h.instret;
        const n = this.opts.trace ? this.traceStep(budget) : this.engine.run(budget);
        full = n >= budget;
        this.executed += n;
        this.executedTotal += BigInt(n);
        this.sliceStartInstret = h.instret;
        this.flushOutput();
      }
    } finally {
      this.flushOutput();
      this.stats.instructions += this.executed - before;
      this.stats.seconds += Number(process.hrtime.bigint() - t0) / 1e9;
    }
  }

  /**
   * Take a progress sample. Past PROGRESS_SAMPLES every other sample is dropped, so a long interactive run keeps a
   * bounded record that still spans the whole run.
   */
  private recordProgress(now: number): void {
    const p = this.progress;
    if (p.length >= 2 * PROGRESS_SAMPLES) {
      for (let i = 0; i < PROGRESS_SAMPLES / 2; i++) { p[2 * i] = p[4 * i]; p[2 * i + 1] = p[4 * i + 1]; }
      p.length = PROGRESS_SAMPLES;
    }
    p.push(now, this.executed);
  }

  /**
   * Guest MIPS over the second half of the instructions run, the steady state after the JIT's (and V8's)
   * warm-up; undefined for runs too short to have progress samples in both halves.
   */
  secondHalfMips(): number | undefined {
    const p = this.progress, last = p.length - 2;
    const half = p.findIndex((v, i) => i % 2 === 1 && v >= this.executed / 2);
    return half > 0 && last > half ? (p[last + 1] - p[half]) / (p[last] - p[half - 1]) / 1e3 : undefined;
  }

  /** One-paragraph summary for --stats. */
  statsReport(): string {
    const { instructions, seconds } = this.stats;
    const lines = [`instructions ${instructions}`, `seconds ${seconds.toFixed(3)}`, `MIPS ${(instructions / seconds / 1e6).toFixed(1)}`,
      `page walks ${mmuStats.walks}`];
    const steady = this.secondHalfMips();
    if (steady !== undefined) lines.push(`MIPS second half ${steady.toFixed(1)}`);
    if (this.engine instanceof JitEngine) {
      const j = this.engine.stats;
      lines.push(`jit units ${j.compiledUnits}, blocks ${j.compiledBlocks}, compile ms ${j.compileMs.toFixed(1)}, ` +
        `source KiB ${(j.sourceBytes / 1024).toFixed(0)}, invalidations ${j.invalidations}, evictions ${j.evictions}`,
        `jit unit calls ${j.unitCalls}, interpreted instructions ${j.interpreted} (${(100 * j.interpreted / instructions).toFixed(1)}%)`);
    }
    return lines.join('\n');
  }

  private traceStep(budget: number): number {
    let n = 0;
    while (n < budget && !this.hart.stop) {
      const h = this.hart;
      const pc = h.pc, priv = h.priv;
      const line = disassemble(this.engine, h);
      n += this.engine.run(1); // tracing always interprets
      process.stderr.write(`${priv} ${pc.toString(16).padStart(16, '0')} ${line}\n`);
    }
    return n;
  }

  /** The earliest enabled timer deadline (mtime ticks), or all ones if there is none. */
  private nextDeadline(): bigint {
    const h = this.hart;
    let deadline = 0xffffffffffffffffn;
    if (h.mie & (1 << 7)) deadline = this.clint.mtimecmp[0];
    if ((h.mie & (1 << 5)) && (h.menvcfg >> 63n)) deadline = deadline < h.stimecmp ? deadline : h.stimecmp;
    const vs = vstimecmpDeadline(h);
    return deadline < vs ? deadline : vs;
  }

  /**
   * The hart waits for an interrupt: in icount mode jump the clock to the next timer deadline (returns 0);
   * otherwise block until it (returns 0) or return the milliseconds to wait. -1 if no enabled timer can fire
   * and nothing else can wake the hart.
   */
  private idle(block: boolean): number {
    const h = this.hart;
    const deadline = this.nextDeadline();
    if (deadline === 0xffffffffffffffffn) return this.opts.interactive ? 10 : -1;
    const waitTicks = deadline - h.readTime();
    if (waitTicks <= 0n) return 0;
    if (this.opts.icount) {
      this.skippedInsns += waitTicks * INSNS_PER_TICK;
      return 0;
    }
    const ms = Math.max(1, Math.min(50, Number(waitTicks) / (TIMEBASE_HZ / 1000)));
    if (!block) return ms;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    return 0;
  }
}
