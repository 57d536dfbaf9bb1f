// The benchmark suite: the self-checking programs in workloads/bench under the interpreter, the JIT and (optionally)
// QEMU; medians, speedups, an SVG chart, and the figures the CI performance gate compares (bench/check.ts).
//
// How a figure is measured (docs/performance.md has the rationale):
// * Each (workload, engine, repetition) runs in a fresh Node process (bench/worker.js) that loads the ELF with the
//   Machine API, runs it to the finisher and reports guest instructions (machine.stats), the wall and CPU time spent
//   in Machine.run(), its own peak RSS and a pure-JS calibration figure measured around the run. A fresh process per
//   run gives every engine a cold start (no V8 feedback or code cache left over from another workload or engine) and
//   makes peak RSS a per-engine figure. The CI gate runs these processes with GATE_NODE_FLAGS.
// * QEMU runs the same ELF (`qemu-system-riscv64 -M virt -bios none -nographic -monitor none -cpu QEMU_CPU -kernel`);
//   its time is the wall time of the process, start-up included. Its MIPS use the instruction count Salus measured
//   for the same ELF: the programs are deterministic, so both execute the same instructions.
// * Repetitions are interleaved (rep 1 of every workload, then rep 2, ...) and each figure is the median.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Machine, type EngineName } from './machine.js';
import { parseElf, LoadError } from './elf.js';
import { JitEngine } from '../jit/engine.js';
import { imagesPresent } from './images.js';

/** The checkout: the nearest directory above this module (src/ or dist/src/) with a package.json. */
export const REPO_ROOT = (() => {
  let d = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(d, 'package.json')) && path.dirname(d) !== d) d = path.dirname(d);
  return d;
})();
export const BENCH_BIN = path.join(REPO_ROOT, 'workloads', 'bench', 'bin');

/** The QEMU oracle's -cpu flags: the same string as QEMU_CPU in test/oracle.ts (test/bench.test.ts checks it). */
export const QEMU_CPU =
  'rv64,h=false,zba=false,zbb=false,zbc=false,zbs=false,debug=false,' +
  'mvendorid=0,marchid=0x70216,mimpid=0x70216';
export const QEMU_BIN = process.env.SALUS_QEMU ?? 'qemu-system-riscv64';

/** The bare-metal benchmarks, in table order. */
export const BENCHMARKS = ['intmix', 'sha256', 'qsort', 'memcpy', 'nbody', 'matmul_d', 'dispatch', 'rvc_loop'] as const;

/**
 * The Linux boot row: our kernel and initramfs (`salus images`) booted bare (Linux in S-mode on the built-in SBI
 * firmware) from reset to the init's "checks done" and power-off, under the interpreter, the JIT and QEMU (with its
 * OpenSBI). Salus runs `salus boot --icount` and QEMU `-icount shift=0,align=off,sleep=off`, so idle time is skipped
 * on both and the figures measure execution speed. Opt-in (BenchOptions.linux): one boot takes 15 s to a minute.
 */
export const LINUX_BOOT = 'linux-boot';
/** The same boot with Linux as the host VM of the Salus hypervisor (`--mode salus`); QEMU has no such row. */
export const LINUX_BOOT_SALUS = 'linux-boot-salus';
const LINUX_APPEND = 'console=ttyS0 rdinit=/init';
const LINUX_MEM = '256M';
/** Printed by workloads/linux/init when every check has run. */
const LINUX_DONE = 'checks done';

export type BenchEngine = EngineName | 'qemu';

export interface SuiteConfig {
  /** Repetitions per (workload, engine); the median is reported. */
  reps: number;
  /** ELF directory (full or quick builds). */
  dir: string;
}
export const FULL: SuiteConfig = { reps: 3, dir: BENCH_BIN };
export const QUICK: SuiteConfig = { reps: 3, dir: path.join(BENCH_BIN, 'quick') };

export function elfPath(name: string, quick: boolean): string {
  return path.join(quick ? QUICK.dir : FULL.dir, `${name}.elf`);
}

// ---------------------------------------------------------------------------------------------------------------
// Calibration: a fixed pure-JS loop of the kind of work an emulator does (typed-array loads and stores, int32
// arithmetic, a switch). Its throughput measures how fast this machine, right now, runs such JavaScript.

const CAL_MEM = new Int32Array(1 << 14);
const CAL_ITERS = 2_000_000;

function calibrationChunk(iters: number): number {
  const mem = CAL_MEM;
  let a = 0x12345678, b = 0x9abcdef, c = 0;
  for (let i = 0; i < iters; i++) {
    switch ((a >>> 28) & 7) {
      case 0: a = (a + b) | 0; break;
      case 1: a = (a ^ (b << 3)) | 0; break;
      case 2: mem[a & 0x3fff] = b; a = (a + 0x6d2b79f5) | 0; break;
      case 3: b = (b + mem[(a >>> 4) & 0x3fff]) | 0; a = (a << 1) | (a >>> 31); break;
      case 4: a = Math.imul(a, 0x2c1b3c6d) | 0; break;
      case 5: c = (c + ((a >>> 0) < (b >>> 0) ? 1 : 0)) | 0; a = (a - b) | 0; break;
      case 6: a = (a >> 3) ^ b; break;
      default: b = (b ^ a) | 0; a = (a + 0x3c6ef372) | 0; break;
    }
    b = (b + i) | 0;
  }
  return (a ^ b ^ c) | 0;
}

let calSink = 0;
/** CPU seconds (user + system, all threads) this process has used. */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * Millions of calibration-loop iterations per second of wall time and per second of CPU time: the medians over
 * `chunks` chunks of about 5 ms each.
 */
export function calibrate(chunks = 5): { wall: number; cpu: number } {
  const wall: number[] = [], cpu: number[] = [];
  for (let k = 0; k < chunks; k++) {
    const c0 = cpuSeconds(), t0 = process.hrtime.bigint();
    calSink ^= calibrationChunk(CAL_ITERS);
    const ns = Number(process.hrtime.bigint() - t0), c = cpuSeconds() - c0;
    wall.push(CAL_ITERS / ns * 1e3);
    if (c > 0) cpu.push(CAL_ITERS / c / 1e6);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

/** Run the calibration loop until V8 has optimised it. */
export function warmCalibration(): void {
  for (let k = 0; k < 5; k++) calSink ^= calibrationChunk(CAL_ITERS);
}

// ---------------------------------------------------------------------------------------------------------------
// One run.

export interface RunSample {
  engine: BenchEngine;
  /** Guest instructions (0 for QEMU: its MIPS use the count Salus measured for the same ELF). */
  instructions: number;
  /** Seconds in Machine.run() (Salus) or of the whole process (QEMU). */
  seconds: number;
  /** CPU seconds (user + system, all threads of the process) during Machine.run() (Salus only). */
  cpuSeconds?: number;
  /** Finisher exit code, or -1 if the guest did not exit. */
  code: number;
  /** Guest console output. */
  output: string;
  /** Calibration Mops per wall second and per CPU second, measured around the run (Salus only). */
  calibMops?: number;
  calibCpuMops?: number;
  /** Peak resident set of the process, KiB (Salus only). */
  maxRssKiB?: number;
  /** Guest MIPS over the second half of the instructions (Salus only; see Machine.secondHalfMips). */
  secondHalfMips?: number;
  /** JIT statistics (JIT only). */
  jit?: { units: number; blocks: number; compileMs: number; invalidations: number };
  /** Why the run did not end normally. */
  error?: string;
}

/** Safety cap for runaway guests. */
const MAX_INSNS = 20e9;

/** Run an ELF in this process with the Machine API. */
export function runElf(elf: string, engine: EngineName, opts: { maxInsns?: number } = {}): RunSample {
  const img = parseElf(readFileSync(elf), elf);
  const out: number[] = [];
  const m = new Machine({
    memBytes: 128 << 20, engine, maxInsns: opts.maxInsns ?? MAX_INSNS,
    output: (bytes) => { for (const b of bytes) out.push(b); },
  });
  m.loadElf(img, elf);
  const c0 = cpuSeconds();
  const r = m.run();
  const cpu = cpuSeconds() - c0;
  const sample: RunSample = {
    engine, instructions: m.stats.instructions, seconds: m.stats.seconds, cpuSeconds: cpu,
    code: r.kind === 'exit' ? r.code : -1, output: Buffer.from(out).toString('latin1'), secondHalfMips: m.secondHalfMips(),
  };
  if (r.kind === 'limit') sample.error = `stopped after ${r.executed} instructions`;
  else if (r.kind === 'stuck') sample.error = r.reason;
  if (m.engine instanceof JitEngine) {
    const j = m.engine.stats;
    sample.jit = { units: j.compiledUnits, blocks: j.compiledBlocks, compileMs: j.compileMs, invalidations: j.invalidations };
  }
  return sample;
}

/** What bench/worker.js does: calibrate, run, calibrate again; report as one JSON line. */
export function workerMain(elf: string, engine: EngineName): RunSample {
  warmCalibration();
  const before = calibrate();
  const s = runElf(elf, engine);
  const after = calibrate();
  s.calibMops = (before.wall + after.wall) / 2;
  s.calibCpuMops = (before.cpu + after.cpu) / 2;
  s.maxRssKiB = process.resourceUsage().maxRSS;
  return s;
}

const WORKER = path.join(REPO_ROOT, 'dist', 'bench', 'worker.js');

interface Proc { stdout: string; stderr: string; code: number; seconds: number; timedOut: boolean }

function runProcess(cmd: string, args: string[], timeoutMs: number): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [], err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString('latin1'), stderr: Buffer.concat(err).toString('utf8'),
        code: code ?? -1, seconds: Number(process.hrtime.bigint() - t0) / 1e9, timedOut,
      });
    });
  });
}

/** Run one Salus measurement in a fresh Node process (with extra Node/V8 flags, e.g. --single-threaded). */
export async function runSalusChild(elf: string, engine: EngineName, timeoutMs = 600_000, nodeFlags: string[] = []): Promise<RunSample> {
  const p = await runProcess(process.execPath, [...nodeFlags, WORKER, elf, engine], timeoutMs);
  const line = p.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as RunSample;
  } catch {
    const why = p.timedOut ? `timed out after ${timeoutMs / 1000} s` : `worker exited with ${p.code}: ${p.stderr.trim().split('\n').slice(-3).join(' | ')}`;
    return { engine, instructions: 0, seconds: p.seconds, code: -1, output: '', error: why };
  }
}

let qemuOk: boolean | undefined;
export async function qemuInstalled(): Promise<boolean> {
  if (qemuOk === undefined) {
    try {
      const p = await runProcess(QEMU_BIN, ['--version'], 10_000);
      qemuOk = p.code === 0 && /QEMU emulator version/.test(p.stdout);
    } catch {
      qemuOk = false;
    }
  }
  return qemuOk;
}

/** Run an ELF under QEMU; time is the wall time of the whole process. */
export async function runQemuTimed(elf: string, timeoutMs = 300_000): Promise<RunSample> {
  const args = ['-M', 'virt', '-bios', 'none', '-nographic', '-monitor', 'none', '-cpu', QEMU_CPU, '-kernel', elf];
  const p = await runProcess(QEMU_BIN, args, timeoutMs);
  const s: RunSample = { engine: 'qemu', instructions: 0, seconds: p.seconds, code: p.code, output: p.stdout };
  if (p.timedOut) s.error = `timed out after ${timeoutMs / 1000} s`;
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// Figures.

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Parse "<name>: ok <checksum>": the checksum, or undefined if the output is not a pass. */
export function selfCheck(name: string, output: string): string | undefined {
  const m = new RegExp(`^${name}: ok ([0-9a-f]{16})$`).exec(output.trim());
  return m ? m[1] : undefined;
}

export interface EngineFigures {
  /** Median over the repetitions. */
  seconds: number;
  mips: number;
  /** Per-repetition seconds, in run order. */
  runs: number[];
  /** Median peak RSS in MiB (Salus only). */
  rssMiB?: number;
  /** Median calibration Mops (Salus only). */
  calibMops?: number;
  /** Median of MIPS / calibration Mops over the repetitions (Salus only). */
  normalized?: number;
  /** Median MIPS over the second half of each run: the steady state, without warm-up (Salus only). */
  secondHalfMips?: number;
  /** The same figures in CPU time (Salus only): median CPU seconds, MIPS per CPU second, normalised by CPU Mops. */
  cpuSeconds?: number;
  cpuMips?: number;
  cpuNormalized?: number;
  /** Every repetition's raw figures, in run order (guest output left out). */
  samples: Omit<RunSample, 'output' | 'engine'>[];
  jit?: RunSample['jit'];
}

export interface WorkloadResult {
  name: string;
  kind: 'bare' | 'linux';
  elf: string;
  instructions: number;
  checksum?: string;
  interp?: EngineFigures;
  jit?: EngineFigures;
  qemu?: EngineFigures;
  /** JIT MIPS / interpreter MIPS. */
  speedup?: number;
  /** The same over the second half of the runs, after warm-up. */
  steadySpeedup?: number;
  /** The same in CPU time. */
  cpuSpeedup?: number;
  /** JIT time / QEMU time (below 1: faster than QEMU). */
  jitOverQemu?: number;
  /** Self-check failures, checksum disagreements, errors: the gate fails on these. */
  problems: string[];
  /** Engines that ran the program correctly but counted its instructions differently (reported, not fatal). */
  warnings: string[];
}

export interface BenchReport {
  version: 1;
  quick: boolean;
  date: string;
  host: { node: string; cpu: string; cpus: number; loadavg: number[] };
  reps: number;
  /** Node/V8 flags of the measuring processes. */
  nodeFlags: string[];
  qemu: string | null;
  workloads: WorkloadResult[];
  /** Rows that were not measured, and why (the Linux boot unless asked for). */
  pending: { name: string; reason: string }[];
}

function figures(samples: RunSample[], instructions: number): EngineFigures {
  if (Number.isNaN(instructions)) instructions = median(samples.map((s) => s.instructions || NaN));
  const secs = samples.map((s) => s.seconds);
  const f: EngineFigures = {
    seconds: median(secs), mips: median(secs.map((t) => instructions / t / 1e6)), runs: secs,
    samples: samples.map(({ output: _o, engine: _e, ...rest }) => rest),
  };
  if (samples.every((s) => s.secondHalfMips !== undefined)) f.secondHalfMips = median(samples.map((s) => s.secondHalfMips!));
  if (samples[0].calibMops !== undefined) {
    f.calibMops = median(samples.map((s) => s.calibMops ?? NaN));
    f.normalized = median(samples.map((s) => instructions / s.seconds / 1e6 / (s.calibMops ?? NaN)));
  }
  if (samples[0].cpuSeconds !== undefined) {
    f.cpuSeconds = median(samples.map((s) => s.cpuSeconds ?? NaN));
    f.cpuMips = median(samples.map((s) => instructions / (s.cpuSeconds ?? NaN) / 1e6));
    f.cpuNormalized = median(samples.map((s) => instructions / (s.cpuSeconds ?? NaN) / 1e6 / (s.calibCpuMops ?? NaN)));
  }
  if (samples[0].maxRssKiB !== undefined) f.rssMiB = median(samples.map((s) => (s.maxRssKiB ?? NaN) / 1024));
  if (samples[samples.length - 1].jit) f.jit = samples[samples.length - 1].jit;
  return f;
}

/** Fold the samples of one workload into its result, checking every run's self-check and the engines' agreement. */
export function summarize(name: string, elf: string, samples: RunSample[]): WorkloadResult {
  const res: WorkloadResult = { name, kind: 'bare', elf, instructions: 0, problems: [], warnings: [] };
  const sums = new Set<string>();
  const counts = new Map<string, Set<number>>();
  const good: Record<string, RunSample[]> = {};
  for (const s of samples) {
    const sum = selfCheck(name, s.output);
    if (s.error || s.code !== 0 || sum === undefined) {
      const what = s.error ?? (s.output.trim().split('\n').pop() || 'no output');
      res.problems.push(`${name} [${s.engine}]: self-check failed (exit ${s.code}): ${what}`);
      continue;
    }
    sums.add(sum);
    if (s.engine !== 'qemu') {
      if (!counts.has(s.engine)) counts.set(s.engine, new Set());
      counts.get(s.engine)!.add(s.instructions);
    }
    (good[s.engine] ??= []).push(s);
  }
  if (sums.size > 1) res.problems.push(`${name}: engines disagree on the checksum: ${[...sums].join(' ')}`);
  // The programs are deterministic: every run must execute the same instructions. MIPS use the interpreter's
  // count (the reference engine) when the engines disagree.
  const all = new Set([...counts.values()].flatMap((c) => [...c]));
  if (all.size > 1) {
    res.warnings.push(`${name}: instruction counts differ: ` +
      [...counts].map(([e, c]) => `${e} ${[...c].join('/')}`).join(', '));
  }
  res.checksum = [...sums][0];
  res.instructions = Math.max(0, ...(counts.get('interp') ?? counts.get('jit') ?? []));
  if (res.instructions > 0) {
    for (const e of ['interp', 'jit', 'qemu'] as const) if (good[e]?.length) res[e] = figures(good[e], res.instructions);
  }
  if (res.interp && res.jit) res.speedup = res.jit.mips / res.interp.mips;
  if (res.interp?.secondHalfMips && res.jit?.secondHalfMips) res.steadySpeedup = res.jit.secondHalfMips / res.interp.secondHalfMips;
  if (res.interp?.cpuMips && res.jit?.cpuMips) res.cpuSpeedup = res.jit.cpuMips / res.interp.cpuMips;
  if (res.jit && res.qemu) res.jitOverQemu = res.jit.seconds / res.qemu.seconds;
  return res;
}

// ---------------------------------------------------------------------------------------------------------------
// The Linux boot.

const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli.js');

/** Boot our Linux images once; the sample's output is the guest console. */
export async function runLinuxBoot(engine: BenchEngine, images: { kernel: string; initrd: string }, timeoutMs = 900_000,
  mode: 'bare' | 'salus' = 'bare'): Promise<RunSample> {
  if (engine === 'qemu') {
    const p = await runProcess(QEMU_BIN, ['-M', 'virt', '-cpu', QEMU_CPU, '-m', LINUX_MEM, '-nographic', '-monitor', 'none',
      '-icount', 'shift=0,align=off,sleep=off', '-kernel', images.kernel, '-initrd', images.initrd, '-append', LINUX_APPEND], timeoutMs);
    return { engine, instructions: 0, seconds: p.seconds, code: p.code, output: p.stdout, ...(p.timedOut ? { error: 'timed out' } : {}) };
  }
  const p = await runProcess(process.execPath, [CLI, 'boot', '--mode', mode, '--stats', '--icount', '--engine', engine, '--mem', LINUX_MEM,
    '--kernel', images.kernel, '--initrd', images.initrd, '--append', LINUX_APPEND], timeoutMs);
  const insns = /^instructions (\d+)$/m.exec(p.stderr), secs = /^seconds ([\d.]+)$/m.exec(p.stderr);
  const s: RunSample = { engine, instructions: insns ? Number(insns[1]) : 0, seconds: secs ? Number(secs[1]) : p.seconds, code: p.code, output: p.stdout };
  if (p.timedOut) s.error = 'timed out';
  else if (!insns) s.error = `no --stats figures: ${p.stderr.trim().split('\n').slice(-2).join(' | ')}`;
  return s;
}

/** The Linux row: each engine's figures use its own instruction count (QEMU: time only; its firmware differs). */
export function summarizeLinux(samples: RunSample[], name = LINUX_BOOT): WorkloadResult {
  const res: WorkloadResult = { name, kind: 'linux', elf: '', instructions: 0, problems: [], warnings: [] };
  const good: Record<string, RunSample[]> = {};
  for (const s of samples) {
    if (s.error || s.code !== 0 || !s.output.includes(LINUX_DONE)) {
      res.problems.push(`${name} [${s.engine}]: did not reach "${LINUX_DONE}" and power off (exit ${s.code})${s.error ? `: ${s.error}` : ''}`);
      continue;
    }
    (good[s.engine] ??= []).push(s);
  }
  for (const e of ['interp', 'jit', 'qemu'] as const) if (good[e]?.length) res[e] = figures(good[e], NaN);
  res.instructions = res.interp?.samples[0]?.instructions ?? res.jit?.samples[0]?.instructions ?? 0;
  if (res.interp && res.jit) res.speedup = res.jit.mips / res.interp.mips;
  if (res.interp?.secondHalfMips && res.jit?.secondHalfMips) res.steadySpeedup = res.jit.secondHalfMips / res.interp.secondHalfMips;
  if (res.jit && res.qemu) res.jitOverQemu = res.jit.seconds / res.qemu.seconds;
  return res;
}

// ---------------------------------------------------------------------------------------------------------------
// The suite.

export interface BenchOptions {
  quick?: boolean;
  /** Write every figure to this JSON file. */
  json?: string;
  /** Write an SVG bar chart (MIPS per workload and engine) to this file. */
  chart?: string;
  /** Also run QEMU, if it is installed. */
  qemu?: boolean;
  log: (s: string) => void;
  /** Repetitions (default: 3). */
  reps?: number;
  /** Only these workloads. */
  only?: string[];
  /** Also boot Linux (our images must be built: `salus images`), linuxReps times per engine (default 1). */
  linux?: boolean;
  linuxReps?: number;
  /**
   * Node/V8 flags for the measuring processes. The CI gate uses GATE_NODE_FLAGS; the default (none) measures Salus
   * as `salus run` runs.
   */
  nodeFlags?: string[];
}

/**
 * The gate measures with V8's background threads off (no concurrent compilation, no parallel GC): optimised code
 * then arrives at the same point of a run however busy the machine is, and CPU time is the main thread's. With them
 * on, a loaded machine delays the JIT's optimised code (the compiler thread waits for a CPU) and the short quick runs
 * spend more of their time in slower tiers; docs/performance.md has the numbers.
 */
export const GATE_NODE_FLAGS = ['--single-threaded'];

const fmt = (x: number | undefined, d = 1) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));

export async function runBench(opts: BenchOptions): Promise<BenchReport> {
  const quick = !!opts.quick;
  const cfg = quick ? QUICK : FULL;
  const reps = Math.max(1, Math.floor(opts.reps ?? cfg.reps));
  const names = opts.only?.length ? BENCHMARKS.filter((n) => opts.only!.includes(n)) : [...BENCHMARKS];
  if (opts.only) for (const n of opts.only) if (!(BENCHMARKS as readonly string[]).includes(n)) throw new LoadError(`unknown benchmark '${n}' (have: ${BENCHMARKS.join(', ')})`);
  let qemuVersion: string | null = null;
  if (opts.qemu) {
    if (await qemuInstalled()) {
      const v = await runProcess(QEMU_BIN, ['--version'], 10_000);
      qemuVersion = /version (\S+)/.exec(v.stdout)?.[1] ?? 'unknown';
    } else {
      opts.log(`bench: ${QEMU_BIN} not found: the QEMU column is left out`);
    }
  }
  const engines: BenchEngine[] = ['interp', 'jit', ...(qemuVersion ? ['qemu' as const] : [])];
  for (const n of names) if (!existsSync(elfPath(n, quick))) throw new LoadError(`${elfPath(n, quick)} is missing: run make -C workloads`);
  opts.log(`bench: ${quick ? 'quick' : 'full'} suite, ${names.length} workloads x ${engines.join('/')} x ${reps} repetitions` +
    (opts.nodeFlags?.length ? `, node ${opts.nodeFlags.join(' ')}` : ''));

  const samples = new Map<string, RunSample[]>(names.map((n) => [n, []]));
  const t0 = Date.now();
  for (let r = 1; r <= reps; r++) {
    for (const name of names) {
      const elf = elfPath(name, quick);
      // Alternate the engine order between repetitions so neither engine always runs first.
      const order = r % 2 ? engines : [...engines].reverse();
      for (const e of order) {
        const s = e === 'qemu' ? await runQemuTimed(elf) : await runSalusChild(elf, e, undefined, opts.nodeFlags);
        samples.get(name)!.push(s);
        const insns = s.instructions || samples.get(name)!.find((x) => x.instructions)?.instructions || 0;
        const ok = selfCheck(name, s.output) !== undefined && s.code === 0 && !s.error;
        opts.log(`  [${r}/${reps}] ${name.padEnd(9)} ${e.padEnd(6)} ${fmt(insns / 1e6).padStart(7)} M insns ` +
          `${s.seconds.toFixed(3).padStart(8)} s ${fmt(insns / s.seconds / 1e6).padStart(7)} MIPS` +
          (s.cpuSeconds !== undefined ? ` (CPU ${s.cpuSeconds.toFixed(3)} s)` : '') +
          (s.calibMops ? `  calib ${s.calibMops.toFixed(0)} Mops (CPU ${fmt(s.calibCpuMops, 0)})` : '') + (ok ? '' : `  SELF-CHECK FAILED: ${s.error ?? s.output.trim()}`));
      }
    }
  }
  const workloads = names.map((n) => summarize(n, path.relative(REPO_ROOT, elfPath(n, quick)), samples.get(n)!));
  const pending: BenchReport['pending'] = [];
  if (!opts.linux) {
    pending.push({ name: LINUX_BOOT, reason: 'not run (add --linux: boots our Linux images under each engine)' });
  } else {
    let images: { kernel: string; initrd: string } | null = null;
    try { images = imagesPresent(); } catch (e) { opts.log(`bench: ${(e as Error).message}`); }
    if (!images) {
      pending.push({ name: LINUX_BOOT, reason: 'our Linux images are not built (salus images)' });
    } else {
      const rows: Record<string, RunSample[]> = { [LINUX_BOOT]: [], [LINUX_BOOT_SALUS]: [] };
      const lreps = Math.max(1, Math.floor(opts.linuxReps ?? 1));
      // Bare and Salus boots alternate, so load changes hit both alike: their ratio is Salus's overhead.
      for (let r = 1; r <= lreps; r++) {
        for (const e of engines) {
          for (const name of [LINUX_BOOT, LINUX_BOOT_SALUS]) {
            if (name === LINUX_BOOT_SALUS && e === 'qemu') continue;
            const s = await runLinuxBoot(e, images, undefined, name === LINUX_BOOT ? 'bare' : 'salus');
            rows[name].push(s);
            const ok = !s.error && s.code === 0 && s.output.includes(LINUX_DONE);
            opts.log(`  [${r}/${lreps}] ${name} ${e.padEnd(6)} ${s.instructions ? `${fmt(s.instructions / 1e6).padStart(7)} M insns ` : ''}` +
              `${s.seconds.toFixed(3).padStart(8)} s${s.instructions ? ` ${fmt(s.instructions / s.seconds / 1e6).padStart(7)} MIPS` : ''}` +
              (ok ? '' : `  FAILED: exit ${s.code} ${s.error ?? s.output.trim().split('\n').slice(-1)[0] ?? ''}`));
          }
        }
      }
      workloads.push(summarizeLinux(rows[LINUX_BOOT]), summarizeLinux(rows[LINUX_BOOT_SALUS], LINUX_BOOT_SALUS));
    }
  }
  const report: BenchReport = {
    version: 1, quick, date: new Date().toISOString(),
    host: { node: process.version, cpu: os.cpus()[0]?.model ?? 'unknown', cpus: os.cpus().length, loadavg: os.loadavg() },
    reps, nodeFlags: opts.nodeFlags ?? [], qemu: qemuVersion, workloads, pending,
  };
  opts.log(`bench: done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  opts.log(formatTable(report));
  if (opts.json) { writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`); opts.log(`bench: wrote ${opts.json}`); }
  if (opts.chart) { writeFileSync(opts.chart, chartSvg(report)); opts.log(`bench: wrote ${opts.chart}`); }
  return report;
}

/** The results as a Markdown table (plus the pending Linux rows and any problems). */
export function formatTable(rep: BenchReport): string {
  const head = ['workload', 'M insns', 'interp s', 'interp MIPS', 'JIT s', 'JIT MIPS', 'JIT/interp', 'JIT/interp 2nd half', 'QEMU s', 'QEMU MIPS',
    'JIT time/QEMU time', 'RSS MiB interp/JIT', 'calibrated speedup', 'JIT MIPS/calib Mops'];
  const gate = gateFigures(rep);
  const rows = rep.workloads.map((w) => [
    w.name, fmt(w.instructions / 1e6), fmt(w.interp?.seconds, 2), fmt(w.interp?.mips), fmt(w.jit?.seconds, 2), fmt(w.jit?.mips),
    w.speedup ? `${fmt(w.speedup, 2)}x` : '-', w.steadySpeedup ? `${fmt(w.steadySpeedup, 2)}x` : '-', fmt(w.qemu?.seconds, 2), fmt(w.qemu?.mips), fmt(w.jitOverQemu, 2),
    `${fmt(w.interp?.rssMiB, 0)}/${fmt(w.jit?.rssMiB, 0)}`, fmt(gate[w.name]?.speedup, 3), fmt(gate[w.name]?.jitNorm, 4),
  ]);
  for (const p of rep.pending) rows.push([p.name, `pending: ${p.reason}`, ...head.slice(2).map(() => '')]);
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
  const problems = rep.workloads.flatMap((w) => w.problems), warnings = rep.workloads.flatMap((w) => w.warnings ?? []);
  if (problems.length) lines.push('', 'PROBLEMS:', ...problems.map((p) => `  ${p}`));
  if (warnings.length) lines.push('', 'WARNINGS:', ...warnings.map((p) => `  ${p}`));
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// SVG chart: MIPS per workload, one bar per engine, log scale.

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function chartSvg(rep: BenchReport): string {
  const series = [
    { key: 'interp' as const, label: 'Salus interpreter', color: '#8c8c8c' },
    { key: 'jit' as const, label: 'Salus JIT', color: '#1f77b4' },
    { key: 'qemu' as const, label: `QEMU ${rep.qemu ?? ''}`.trim(), color: '#ff7f0e' },
  ].filter((s) => rep.workloads.some((w) => w[s.key]));
  const ws = rep.workloads;
  const all = ws.flatMap((w) => series.map((s) => w[s.key]?.mips ?? 0)).filter((v) => v > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(1, ...all))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(10, ...all))));
  const W = Math.max(640, 120 + ws.length * (series.length * 18 + 26)), H = 360, top = 50, bottom = 290, left = 70;
  const y = (v: number) => bottom - (Math.log10(v / lo) / Math.log10(hi / lo)) * (bottom - top);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">${esc(`Salus ${rep.quick ? 'quick ' : ''}benchmarks: guest MIPS (log scale, median of ${rep.reps})`)}</text>`,
  ];
  for (let v = lo; v <= hi; v *= 10) {
    out.push(`<line x1="${left}" x2="${W - 10}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v}</text>`);
  }
  out.push(`<text transform="translate(16 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle">MIPS</text>`);
  ws.forEach((w, i) => {
    const x0 = left + 14 + i * (series.length * 18 + 26);
    series.forEach((s, k) => {
      const v = w[s.key]?.mips;
      if (!v || !Number.isFinite(v)) {
        // Time only (QEMU on the Linux boot: its instruction count is not known).
        const t = w[s.key]?.seconds;
        if (t) out.push(`<text transform="translate(${x0 + k * 18 + 12} ${bottom - 4}) rotate(-90)" fill="${s.color}">${t.toFixed(1)} s</text>`);
        return;
      }
      const yt = y(Math.max(v, lo));
      out.push(`<rect x="${x0 + k * 18}" y="${yt.toFixed(1)}" width="16" height="${(bottom - yt).toFixed(1)}" fill="${s.color}">` +
        `<title>${esc(`${w.name} ${s.label}: ${v.toFixed(1)} MIPS`)}</title></rect>`);
    });
    out.push(`<text x="${x0 + (series.length * 18) / 2}" y="${bottom + 16}" text-anchor="middle">${esc(w.name)}</text>`);
    if (w.speedup) out.push(`<text x="${x0 + (series.length * 18) / 2}" y="${bottom + 30}" text-anchor="middle" fill="#555">${w.speedup.toFixed(1)}x</text>`);
  });
  out.push(`<text x="${left}" y="${bottom + 48}" fill="#555">below each workload: JIT/interpreter speedup. ${esc(rep.host.cpu)}, node ${esc(rep.host.node)}, ${rep.date.slice(0, 10)}</text>`);
  series.forEach((s, k) => {
    out.push(`<rect x="${left + k * 170}" y="30" width="12" height="12" fill="${s.color}"/>`,
      `<text x="${left + k * 170 + 16}" y="40">${esc(s.label)}</text>`);
  });
  out.push('</svg>', '');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// The CI gate: machine-independent figures compared with bench/baseline.json.

/** Per workload: JIT/interp speedup and JIT MIPS per calibration Mops. */
export type GateFigures = Record<string, { speedup: number; jitNorm: number }>;

/**
 * What the gate's figures are measured in: CPU time of the measuring process (the default: it does not count time
 * the process spent waiting for a CPU that other jobs held) or wall time.
 */
export type GateBasis = 'cpu' | 'wall';
export const DEFAULT_BASIS: GateBasis = 'cpu';

export interface Baseline {
  version: 1;
  /** Fractional drop of one workload's figure allowed before the gate fails (0.35: it may fall to 65%). */
  tolerance: number;
  /** The same for the geometric mean of a figure over all workloads (less noisy, so tighter). */
  suiteTolerance: number;
  created: string;
  host: string;
  /** How many quick-suite runs the figures are the median of. */
  runs: number;
  basis: GateBasis;
  /** Node/V8 flags the figures were measured with (GATE_NODE_FLAGS when written). */
  nodeFlags?: string[];
  figures: GateFigures;
}

export interface GateRow {
  workload: string;
  metric: 'speedup' | 'jitNorm';
  baseline: number;
  current: number;
  /** current / baseline */
  ratio: number;
  status: 'ok' | 'regressed' | 'improved';
}

export interface GateResult {
  ok: boolean;
  rows: GateRow[];
  /** In the baseline but not measured (or not measurable: self-check failed). */
  missing: string[];
  /** Measured but not in the baseline (not a failure). */
  added: string[];
  problems: string[];
}

/**
 * The gate's figures. Both are built from each run's throughput divided by the calibration figure of its own
 * process (MIPS / calibration Mops), which cancels most of the slowdown other jobs on the machine cause:
 * jitNorm is the JIT's median, speedup the ratio of the JIT's and the interpreter's medians. The noise study in
 * docs/performance.md compares this with plain ratios of MIPS, in CPU and in wall time.
 */
export function gateFigures(rep: BenchReport, basis: GateBasis = DEFAULT_BASIS): GateFigures {
  const f: GateFigures = {};
  for (const w of rep.workloads) {
    const norm = (e?: EngineFigures) => (basis === 'cpu' ? e?.cpuNormalized : e?.normalized);
    const jitNorm = norm(w.jit), interpNorm = norm(w.interp);
    if (w.kind !== 'bare' || w.problems.length || !jitNorm || !interpNorm) continue;
    f[w.name] = { speedup: jitNorm / interpNorm, jitNorm };
  }
  return f;
}

/** Median of each figure over several runs of the suite (for the baseline). */
export function medianFigures(runs: GateFigures[]): GateFigures {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r)))];
  const f: GateFigures = {};
  for (const n of names) {
    const have = runs.filter((r) => r[n]);
    f[n] = { speedup: median(have.map((r) => r[n].speedup)), jitNorm: median(have.map((r) => r[n].jitNorm)) };
  }
  return f;
}

/** Name of the gate's suite-wide row: the geometric mean over the workloads. */
export const GEOMEAN = '(geomean)';

const geomean = (xs: number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);

/** The figures plus a GEOMEAN entry: each figure's geometric mean over the workloads. */
export function withGeomean(f: GateFigures): GateFigures {
  const ws = Object.values(f);
  if (ws.length === 0) return { ...f };
  return { ...f, [GEOMEAN]: { speedup: geomean(ws.map((w) => w.speedup)), jitNorm: geomean(ws.map((w) => w.jitNorm)) } };
}

/**
 * Compare a run's figures with the baseline: every workload's two figures against `tolerance`, and the geometric
 * mean of each figure over the workloads both have against `suiteTolerance`.
 */
export function compareToBaseline(current: GateFigures, baseline: Baseline, problems: string[] = [],
  tolerance = baseline.tolerance, suiteTolerance = baseline.suiteTolerance): GateResult {
  const rows: GateRow[] = [];
  const missing: string[] = [];
  const row = (workload: string, metric: 'speedup' | 'jitNorm', base: number, cur: number, tol: number) => {
    const ratio = cur / base;
    const status = !(ratio >= 1 - tol) ? 'regressed' : ratio > 1 / (1 - tol) ? 'improved' : 'ok';
    rows.push({ workload, metric, baseline: base, current: cur, ratio, status });
  };
  const common: string[] = [];
  for (const [name, base] of Object.entries(baseline.figures)) {
    const cur = current[name];
    if (!cur) { missing.push(name); continue; }
    common.push(name);
    for (const metric of ['speedup', 'jitNorm'] as const) row(name, metric, base[metric], cur[metric], tolerance);
  }
  if (common.length > 1) {
    for (const metric of ['speedup', 'jitNorm'] as const) {
      row(GEOMEAN, metric, geomean(common.map((n) => baseline.figures[n][metric])), geomean(common.map((n) => current[n][metric])), suiteTolerance);
    }
  }
  const added = Object.keys(current).filter((n) => !(n in baseline.figures));
  const ok = missing.length === 0 && problems.length === 0 && rows.every((r) => r.status !== 'regressed');
  return { ok, rows, missing, added, problems };
}

export function formatGate(g: GateResult, tolerance: number, suiteTolerance = tolerance): string {
  const lines = [`| workload | figure | baseline | now | now/baseline | |`, `| --- | --- | --- | --- | --- | --- |`];
  for (const r of g.rows) {
    const label = r.metric === 'speedup' ? 'JIT/interp speedup' : 'JIT MIPS/calib Mops';
    const tol = r.workload === GEOMEAN ? suiteTolerance : tolerance;
    const mark = r.status === 'regressed' ? `REGRESSED (limit ${(1 - tol).toFixed(2)})` : r.status === 'improved' ? 'improved' : 'ok';
    lines.push(`| ${r.workload} | ${label} | ${r.baseline.toFixed(3)} | ${r.current.toFixed(3)} | ${r.ratio.toFixed(2)} | ${mark} |`);
  }
  for (const m of g.missing) lines.push(`| ${m} | - | in baseline | MISSING | - | FAIL |`);
  for (const a of g.added) lines.push(`| ${a} | - | not in baseline | measured | - | (run npm run bench:baseline) |`);
  for (const p of g.problems) lines.push(`PROBLEM: ${p}`);
  const regressed = g.rows.filter((r) => r.status === 'regressed').length;
  const tols = `tolerance ${(tolerance * 100).toFixed(0)}% per workload, ${(suiteTolerance * 100).toFixed(0)}% for the geomean`;
  lines.push('', g.ok ? `bench:check: PASS (${tols})`
    : `bench:check: FAIL: ${regressed} regressed figure(s), ${g.missing.length} missing workload(s), ${g.problems.length} problem(s) (${tols})`);
  if (g.ok && g.rows.some((r) => r.status === 'improved')) lines.push('Some figures improved beyond the tolerance: consider `npm run bench:baseline`.');
  return lines.join('\n');
}
