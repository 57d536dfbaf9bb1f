// Salus as its host sees it, through the CLI (run `npx tsc -p tsconfig.json` first):
//  - workloads/salus/bin/sbi_host.elf, booted as the host kernel, checks every SBI function Salus offers the
//    host against SBI 2.0 plus the host's isolation, and shuts down with reason 0 only if all checks passed;
//  - `salus tellus` runs the CoVE demo, which must exercise every COVH and COVG function;
//  - `boot --mode salus` refuses configurations it cannot run, with exit status 2.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './oracle.js';

const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli.js');
const SBI_HOST = path.join(REPO_ROOT, 'workloads', 'salus', 'bin', 'sbi_host.elf');
/** Checks sbi_host makes: a check that silently stops running is a failure too. */
const SBI_HOST_CHECKS = 183;
const ENGINES = ['interp', 'jit'] as const;

const salus = (...args: string[]) =>
  spawnSync('node', [CLI, ...args], { encoding: 'utf8', timeout: 90_000, input: '', maxBuffer: 16 << 20 });
const lines = (out: string, re: RegExp) => out.split('\n').filter((l) => re.test(l));
// --icount: the timer checks compare deadlines a few ms apart, which wall-clock time on a loaded machine (or a JIT
// compile pause) can overrun.
const bootHost = (engine: string, ...extra: string[]) =>
  salus('boot', '--mode', 'salus', '--icount', '--engine', engine, '--kernel', SBI_HOST, '--mem', '128M', ...extra);

it('the CLI and sbi_host are built', () => {
  expect(existsSync(CLI), 'dist/src/cli.js missing: run `npx tsc -p tsconfig.json`').toBe(true);
  expect(existsSync(SBI_HOST), 'sbi_host.elf missing: run `make -C workloads salus`').toBe(true);
});

describe.each(ENGINES)('sbi_host as the Salus host (--engine %s)', (engine) => {
  it('passes every check and shuts down with reason 0', () => {
    const r = bootHost(engine);
    expect(lines(r.stdout, /^FAIL/)).toEqual([]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(lines(r.stdout, /^PASS /)).toHaveLength(SBI_HOST_CHECKS);
    expect(r.stdout).toContain(`sbi_host: ${SBI_HOST_CHECKS} checks, 0 failed\nAll OK\n`);
    // The console calls under test reach the console.
    expect(r.stdout).toContain('sbi_host: dbcn console_write\n');
    expect(r.stdout).toContain('sbi_host: dbcn write_byte\n');
    expect(r.stdout).toContain('sbi_host: legacy console_putchar\n');
    // The host's ISA string, as the host device tree gives it: no H.
    expect(r.stdout).toMatch(/^sbi_host: riscv,isa = rv64imafdc_zicsr/m);
  });

  it('covers each SBI extension Salus offers', () => {
    const names = lines(bootHost(engine).stdout, /^PASS /).map((l) => l.slice(5));
    for (const prefix of ['base_', 'probe_', 'time_', 'legacy_set_timer', 'ipi_', 'legacy_clear_ipi', 'rfence_',
      'hsm_', 'dbcn_', 'legacy_putchar', 'legacy_getchar', 'srst_', 'unknown_eid', 'wfi_', 'fdt_isa_no_h',
      'hstatus_illegal', 'load_salus_memory', 'store_salus_memory', 'load_hole', 'load_clint', 'plic_']) {
      expect(names.some((n) => n.startsWith(prefix)), prefix).toBe(true);
    }
  });
});

it('sbi_host reports failures and exits 1 on a machine it was not written for (--mem 256M)', () => {
  // With 256 MiB Salus's memory moves to 0x8f800000: what sbi_host expects at 0x87800000 is host RAM now.
  const r = bootHost('interp', '--mem', '256M');
  expect(r.status).toBe(1);
  expect(lines(r.stdout, /^FAIL load_salus_memory /)).toHaveLength(1);
  expect(lines(r.stdout, /^FAIL fdt_memory_size_host_only /)).toHaveLength(1);
  const m = r.stdout.match(/^sbi_host: (\d+) checks, (\d+) failed$/m);
  expect(m).not.toBeNull();
  // (Some FAIL lines may follow bytes DBCN printed from what is now host RAM, so count occurrences.)
  expect(Number(m![2])).toBe(r.stdout.match(/FAIL /g)!.length);
  expect(Number(m![2])).toBeGreaterThan(0);
  expect(r.stdout).not.toContain('All OK');
});

/**
 * Where tellus (host) and guestvm (TVM) show each CoVE function succeeding: a PASS line that needs that call.
 * tellus prints no per-FID summary, so these are its check names (see workloads/tellus/tellus.c and
 * workloads/guestvm/guestvm.c).
 */
const COVH_CHECKS: Record<number, string> = {
  0: 'get_tsm_info', 1: 'convert_tvm_state', 2: 'reclaim_tvm_state', 3: 'global_fence', 4: 'local_fence',
  5: 'create_tvm', 6: 'finalize_tvm', 7: 'promote_to_tvm', 8: 'destroy_tvm', 9: 'add_memory_region',
  10: 'add_pt_pages', 11: 'add_measured_pages', 12: 'add_zero_pages', 13: 'add_shared_pages',
  14: 'create_tvm_vcpu', 15: 'guest_exit_cause', 16: 'tvm_fence_share', 17: 'tvm_invalidate_pages_share',
  18: 'tvm_validate_pages', 19: 'tvm_remove_pages_share',
};
const COVG_CHECKS: Record<number, string> = {
  0: 'mmio_add_region', 1: 'mmio_remove_region', 2: 'share_memory_region', 3: 'unshare_memory_region',
  4: 'allow_external_interrupt', 5: 'deny_external_interrupt', 6: 'get_attcaps', 7: 'extend_measurement',
  8: 'get_evidence', 9: 'retrieve_secret_auth', 10: 'read_measurement_runtime',
};

describe.each(ENGINES)('salus tellus (--engine %s)', (engine) => {
  it('passes and exercises every COVH FID 0-19 and COVG FID 0-10', () => {
    const r = salus('tellus', '--engine', engine);
    expect(lines(r.stdout, /^(guestvm: )?FAIL/)).toEqual([]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^guestvm: \d+ checks, 0 failed$/m);
    expect(r.stdout).toMatch(/^tellus: \d+ checks, 0 failed\nAll OK$/m);
    const host = new Set(lines(r.stdout, /^PASS /).map((l) => l.slice(5)));
    const guest = new Set(lines(r.stdout, /^guestvm: PASS /).map((l) => l.slice(14)));
    for (let fid = 0; fid <= 19; fid++) expect(host.has(COVH_CHECKS[fid]), `COVH FID ${fid}: PASS ${COVH_CHECKS[fid]}`).toBe(true);
    for (let fid = 0; fid <= 10; fid++) expect(guest.has(COVG_CHECKS[fid]), `COVG FID ${fid}: guestvm: PASS ${COVG_CHECKS[fid]}`).toBe(true);
    // The COVG calls the TSM forwards to the host arrived there (tellus records them by FID).
    expect(host.has('covg_exits_seen')).toBe(true);
    // And the TSM's own count agrees: it served every function.
    expect(r.stdout).toMatch(/^salus: COVH functions called: 20 of 20 \(all\)$/m);
    expect(r.stdout).toMatch(/^salus: COVG functions called: 11 of 11 \(all\)$/m);
  });
});

describe('boot --mode salus: bad input', () => {
  const oneLine = (r: ReturnType<typeof salus>, re: RegExp) => {
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(re);
    expect(r.stdout).toBe('');
  };
  it('--isa rv64gc (no hypervisor extension)', () =>
    oneLine(salus('boot', '--mode', 'salus', '--isa', 'rv64gc', '--kernel', SBI_HOST, '--mem', '128M'),
      /^salus: --mode salus needs the hypervisor extension \(--isa rv64gch\)$/m));
  it('--bios opensbi', () =>
    oneLine(salus('boot', '--mode', 'salus', '--bios', 'opensbi', '--kernel', SBI_HOST, '--mem', '128M'),
      /^salus: --mode salus runs on the built-in firmware \(--bios builtin\)$/m));
});
