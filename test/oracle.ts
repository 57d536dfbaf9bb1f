/**
 * QEMU oracle harness for the bare-metal workloads (workloads/isa/bin/*.elf).
 *
 * The oracle is `qemu-system-riscv64` 7.2 (Debian bookworm):
 *
 *   qemu-system-riscv64 -M virt -bios none -nographic -monitor none \
 *     -cpu <QEMU_CPU> -kernel x.elf
 *
 * -cpu flags (QEMU_CPU below), chosen so that QEMU implements what Salus
 * implements for these programs (RV64IMAFDC + Zicsr + Zifencei + Zihintpause
 * + Sstc, M/S/U, Sv39/48/57, 16 PMP entries):
 *   rv64                       base CPU (misa = RV64 ACDFIMSU, priv spec 1.12)
 *   h=false                    QEMU 7.2 enables the H extension by default
 *   zba/zbb/zbc/zbs=false      bit-manip extensions are on by default in 7.2
 *   debug=false                no Sdtrig trigger CSRs (tselect, tdata1-3, tinfo)
 *   mvendorid=0,marchid=0x70216,mimpid=0x70216
 *                              7.2's defaults for marchid/mimpid encode the
 *                              QEMU version ((7<<16)|(2<<8)|22 for 7.2.22);
 *                              pinned so the oracle does not change with the
 *                              distribution's QEMU package revision
 * Programs named h_*.elf exercise the hypervisor extension: for them QEMU
 * runs with h=true (QEMU_CPU_H) and Salus with --isa rv64gch; every other
 * program runs with h=false and --isa rv64gc (hypervisorCpu, salusIsaArgs).
 * Left at their 7.2 defaults (and implemented by Salus): sstc=true,
 * Zicsr/Zifencei/Zihintpause=true, pmp=true (16 entries, G=0), mmu=true
 * (Sv39/Sv48/Sv57), priv_spec 1.12, pmu-num=16 (mhpmcounter3..18 and
 * hpmcounter3..18 exist, mhpmevent3..31 exist; pmu-num=0 would make the
 * counters illegal).  Already off by default in 7.2 and kept
 * off: v, Zfh/Zfhmin, svinval/svnapot/svpbmt, zk*, zfinx, x-epmp, x-smaia/
 * x-ssaia (7.2 has no Zicbom/Zicboz/Zawrs properties at all).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const WORKLOADS_BIN = path.join(REPO_ROOT, 'workloads', 'isa', 'bin');
export const QEMU_BIN = process.env.SALUS_QEMU ?? 'qemu-system-riscv64';
export const QEMU_CPU =
  'rv64,h=false,zba=false,zbb=false,zbc=false,zbs=false,debug=false,' +
  'mvendorid=0,marchid=0x70216,mimpid=0x70216';
/** The same CPU with the hypervisor extension, for the h_*.elf programs. */
export const QEMU_CPU_H = QEMU_CPU.replace('h=false', 'h=true');

/** Whether a program exercises the hypervisor extension (its name starts with h_). */
export function hypervisorCpu(elf: string): boolean {
  return path.basename(elf).startsWith('h_');
}

/** The Salus --isa arguments matching the QEMU CPU used for a program. */
export function salusIsaArgs(elf: string): string[] {
  return ['--isa', hypervisorCpu(elf) ? 'rv64gch' : 'rv64gc'];
}

/** The Salus CLI entry point (override with SALUS_CLI, e.g. to test the harness). */
export const SALUS_CLI = process.env.SALUS_CLI ?? path.join(REPO_ROOT, 'dist', 'src', 'cli.js');

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
  /** true when the process was killed because it ran past the timeout */
  timedOut: boolean;
}

let qemuChecked: boolean | undefined;

/** Whether the oracle binary can be run. */
export function qemuAvailable(): boolean {
  if (qemuChecked === undefined) {
    const r = spawnSync(QEMU_BIN, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    qemuChecked = r.status === 0 && /QEMU emulator version/.test(r.stdout ?? '');
  }
  return qemuChecked;
}

/** QEMU's version string ("7.2.22"), or undefined. */
export function qemuVersion(): string | undefined {
  const r = spawnSync(QEMU_BIN, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return /version (\d+\.\d+(?:\.\d+)?)/.exec(r.stdout ?? '')?.[1];
}

function run(cmd: string, args: string[], timeoutMs: number, cwd?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString('latin1'),
        stderr: Buffer.concat(err).toString('utf8'),
        code: code ?? (signal ? 128 + (signalNumber(signal) ?? 0) : -1),
        timedOut,
      });
    });
  });
}

function signalNumber(sig: NodeJS.Signals): number | undefined {
  return ({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGSEGV: 11, SIGABRT: 6 } as Record<string, number>)[sig];
}

/**
 * Run an ELF on the QEMU oracle.  UART output is returned as `stdout`, the
 * exit code is the SiFive test-finisher code (0x5555 -> 0, (c<<16)|0x3333 -> c).
 * The CPU is QEMU_CPU_H for h_*.elf programs and QEMU_CPU for the others.
 * `icount` runs QEMU with a virtual, instruction-driven clock
 * (-icount shift=0,align=off,sleep=off) instead of host time.
 */
export function runQemu(
  elf: string,
  opts: { timeoutMs?: number; icount?: boolean } = {},
): Promise<RunResult> {
  const cpu = hypervisorCpu(elf) ? QEMU_CPU_H : QEMU_CPU;
  const args = ['-M', 'virt', '-bios', 'none', '-nographic', '-monitor', 'none', '-cpu', cpu];
  if (opts.icount) args.push('-icount', 'shift=0,align=off,sleep=off');
  args.push('-kernel', elf);
  return run(QEMU_BIN, args, opts.timeoutMs ?? 30_000);
}

/**
 * Run an ELF on Salus: `node dist/src/cli.js run <args> <elf>` from the repo
 * root.  CLI contract: UART output on stdout, process exit code = finisher code.
 * Unless args choose one, the ISA matches runQemu's CPU for the program
 * (salusIsaArgs): Salus's default (rv64gch) has H, QEMU_CPU does not.
 */
export function runSalus(
  elf: string,
  args: string[] = [],
  opts: { timeoutMs?: number } = {},
): Promise<RunResult> {
  const isa = args.includes('--isa') ? [] : salusIsaArgs(elf);
  return run(process.execPath, [SALUS_CLI, 'run', ...isa, ...args, elf], opts.timeoutMs ?? 300_000, REPO_ROOT);
}

export function salusCliBuilt(): boolean {
  return existsSync(SALUS_CLI);
}

/** Human-readable first difference between two outputs (undefined if equal). */
export function firstDifference(expected: string, actual: string, context = 3): string | undefined {
  if (expected === actual) return undefined;
  const e = expected.split('\n');
  const a = actual.split('\n');
  let i = 0;
  while (i < e.length && i < a.length && e[i] === a[i]) i++;
  const from = Math.max(0, i - context);
  const lines = [`first difference at line ${i + 1} (expected ${e.length} lines, got ${a.length}):`];
  for (let k = from; k < i; k++) lines.push(`  ${e[k]}`);
  lines.push(`- ${i < e.length ? e[i] : '<end of output>'}`);
  lines.push(`+ ${i < a.length ? a[i] : '<end of output>'}`);
  return lines.join('\n');
}
