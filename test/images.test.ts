// Linux guest images (src/images.ts, workloads/linux/build.sh): recipe hash,
// manifest verification and the build driver. No test here builds a kernel:
// build.sh is exercised only on paths that finish at once (up-to-date images,
// --print-hash) or through stub scripts.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildImages, defaultRecipeDir, IMAGE_FILES, imageDir, ImagesError, imagesPresent, RECIPE_FILES, recipeHash,
  verifyImages,
} from '../src/images.js';

const RECIPE = defaultRecipeDir();
const tmpRoot = mkdtempSync(join(tmpdir(), 'salus-images-test-'));
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));

let counter = 0;
function tempDir(name: string): string {
  const d = join(tmpRoot, `${name}-${++counter}`);
  mkdirSync(d, { recursive: true });
  return d;
}

/** A copy of the real recipe directory. */
function copyRecipe(): string {
  const d = tempDir('recipe');
  for (const f of RECIPE_FILES) if (existsSync(join(RECIPE, f))) copyFileSync(join(RECIPE, f), join(d, f));
  return d;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes small stand-in outputs and a manifest in build.sh's format. */
function fakeImages(dir: string, hash: string): void {
  mkdirSync(dir, { recursive: true });
  const entries: string[] = [];
  for (const name of Object.values(IMAGE_FILES)) {
    const bytes = Buffer.from(`fake ${name} for ${hash}\n`.repeat(50));
    writeFileSync(join(dir, name), bytes);
    entries.push(`    "${name}": { "size": ${bytes.length}, "sha256": "${sha256(bytes)}" }`);
  }
  writeFileSync(join(dir, 'manifest.json'), [
    '{',
    `  "recipeHash": "${hash}",`,
    '  "kernelVersion": "6.1.0",',
    '  "busyboxVersion": "1.35.0",',
    '  "builtAt": "2024-01-01T00:00:00Z",',
    '  "files": {',
    entries.join(',\n'),
    '  }',
    '}',
    '',
  ].join('\n'));
}

function corrupt(path: string): void {
  const b = readFileSync(path);
  b[b.length >> 1] ^= 0x01;
  writeFileSync(path, b);
}

describe('recipeHash', () => {
  it('is 16 hex digits and stable', () => {
    const h = recipeHash();
    expect(h).toMatch(/^[0-9a-f]{16}$/);
    expect(recipeHash()).toBe(h);
    expect(recipeHash(RECIPE)).toBe(h);
    expect(recipeHash(copyRecipe())).toBe(h);
  });

  it('matches build.sh --print-hash', () => {
    const fromShell = execFileSync('bash', [join(RECIPE, 'build.sh'), '--print-hash'], { encoding: 'utf8' }).trim();
    expect(fromShell).toBe(recipeHash());
    const copy = copyRecipe();
    appendFileSync(join(copy, 'init'), '# changed\n');
    const fromCopy = execFileSync('bash', [join(copy, 'build.sh'), '--print-hash'], { encoding: 'utf8' }).trim();
    expect(fromCopy).toBe(recipeHash(copy));
  });

  it('changes when any recipe file changes', () => {
    const base = recipeHash();
    const seen = new Set([base]);
    for (const f of RECIPE_FILES) {
      if (!existsSync(join(RECIPE, f))) continue;
      const copy = copyRecipe();
      appendFileSync(join(copy, f), '\n');
      const h = recipeHash(copy);
      expect(h, `after changing ${f}`).not.toBe(base);
      seen.add(h);
    }
    // Each file's change gives a different hash.
    expect(seen.size).toBe(1 + RECIPE_FILES.filter((f) => existsSync(join(RECIPE, f))).length);
  });

  it('notices a file moving between names and an optional file appearing', () => {
    const a = tempDir('recipe');
    writeFileSync(join(a, 'build.sh'), 'x');
    writeFileSync(join(a, 'init'), 'yy');
    const b = tempDir('recipe');
    writeFileSync(join(b, 'build.sh'), 'xy');
    writeFileSync(join(b, 'init'), 'y');
    expect(recipeHash(a)).not.toBe(recipeHash(b));
    const before = recipeHash(a);
    writeFileSync(join(a, 'busybox.config'), '');
    expect(recipeHash(a)).not.toBe(before);
  });

  it('rejects a directory without recipe files', () => {
    expect(() => recipeHash(tempDir('empty'))).toThrow(ImagesError);
  });
});

describe('imageDir', () => {
  it('is <XDG_CACHE_HOME>/salus/images/<hash>', () => {
    const saved = process.env.XDG_CACHE_HOME;
    try {
      process.env.XDG_CACHE_HOME = '/nonexistent/cache';
      expect(imageDir()).toBe(`/nonexistent/cache/salus/images/${recipeHash()}`);
      expect(imageDir({ outDir: '/x/y' })).toBe('/x/y');
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  });
});

describe('manifest verification', () => {
  it('accepts good images and rejects corrupt, missing or foreign ones', () => {
    const recipe = copyRecipe();
    const hash = recipeHash(recipe);
    const out = tempDir('out');
    fakeImages(out, hash);
    expect(verifyImages(out, hash)).toBeNull();
    expect(imagesPresent({ recipeDir: recipe, outDir: out })).toEqual({
      kernel: join(out, 'Image'), initrd: join(out, 'initramfs.cpio.gz'), rootfs: join(out, 'rootfs.ext2'),
    });

    corrupt(join(out, 'rootfs.ext2'));
    expect(verifyImages(out, hash)).toMatch(/rootfs\.ext2 does not match its sha256/);
    expect(imagesPresent({ recipeDir: recipe, outDir: out })).toBeNull();

    fakeImages(out, hash);
    rmSync(join(out, 'Image'));
    expect(verifyImages(out, hash)).toMatch(/Image is missing/);

    fakeImages(out, hash);
    appendFileSync(join(recipe, 'kernel.config'), 'CONFIG_FOO=y\n');
    expect(imagesPresent({ recipeDir: recipe, outDir: out })).toBeNull();
    expect(verifyImages(out, recipeHash(recipe))).toMatch(/is for recipe/);

    writeFileSync(join(out, 'manifest.json'), '{ not json');
    expect(verifyImages(out, hash)).toMatch(/manifest\.json/);
    expect(verifyImages(tempDir('none'), hash)).toMatch(/no manifest\.json/);
  });

  const real = imagesPresent();
  it.skipIf(real === null)('detects a corrupted file in the real images', () => {
    const src = imageDir();
    const out = tempDir('real');
    for (const f of [...Object.values(IMAGE_FILES), 'manifest.json']) copyFileSync(join(src, f), join(out, f));
    const hash = recipeHash();
    expect(verifyImages(out, hash)).toBeNull();
    for (const f of Object.values(IMAGE_FILES)) {
      corrupt(join(out, f));
      expect(verifyImages(out, hash)).toMatch(/does not match its sha256/);
      corrupt(join(out, f)); // flip the bit back
      expect(verifyImages(out, hash)).toBeNull();
    }
  });
});

describe('recipe files', () => {
  it('init is valid POSIX sh and expected-checks.txt covers every check it prints', () => {
    execFileSync('sh', ['-n', join(RECIPE, 'init')]);
    const init = readFileSync(join(RECIPE, 'init'), 'utf8');
    const names = [...init.matchAll(/^\s*check (\w+) "/gm)].map((m) => m[1]);
    expect(names.length).toBeGreaterThanOrEqual(9);
    const expected = readFileSync(join(RECIPE, 'expected-checks.txt'), 'utf8').trimEnd().split('\n');
    expect(expected.map((l) => /^check (\w+): /.exec(l)?.[1] ?? l)).toEqual([...names, 'checks done']);
  });

  it('build.sh is valid bash and the kernel fragment sets no modules', () => {
    execFileSync('bash', ['-n', join(RECIPE, 'build.sh')]);
    const frag = readFileSync(join(RECIPE, 'kernel.config'), 'utf8');
    expect(frag).toMatch(/^# CONFIG_MODULES is not set$/m);
    expect(frag).not.toMatch(/=m$/m);
  });
});

describe('build.sh and buildImages', () => {
  it('build.sh skips the build when the manifest verifies, without needing build tools', async () => {
    const recipe = copyRecipe();
    const out = tempDir('out');
    fakeImages(out, recipeHash(recipe));
    const lines: string[] = [];
    const paths = await buildImages({ recipeDir: recipe, outDir: out, log: (l) => lines.push(l) });
    expect(paths.kernel).toBe(join(out, 'Image'));
    expect(lines.join('\n')).toMatch(/up to date/);
  });

  function stubRecipe(script: string): string {
    const d = tempDir('stub');
    writeFileSync(join(d, 'build.sh'), script);
    return d;
  }

  it('streams progress lines and turns a failure into one line', async () => {
    const recipe = stubRecipe([
      'echo "[1/5] unpacking linux-source-6.1 ... (at 0 s)"',
      'echo "some compiler noise" >&2',
      'echo "build.sh: error: command failed: make Image (full log: /tmp/x.log)" >&2',
      'exit 1',
      '',
    ].join('\n'));
    const lines: string[] = [];
    const p = buildImages({ recipeDir: recipe, outDir: tempDir('out'), log: (l) => lines.push(l) });
    await expect(p).rejects.toThrow(ImagesError);
    await expect(p).rejects.toThrow('image build failed (exit 1): command failed: make Image (full log: /tmp/x.log)');
    expect(lines).toContain('[1/5] unpacking linux-source-6.1 ... (at 0 s)');
    expect(lines).toContain('some compiler noise');
  });

  it('names the missing packages', async () => {
    const recipe = stubRecipe([
      'echo "build.sh: missing Debian packages: bc flex " >&2',
      'echo "  install them with:  apt-get update && apt-get install -y bc flex" >&2',
      'exit 2',
      '',
    ].join('\n'));
    const p = buildImages({ recipeDir: recipe, outDir: tempDir('out'), log: () => {} });
    await expect(p).rejects.toThrow(/^cannot build images: missing Debian packages: bc flex \(/);
  });

  it('passes --install-deps and OUTDIR, and checks the result', async () => {
    const recipe = stubRecipe('echo "args: $*"\n');
    const out = tempDir('out');
    const lines: string[] = [];
    const p = buildImages({ recipeDir: recipe, outDir: out, installDeps: true, log: (l) => lines.push(l) });
    await expect(p).rejects.toThrow(/^image build finished but no manifest\.json/);
    expect(lines).toContain(`args: --install-deps ${out}`);
  });
});
