// Differential test: random RV64GC programs, Salus vs QEMU (the oracle).
//
// Each seed yields a bare-metal program (test/randprog/generate.ts) that
// ends by dumping x1..x31, f0..f31, fcsr and its scratch memory over the
// UART.  The program is run under qemu-system-riscv64 and under
// `node dist/src/cli.js run --engine <engine>`; outputs and exit codes must
// match exactly.
//
// Environment:
//   SALUS_RANDOM_SEEDS    number of seeds (default 200, seeds 1..N), or a
//                         list/range: "17", "5,17,99", "100-199"
//   SALUS_RANDOM_ENGINE   Salus engines, comma separated (default interp,jit: the JIT runs with --jit-verify
//                         and a threshold of 2, so each seed is also an interpreter-vs-JIT comparison)
//   SALUS_RANDOM_JOBS     seeds run concurrently (default 2)
//   SALUS_RANDOM_TIMEOUT  per-run timeout in ms (default 30000)
//   SALUS_RANDOM_KEEP     keep the temp dir even if everything passes
// Failing seeds keep their .S/.elf and both outputs in the temp dir named in
// the failure message; SALUS_RANDOM_SEEDS=<seed> re-runs just that seed.

import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import {
  firstDifference,
  QEMU_BIN,
  QEMU_CPU,
  qemuAvailable,
  runQemu,
  runSalus,
  SALUS_CLI,
  salusCliBuilt,
  type RunResult,
} from './oracle.js';
import { buildRandomElfAsync, toolchainAvailable } from './randprog/build.js';
const ENGINES = (process.env.SALUS_RANDOM_ENGINE ?? 'interp,jit').split(',').map((e) => e.trim()).filter(Boolean);
const engineArgs = (e: string) => ['--engine', e, ...(e === 'jit' ? ['--jit-verify', '--jit-threshold', '2'] : [])];
const JOBS = Math.max(1, Number(process.env.SALUS_RANDOM_JOBS ?? 2));
const RUN_TIMEOUT = Number(process.env.SALUS_RANDOM_TIMEOUT ?? 30_000);
const MAX_INSNS = 200_000_000;

function parseSeeds(spec: string | undefined): number[] {
  if (spec === undefined || spec.trim() === '') return range(1, 200);
  const s = spec.trim();
  if (/^\d+$/.test(s)) return range(1, Number(s));
  const out: number[] = [];
  for (const part of s.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new Error(`SALUS_RANDOM_SEEDS: cannot parse '${part}' (want N, a-b or a,b,c)`);
    if (m[2] === undefined) out.push(Number(m[1]));
    else out.push(...range(Number(m[1]), Number(m[2])));
  }
  return out;
}

function range(a: number, b: number): number[] {
  const r: number[] = [];
  for (let i = a; i <= b; i++) r.push(i);
  return r;
}

/** Counting semaphore: at most `n` seeds build/run at once. */
function semaphore(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    if (active >= n) await new Promise<void>((res) => waiting.push(res));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

function describeRun(r: RunResult): string {
  if (r.timedOut) return 'timed out';
  return `exit code ${r.code}`;
}

const missing: string[] = [];
if (!toolchainAvailable()) missing.push('riscv64-unknown-elf-gcc (apt-get install gcc-riscv64-unknown-elf)');
if (!qemuAvailable()) missing.push(`${QEMU_BIN} (apt-get install qemu-system-misc)`);
if (!salusCliBuilt()) missing.push(`${SALUS_CLI} (run npm run build)`);

describe('random RV64GC programs: Salus vs QEMU', () => {
  if (missing.length) {
    const msg = `random differential test needs: ${missing.join('; ')}`;
    if (process.env.CI) {
      it('has its prerequisites', () => {
        throw new Error(msg);
      });
    } else {
      console.warn(`SKIPPED: ${msg}`);
      it.skip(`skipped: ${msg}`, () => {});
    }
    return;
  }

  const seeds = parseSeeds(process.env.SALUS_RANDOM_SEEDS);
  const dir = mkdtempSync(join(tmpdir(), 'salus-random-'));
  const limit = semaphore(JOBS);
  let failures = 0;

  afterAll(() => {
    if (failures === 0 && !process.env.SALUS_RANDOM_KEEP) rmSync(dir, { recursive: true, force: true });
  });

  it.concurrent.each(seeds)(
    'seed %i',
    async (seed) => {
      await limit(async () => {
        const src = join(dir, `rand-${seed}.S`);
        const repro = `(source ${src}; re-run with SALUS_RANDOM_SEEDS=${seed})`;
        try {
          const elf = await buildRandomElfAsync(seed, dir);
          const q = await runQemu(elf, { timeoutMs: RUN_TIMEOUT });
          writeFileSync(`${elf}.qemu.out`, q.stdout, 'latin1');
          if (q.code !== 0 || !q.stdout.endsWith('END\n')) {
            throw new Error(
              `seed ${seed}: QEMU oracle run is not clean (${describeRun(q)}) -- generator bug? ${repro}\n` +
                `qemu-system-riscv64 -M virt -bios none -nographic -monitor none -cpu ${QEMU_CPU} -kernel ${elf}\n` +
                `${q.stdout.split('\n').slice(0, 3).join('\n')}${q.stderr.slice(0, 2000)}`,
            );
          }
          for (const engine of ENGINES) {
            const s = await runSalus(elf, [...engineArgs(engine), '--max-insns', String(MAX_INSNS)], { timeoutMs: RUN_TIMEOUT });
            writeFileSync(`${elf}.salus.out`, s.stdout, 'latin1');
            const diff = firstDifference(q.stdout, s.stdout);
            if (diff !== undefined || s.code !== q.code) {
              const stderr = s.stderr.trim() ? `\nsalus stderr: ${s.stderr.trim().split('\n').slice(0, 5).join('\n')}` : '';
              throw new Error(
                `seed ${seed}: Salus (${engine}) differs from QEMU (expected = qemu, got = salus); ` +
                  `salus ${describeRun(s)}, qemu ${describeRun(q)} ${repro}\n` +
                  `${diff ?? 'outputs identical'}\n` +
                  `outputs: ${elf}.qemu.out ${elf}.salus.out${stderr}`,
              );
            }
          }
          if (process.env.SALUS_RANDOM_KEEP) return;
          for (const f of [src, elf, `${elf}.qemu.out`, `${elf}.salus.out`]) {
            try {
              unlinkSync(f);
            } catch {
              /* ignore */
            }
          }
        } catch (e) {
          failures++;
          throw e;
        }
      });
    },
    RUN_TIMEOUT * 2 * (JOBS + 4) + 60_000,
  );
});
