// Assemble + link generated random programs with the riscv64-unknown-elf toolchain.

import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generate } from './generate.js';

const execFileP = promisify(execFile);

export const GCC = process.env.SALUS_RISCV_GCC ?? 'riscv64-unknown-elf-gcc';

export const LINKER_SCRIPT = `OUTPUT_ARCH(riscv)
ENTRY(_start)
SECTIONS
{
  . = 0x80000000;
  .text : { *(.text.init) *(.text .text.*) }
  . = ALIGN(4096);
  .data : { *(.data .data.*) *(.sdata .sdata.*) *(.rodata .rodata.*) }
  .bss : { *(.bss .bss.*) *(.sbss .sbss.*) *(COMMON) }
  /DISCARD/ : { *(.riscv.attributes) *(.comment) }
}
`;

let toolchainCache: boolean | undefined;

/** True when riscv64-unknown-elf-gcc can be run. */
export function toolchainAvailable(): boolean {
  if (toolchainCache === undefined) {
    const r = spawnSync(GCC, ['--version'], { stdio: 'ignore' });
    toolchainCache = r.status === 0;
  }
  return toolchainCache;
}

function gccArgs(src: string, ld: string, elf: string): string[] {
  return [
    '-march=rv64gc',
    '-mabi=lp64d',
    '-nostdlib',
    '-nostartfiles',
    '-static',
    '-Wl,--no-warn-rwx-segments',
    '-T',
    ld,
    src,
    '-o',
    elf,
  ];
}

function prepare(seed: number, outDir: string): { src: string; ld: string; elf: string } {
  mkdirSync(outDir, { recursive: true });
  const src = join(outDir, `rand-${seed}.S`);
  const ld = join(outDir, 'randprog.ld');
  const elf = join(outDir, `rand-${seed}.elf`);
  writeFileSync(src, generate(seed));
  // Shared by concurrent builds: never truncate it under a running linker.
  let current: string | undefined;
  try {
    current = readFileSync(ld, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== LINKER_SCRIPT) {
    const tmp = `${ld}.${process.pid}.${seed}.tmp`;
    writeFileSync(tmp, LINKER_SCRIPT);
    renameSync(tmp, ld);
  }
  return { src, ld, elf };
}

const ENTRY = 0x80000000n;

function checkEntry(elf: string): void {
  const entry = readFileSync(elf).readBigUInt64LE(24);
  if (entry !== ENTRY) throw new Error(`${elf}: entry point 0x${entry.toString(16)}, expected 0x${ENTRY.toString(16)}`);
}

/** Generate, assemble and link the program for `seed` in `outDir`; returns the ELF path. */
export function buildRandomElf(seed: number, outDir: string): string {
  const { src, ld, elf } = prepare(seed, outDir);
  const r = spawnSync(GCC, gccArgs(src, ld, elf), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`assembling ${src} failed:\n${r.stderr}${r.error ?? ''}`);
  checkEntry(elf);
  return elf;
}

/** Async variant of buildRandomElf (lets several builds run in parallel). */
export async function buildRandomElfAsync(seed: number, outDir: string): Promise<string> {
  const { src, ld, elf } = prepare(seed, outDir);
  try {
    await execFileP(GCC, gccArgs(src, ld, elf));
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`assembling ${src} failed:\n${err.stderr ?? err.message}`);
  }
  checkEntry(elf);
  return elf;
}
