// The CLI rejects bad input with one line on stderr and a non-zero exit, never a stack trace.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, WORKLOADS_BIN } from './oracle.js';

const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli.js');
const run = (...args: string[]) => spawnSync('node', [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
const ELF = path.join(WORKLOADS_BIN, 'rv64m.elf');

function expectOneLineError(r: ReturnType<typeof run>, pattern: RegExp) {
  expect(r.status).not.toBe(0);
  const err = r.stderr.trim();
  expect(err.split('\n')).toHaveLength(1);
  expect(err).toMatch(pattern);
  expect(err).not.toMatch(/\n\s+at /);
}

describe('salus run: bad input', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(path.join(tmpdir(), 'salus-cli-')); });

  it('missing file', () => expectOneLineError(run('run', '/nonexistent/x.elf'), /no such file/));
  it('not an ELF', () => {
    const f = path.join(dir, 'text.elf');
    writeFileSync(f, 'hello world, definitely not an ELF file');
    expectOneLineError(run('run', f), /not an ELF/);
  });
  it('truncated ELF', () => {
    const f = path.join(dir, 'trunc.elf');
    writeFileSync(f, readFileSync(ELF).subarray(0, 40));
    expectOneLineError(run('run', f), /truncated|outside the file/);
  });
  it('wrong architecture', () => {
    const b = Buffer.from(readFileSync(ELF));
    b.writeUInt16LE(62, 18); // EM_X86_64
    const f = path.join(dir, 'x86.elf');
    writeFileSync(f, b);
    expectOneLineError(run('run', f), /not RISC-V/);
  });
  it('32-bit ELF', () => {
    const b = Buffer.from(readFileSync(ELF));
    b[4] = 1;
    const f = path.join(dir, 'elf32.elf');
    writeFileSync(f, b);
    expectOneLineError(run('run', f), /64-bit/);
  });
  it('segments outside RAM', () => {
    // Move the first loadable segment below RAM.
    const b = Buffer.from(readFileSync(ELF));
    const phoff = Number(b.readBigUInt64LE(32)), phentsize = b.readUInt16LE(54);
    let p = phoff;
    while (b.readUInt32LE(p) !== 1) p += phentsize;
    b.writeBigUInt64LE(0x70000000n, p + 24);
    const f = path.join(dir, 'low.elf');
    writeFileSync(f, b);
    expectOneLineError(run('run', f), /outside RAM/);
  });
  it('unknown flag', () => expectOneLineError(run('run', '--bogus', ELF), /unknown option/));
  it('bad --mem', () => expectOneLineError(run('run', '--mem', 'lots', ELF), /not a size/));
  it('--mem too large', () => expectOneLineError(run('run', '--mem', '64G', ELF), /between 1M and 2G/));
  it('unknown engine', () => expectOneLineError(run('run', '--engine', 'warp', ELF), /engine/));
});

describe('salus run: behaviour', () => {
  it('exits with the finisher code and prints the UART output', () => {
    const r = run('run', ELF);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^mul /m);
  });
  it('--max-insns stops the guest with status 124', () => {
    const r = run('run', '--max-insns', '1000', ELF);
    expect(r.status).toBe(124);
    expect(r.stderr).toMatch(/stopped after 1000 instructions/);
  });
  it('--stats reports instructions and MIPS', () => {
    const r = run('run', '--stats', '--engine', 'interp', ELF);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^instructions \d+$/m);
    expect(r.stderr).toMatch(/^MIPS \d+(\.\d+)?$/m);
  });
  it('--trace lists executed instructions', () => {
    const r = run('run', '--trace', '--max-insns', '5', ELF);
    expect(r.stderr.split('\n').filter((l) => /^3 0000000080000/.test(l))).toHaveLength(5);
  });
});
