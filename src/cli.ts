#!/usr/bin/env node
// The salus command line.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { Machine } from './machine.js';
import { parseElf, LoadError } from './elf.js';
import { parseSize } from './size.js';
import { verifySource, dumpUnit, writeUnit, JitVerifyError } from '../jit/dump.js';
import type { JitOptions } from '../jit/engine.js';

const ENGINES = ['jit', 'interp'];
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

function readInput(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new LoadError(err.code === 'ENOENT' ? `${path}: no such file` : `${path}: ${err.message}`);
  }
}

interface RunOptions {
  engine: 'jit' | 'interp'; mem: number; maxInsns?: number; trace?: boolean; stats?: boolean; icount?: boolean;
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

export function main(argv: string[]): void {
  const program = new Command('salus')
    .description('RISC-V RV64GC emulator and the Salus confidential-computing hypervisor')
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(s.replace(/^error: /, 'salus: ')) });

  program.command('run')
    .description('run a bare-metal RISC-V ELF like qemu-system-riscv64 -M virt -bios none -kernel ELF')
    .argument('<elf>', 'the program')
    .addOption(new Option('--engine <engine>', 'execution engine').choices(ENGINES).default('jit'))
    .option('--mem <size>', 'RAM size', sizeArg, 128 << 20)
    .option('--max-insns <n>', `stop after n instructions (exit status ${EXIT_LIMIT})`, countArg)
    .option('--trace', 'print every executed instruction to stderr')
    .option('--icount', 'deterministic time: mtime follows executed instructions; idle time is skipped')
    .option('--stats', 'print instruction count, time, MIPS and JIT figures to stderr at the end')
    .option('--jit-threshold <n>', 'executions of a block before its page is compiled', countArg)
    .option('--jit-verify', 'parse every generated function with acorn before compiling it')
    .option('--jit-dump <dir>', 'write each compiled unit as JS with a source map onto a guest instruction listing')
    .action((elf: string, o: RunOptions) => {
      const img = parseElf(readInput(elf), elf);
      const m = new Machine({ memBytes: o.mem, engine: o.engine, maxInsns: o.maxInsns, trace: o.trace, icount: o.icount, jit: jitOptions(o) });
      m.loadElf(img, elf);
      const r = m.run();
      if (o.stats) process.stderr.write(`${m.statsReport()}\n`);
      if (r.kind === 'exit') process.exitCode = r.code;
      else if (r.kind === 'limit') { process.stderr.write(`salus: stopped after ${r.executed} instructions (--max-insns)\n`); process.exitCode = EXIT_LIMIT; }
      else { process.stderr.write(`salus: ${r.reason}\n`); process.exitCode = EXIT_STUCK; }
    });

  try {
    program.parse(argv);
  } catch (e) {
    if (e instanceof CommanderError) { process.exitCode = e.exitCode; return; }
    if (e instanceof LoadError || e instanceof InvalidArgumentError) {
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

main(process.argv);
