#!/usr/bin/env node
// The salus command line.
import { writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { Machine, ISAS, IsaName } from './machine.js';
import { parseElf, LoadError, readInputFile } from './elf.js';
import { parseSize } from './size.js';
import { verifySource, dumpUnit, writeUnit, JitVerifyError } from '../jit/dump.js';
import type { JitOptions } from '../jit/engine.js';
import { bootLinux, BOOT_MODES, BootMode } from './boot.js';
import { EID } from '../salus/tsm.js';
import { Console } from './console.js';
import { RawImage, BlockBackend } from '../runtime/devices/virtio-blk.js';
import { buildImages, imagesPresent, imageDir, ImagesError } from './images.js';
import { runBench } from './bench.js';

const ENGINES = ['jit', 'interp'];
/** The committed tellus build (it embeds guestvm). */
const TELLUS_ELF = fileURLToPath(new URL('../../workloads/tellus/bin/tellus.elf', import.meta.url));
/** Exit status when --max-insns stops the guest. */
export const EXIT_LIMIT = 124;
/** Exit status when the guest can make no progress. */
export const EXIT_STUCK = 125;

function sizeArg(v: string): number {
  try { return parseSize(v, '--mem'); } catch (e) { throw new InvalidArgumentError((e as Error).message); }
}
function countArg(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`'${v}' is not a whole number`);
  return Number(v);
}

interface RunOptions {
  engine: 'jit' | 'interp'; isa: IsaName; mem: number; maxInsns?: number; trace?: boolean; stats?: boolean; icount?: boolean;
  jitThreshold?: number; jitVerify?: boolean; jitDump?: string;
}

function jitOptions(o: RunOptions): Partial<JitOptions> {
  const j: Partial<JitOptions> = {};
  if (o.jitThreshold !== undefined) j.threshold = Math.max(1, o.jitThreshold);
  if (o.jitVerify) j.verify = verifySource;
  const dir = o.jitDump;
  if (dir) j.dump = (u) => writeUnit(dir, u.name, dumpUnit(u.name, u.src, u.blocks, u.pagePhys));
  return j;
}

interface BootCliOptions extends RunOptions {
  kernel?: string; initrd?: string; append?: string; disk: string[]; snapshot?: boolean; bios: string; mode?: BootMode;
  kernelFormat: 'auto' | 'raw';
  /** Print which COVH and COVG functions the TSM served (salus tellus). */
  coveSummary?: boolean;
}

/** The TSM's own count of the COVH and COVG functions it was called with, by FID. */
function coveSummary(calls: Map<string, number>): string {
  const line = (name: string, eid: number, n: number) => {
    const fids = Array.from({ length: n }, (_, f) => f).filter((f) => calls.has(`${eid.toString(16)}:${f}`));
    const missing = Array.from({ length: n }, (_, f) => f).filter((f) => !fids.includes(f));
    return `salus: ${name} functions called: ${fids.length} of ${n}${missing.length ? ` (never: ${missing.join(' ')})` : ' (all)'}\n`;
  };
  return line('COVH', EID.COVH, 20) + line('COVG', EID.COVG, 11);
}

/** Guest lines that mean the kernel gave up; the run then exits non-zero. */
const PANIC = 'Kernel panic - not syncing';

async function boot(o: BootCliOptions): Promise<number> {
  let { kernel, initrd, append } = o;
  if (!kernel) {
    const images = imagesPresent() ?? await buildImages({ log: (l) => process.stderr.write(`${l}\n`) });
    kernel = images.kernel;
    initrd ??= images.initrd;
    append ??= 'console=ttyS0 rdinit=/init';
    process.stderr.write(`salus: booting our images from ${imageDir()}\n`);
  }
  append ??= 'console=ttyS0';
  const disks: BlockBackend[] = o.disk.map((path) => {
    try {
      return new RawImage(path, { snapshot: o.snapshot });
    } catch (e) {
      throw new LoadError(`disk ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
  });
  let tail = '';
  let panicked = false;
  const m = new Machine({
    memBytes: o.mem, engine: o.engine, isa: o.isa, maxInsns: o.maxInsns, icount: o.icount, jit: jitOptions(o), disks, interactive: true,
    output: (bytes) => {
      writeSync(1, bytes);
      tail = (tail + Buffer.from(bytes).toString('latin1')).slice(-200);
      if (!panicked && tail.includes(PANIC)) panicked = true;
      // A panicked kernel spins forever: stop once it has printed its report.
      if (panicked && tail.includes('---[ end Kernel panic')) m.finish(1);
    },
  });
  let fatal = '';
  const booted = bootLinux(m, {
    kernel, initrd, append, bios: o.bios, kernelFormat: o.kernelFormat,
    mode: o.mode ?? (o.bios === 'builtin' && o.isa === 'rv64gch' ? 'salus' : 'bare'),
    onEvent: (e) => {
      if (e.kind === 'shutdown') m.finish(e.reason === 0 ? 0 : 1); // reason 1: system failure
      else if (e.kind === 'reboot') { fatal = 'the guest asked for a reboot; Salus stops instead'; m.finish(panicked ? 1 : 0); }
      else if (e.kind === 'fatal') { fatal = `firmware: ${e.message}`; m.finish(1); }
    },
    onSalusFatal: (message) => { fatal = message.replace(/^salus: /, 'hypervisor: '); m.finish(1); },
  });
  const con = new Console(m);
  con.start();
  let r;
  try {
    r = await m.runAsync();
  } finally {
    con.stop();
  }
  if (o.stats) process.stderr.write(`${m.statsReport()}\n${booted.salus ? `${booted.salus.statsReport()}\n` : ''}`);
  if (o.coveSummary && booted.tsm) process.stdout.write(coveSummary(booted.tsm.calls));
  if (fatal) process.stderr.write(`salus: ${fatal}\n`);
  if (r.kind === 'limit') { process.stderr.write(`salus: stopped after ${r.executed} instructions (--max-insns)\n`); return EXIT_LIMIT; }
  if (r.kind === 'stuck') { process.stderr.write(`salus: ${r.reason}\n`); return EXIT_STUCK; }
  if (panicked) { process.stderr.write('salus: the guest kernel panicked\n'); return r.code || 1; }
  return r.code;
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('salus')
    .description('RISC-V RV64GC emulator and the Salus confidential-computing hypervisor')
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(s.replace(/^error: /, 'salus: ')) });

  program.command('run')
    .description('run a bare-metal RISC-V ELF like qemu-system-riscv64 -M virt -bios none -kernel ELF')
    .argument('<elf>', 'the program')
    .addOption(new Option('--engine <engine>', 'execution engine').choices(ENGINES).default('jit'))
    .addOption(new Option('--isa <isa>', 'instruction set: rv64gch has the hypervisor extension').choices(ISAS).default('rv64gch'))
    .option('--mem <size>', 'RAM size', sizeArg, 128 << 20)
    .option('--max-insns <n>', `stop after n instructions (exit status ${EXIT_LIMIT})`, countArg)
    .option('--trace', 'print every executed instruction to stderr')
    .option('--icount', 'deterministic time: mtime follows executed instructions; idle time is skipped')
    .option('--stats', 'print instruction count, time, MIPS and JIT figures to stderr at the end')
    .option('--jit-threshold <n>', 'loop iterations before a loop is compiled (code entered by calls: 32 times as many)', countArg)
    .option('--jit-verify', 'parse every generated function with acorn before compiling it')
    .option('--jit-dump <dir>', 'write each compiled unit as JS with a source map onto a guest instruction listing')
    .action((elf: string, o: RunOptions) => {
      const img = parseElf(readInputFile(elf), elf);
      const m = new Machine({ memBytes: o.mem, engine: o.engine, isa: o.isa, maxInsns: o.maxInsns, trace: o.trace, icount: o.icount, jit: jitOptions(o) });
      m.loadElf(img, elf);
      const r = m.run();
      if (o.stats) process.stderr.write(`${m.statsReport()}\n`);
      if (r.kind === 'exit') process.exitCode = r.code;
      else if (r.kind === 'limit') { process.stderr.write(`salus: stopped after ${r.executed} instructions (--max-insns)\n`); process.exitCode = EXIT_LIMIT; }
      else { process.stderr.write(`salus: ${r.reason}\n`); process.exitCode = EXIT_STUCK; }
    });

  program.command('boot')
    .description('boot Linux on the virt machine (with no --kernel: our images, built first if missing)')
    .option('--kernel <file>', 'Linux Image or ELF kernel')
    .addOption(new Option('--kernel-format <format>', "'raw' loads the kernel file as a raw binary").choices(['auto', 'raw']).default('auto'))
    .option('--initrd <file>', 'initial ramdisk')
    .option('--append <cmdline>', 'kernel command line')
    .option('--mem <size>', 'RAM size', sizeArg, 256 << 20)
    .option('--disk <file>', 'raw disk image on virtio-blk (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--snapshot', 'discard disk writes (keep them in memory)')
    .option('--bios <fw>', "M-mode firmware: 'builtin' (SBI in TypeScript), 'opensbi', or a path to fw_dynamic.bin", 'builtin')
    .addOption(new Option('--mode <mode>', "'salus': Linux as the host VM of the Salus hypervisor (default with the " +
      "built-in firmware and the H extension); 'bare': Linux in S-mode on the firmware").choices(BOOT_MODES))
    // The JIT only pays off for long-running loops; on a Linux boot it is slower than interpreting (docs/jit.md).
    .addOption(new Option('--engine <engine>', 'execution engine').choices(ENGINES).default('interp'))
    .addOption(new Option('--isa <isa>', 'instruction set: rv64gch has the hypervisor extension').choices(ISAS).default('rv64gch'))
    .option('--icount', 'deterministic time: mtime follows executed instructions; idle time is skipped')
    .option('--max-insns <n>', `stop after n instructions (exit status ${EXIT_LIMIT})`, countArg)
    .option('--stats', 'print instruction count, time, MIPS and JIT figures to stderr at the end')
    .option('--jit-threshold <n>', 'loop iterations before a loop is compiled (code entered by calls: 32 times as many)', countArg)
    .option('--jit-verify', 'parse every generated function with acorn before compiling it')
    .option('--jit-dump <dir>', 'write each compiled unit as JS with a source map onto a guest instruction listing')
    .action(async (o: BootCliOptions) => { process.exitCode = await boot(o); });

  program.command('tellus')
    .description('the CoVE demo: tellus, a host driver in VS-mode, runs guestvm as a confidential VM under Salus; ' +
      'exits non-zero if any check fails')
    .addOption(new Option('--engine <engine>', 'execution engine').choices(ENGINES).default('interp'))
    .option('--icount', 'deterministic time: mtime follows executed instructions; idle time is skipped')
    .option('--max-insns <n>', `stop after n instructions (exit status ${EXIT_LIMIT})`, countArg)
    .option('--stats', 'print instruction count, time, MIPS, JIT figures and Salus exits to stderr at the end')
    .action(async (o: RunOptions) => {
      process.exitCode = await boot({
        ...o, kernel: TELLUS_ELF, append: '', mode: 'salus', bios: 'builtin', mem: 128 << 20, disk: [],
        kernelFormat: 'auto', isa: 'rv64gch', coveSummary: true,
      });
    });

  program.command('images')
    .description('build (if needed) and verify the Linux guest images from Debian sources')
    .option('--install-deps', 'apt-get install the Debian packages the build needs')
    .option('--rebuild', 'build even if verified images are present')
    .action(async (o: { installDeps?: boolean; rebuild?: boolean }) => {
      const paths = await buildImages({ installDeps: o.installDeps, force: o.rebuild, log: (l) => process.stderr.write(`${l}\n`) });
      process.stdout.write(`${paths.kernel}\n${paths.initrd}\n${paths.rootfs}\n`);
    });

  program.command('bench')
    .description('run the benchmarks under the interpreter and the JIT (and QEMU), with a table, JSON and a chart')
    .option('--quick', 'smaller builds of the benchmarks (about 20 M instructions each)')
    .option('--json <file>', 'write every figure as JSON')
    .option('--chart <file>', 'write an SVG chart of interpreter, JIT and QEMU MIPS')
    .option('--qemu', 'also run each benchmark under qemu-system-riscv64')
    .option('--linux', 'also time the Linux boot of our images')
    .action(async (o: { quick?: boolean; json?: string; chart?: string; qemu?: boolean; linux?: boolean }) => {
      const r = await runBench({ ...o, log: (line) => process.stdout.write(`${line}\n`) });
      if (r.workloads.some((w) => w.problems.length)) process.exitCode = 1;
    });

  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) { process.exitCode = e.exitCode; return; }
    if (e instanceof LoadError || e instanceof InvalidArgumentError || e instanceof ImagesError) {
      process.stderr.write(`salus: ${e.message}\n`);
      process.exitCode = 2;
      return;
    }
    if (e instanceof JitVerifyError) {
      process.stderr.write(`salus: jit verify: ${e.message}\n`);
      process.exitCode = 70;
      return;
    }
    // A bug in Salus, not in the input: one line unless asked for the stack.
    process.stderr.write(`salus: internal error: ${(e as Error).message}\n`);
    if (process.env.SALUS_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    process.exitCode = 70;
  }
}

void main(process.argv);
