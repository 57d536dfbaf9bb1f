// Linux boots: our guest images under both firmwares and from the ext2 disk, compared with QEMU, a
// deterministic boot twice, and the bad inputs `salus boot` must reject.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, qemuAvailable } from './oracle.js';
import { imagesPresent, ImagePaths } from '../src/images.js';

const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli.js');
const INITRAMFS_ARGS = 'console=ttyS0 rdinit=/init';

function salus(args: string[], timeoutMs = 600_000): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve) => {
    const p = spawn('node', [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => { clearTimeout(t); resolve({ stdout, stderr, code }); });
  });
}

function qemu(args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const p = spawn('qemu-system-riscv64', ['-M', 'virt', '-m', '256M', '-nographic', '-monitor', 'none', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), 300_000);
    p.on('close', () => { clearTimeout(t); resolve(out); });
  });
}

/** The self-check script's result lines. */
const checks = (console: string) => console.split(/\r*\n/).filter((l) => /^check |^checks done/.test(l));

const images = imagesPresent();
const needImages = !images && !process.env.CI;

describe.skipIf(needImages)('Linux boot', () => {
  let img: ImagePaths;
  let oracle: string[];
  beforeAll(async () => {
    if (!images) throw new Error('guest images are missing: .ci/run builds them with `salus images --install-deps`');
    img = images;
    if (!qemuAvailable()) throw new Error('qemu-system-riscv64 is missing');
    oracle = checks(await qemu(['-bios', 'default', '-kernel', img.kernel, '-initrd', img.initrd, '-append', INITRAMFS_ARGS]));
    expect(oracle.length).toBeGreaterThanOrEqual(10);
  }, 600_000);

  it('boots bare to the same check results under the JIT', async () => {
    const r = await salus(['boot', '--mode', 'bare', '--engine', 'jit', '--jit-verify', '--kernel', img.kernel, '--initrd', img.initrd, '--append', INITRAMFS_ARGS]);
    expect(r.code, r.stderr).toBe(0);
    expect(checks(r.stdout)).toEqual(oracle);
  });

  for (const bios of ['builtin', 'opensbi']) {
    it(`boots the initramfs bare with --bios ${bios} and prints QEMU's check results`, async () => {
      const r = await salus(['boot', '--mode', 'bare', '--kernel', img.kernel, '--initrd', img.initrd, '--append', INITRAMFS_ARGS, '--bios', bios]);
      expect(r.code, r.stderr).toBe(0);
      expect(checks(r.stdout)).toEqual(oracle);
    });
  }

  for (const engine of ['interp', 'jit']) {
    it(`boots as the host VM of Salus (the default) under the ${engine} with QEMU's check results`, async () => {
      const r = await salus(['boot', '--stats', '--engine', engine, '--kernel', img.kernel, '--initrd', img.initrd, '--append', INITRAMFS_ARGS]);
      expect(r.code, r.stderr).toBe(0);
      expect(checks(r.stdout)).toEqual(oracle);
      // It really ran under Salus: the host's SBI calls and its PLIC claims trapped to HS-mode.
      const exits = /^salus exits (\d+) \((.*)\)/m.exec(r.stderr);
      expect(exits, r.stderr).not.toBeNull();
      expect(exits![2]).toMatch(/ecall \d+/);
      expect(exits![2]).toMatch(/guest-page fault \d+/);
    });
  }

  it('uses the SBI console (hvc0) as well as the 8250', async () => {
    const r = await salus(['boot', '--kernel', img.kernel, '--initrd', img.initrd, '--append', 'console=hvc0 rdinit=/init']);
    expect(r.code, r.stderr).toBe(0);
    expect(checks(r.stdout)).toEqual(oracle);
  });

  it('boots from the ext2 disk (virtio-blk, --snapshot) to the check script', async () => {
    const r = await salus(['boot', '--kernel', img.kernel, '--disk', img.rootfs, '--snapshot', '--append', 'console=ttyS0 root=/dev/vda rw']);
    expect(r.code, r.stderr).toBe(0);
    expect(checks(r.stdout)).toEqual(oracle);
  });

  it('prints byte-identical logs twice with --icount', async () => {
    const args = ['boot', '--icount', '--kernel', img.kernel, '--initrd', img.initrd, '--append', INITRAMFS_ARGS];
    const [a, b] = await Promise.all([salus(args), salus(args)]);
    expect(a.code).toBe(0);
    expect(a.stdout.length).toBeGreaterThan(1000);
    expect(b.stdout).toBe(a.stdout);
  });

  it('exits non-zero with the panic visible when the kernel panics', async () => {
    const r = await salus(['boot', '--kernel', img.kernel, '--append', 'console=ttyS0 root=/dev/vda']);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/Kernel panic - not syncing/);
    expect(r.stderr).toMatch(/panicked/);
  });
});

describe('salus boot: bad input', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(path.join(tmpdir(), 'salus-boot-')); });
  const run = (...args: string[]) => spawnSync('node', [CLI, 'boot', ...args], { encoding: 'utf8', timeout: 60_000, input: '' });
  const oneLine = (r: ReturnType<typeof run>, re: RegExp) => {
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(re);
  };

  it('missing kernel', () => oneLine(run('--kernel', '/nonexistent/Image'), /no such file/));
  it('corrupt kernel', () => {
    const f = path.join(dir, 'garbage');
    writeFileSync(f, Buffer.alloc(4096, 0x5a));
    oneLine(run('--kernel', f), /neither a RISC-V Linux Image/);
  });
  it('initrd too big for RAM', () => {
    const k = path.join(dir, 'Image');
    // A minimal valid Image header: text offset 2 MiB, image size 1 MiB, magic "RSC\x05".
    const hdr = Buffer.alloc(64);
    hdr.writeBigUInt64LE(0x200000n, 8); hdr.writeBigUInt64LE(0x100000n, 16); hdr.writeUInt32LE(0x05435352, 56);
    writeFileSync(k, hdr);
    const initrd = path.join(dir, 'big.cpio');
    writeFileSync(initrd, Buffer.alloc(40 << 20));
    oneLine(run('--kernel', k, '--initrd', initrd, '--mem', '32M'), /initrd .* does not fit/);
  });
  it('bad --mem', () => oneLine(run('--mem', '12Q'), /not a size/));
  it('missing disk', () => {
    const k = path.join(dir, 'Image2');
    const hdr = Buffer.alloc(64);
    hdr.writeUInt32LE(0x05435352, 56);
    writeFileSync(k, hdr);
    oneLine(run('--kernel', k, '--disk', '/nonexistent.img'), /disk .*no such file/);
  });
});
