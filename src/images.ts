// Linux guest images: Image, initramfs.cpio.gz and rootfs.ext2, built from
// Debian sources by workloads/linux/build.sh into a cache directory named by
// the recipe's hash. `salus images` uses this module.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Recipe files, in hashing order; build.sh's recipe_hash uses the same list. */
export const RECIPE_FILES = ['build.sh', 'kernel.config', 'init', 'busybox.config'] as const;
/** Output file names inside an image directory. */
export const IMAGE_FILES = { kernel: 'Image', initrd: 'initramfs.cpio.gz', rootfs: 'rootfs.ext2' } as const;

export interface ImagePaths {
  kernel: string;
  initrd: string;
  rootfs: string;
}

export interface ImageLocation {
  /** Directory with build.sh and the recipe files (default: workloads/linux of this checkout). */
  recipeDir?: string;
  /** Output directory (default: the cache directory named by the recipe hash). */
  outDir?: string;
}

export interface BuildOptions extends ImageLocation {
  /** Let build.sh enable deb-src and apt-get install the missing packages. */
  installDeps?: boolean;
  /** Rebuild even if verified images are present. */
  force?: boolean;
  /** Receives each progress line of the build. */
  log: (line: string) => void;
}

export interface ManifestFile { size: number; sha256: string }

export interface Manifest {
  recipeHash: string;
  kernelVersion: string;
  busyboxVersion: string;
  builtAt: string;
  files: Record<string, ManifestFile>;
  [key: string]: unknown;
}

/** A failure meant to be shown to the user as one line. */
export class ImagesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImagesError';
  }
}

/** workloads/linux, found by walking up from this module (works from src/ and dist/src/). */
export function defaultRecipeDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'workloads', 'linux');
    if (existsSync(join(candidate, 'build.sh'))) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new ImagesError('cannot find workloads/linux/build.sh above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** sha256 (first 16 hex digits) over "<name>\n<size>\n<bytes>" of each recipe file present. */
export function recipeHash(recipeDir: string = defaultRecipeDir()): string {
  const h = createHash('sha256');
  let any = false;
  for (const name of RECIPE_FILES) {
    const path = join(recipeDir, name);
    if (!existsSync(path)) continue;
    const bytes = readFileSync(path);
    h.update(`${name}\n${bytes.length}\n`);
    h.update(bytes);
    any = true;
  }
  if (!any) throw new ImagesError(`no recipe files in ${recipeDir}`);
  return h.digest('hex').slice(0, 16);
}

/** ${XDG_CACHE_HOME:-$HOME/.cache}/salus/images */
export function cacheBase(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg ? xdg : join(process.env.HOME || homedir(), '.cache'), 'salus', 'images');
}

/** Where the images for the current recipe live (or will be built). */
export function imageDir(loc: ImageLocation = {}): string {
  return loc.outDir !== undefined ? resolve(loc.outDir) : join(cacheBase(), recipeHash(loc.recipeDir));
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * Checks dir/manifest.json against the recipe hash and every output's size
 * and sha256. Returns the reason it fails, or null if the images are good.
 */
export function verifyImages(dir: string, hash: string): string | null {
  const mpath = join(dir, 'manifest.json');
  if (!existsSync(mpath)) return `no manifest.json in ${dir}`;
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(mpath, 'utf8')) as Manifest;
  } catch (e) {
    return `${mpath}: ${(e as Error).message}`;
  }
  if (m.recipeHash !== hash) return `${mpath} is for recipe ${String(m.recipeHash)}, not ${hash}`;
  for (const name of Object.values(IMAGE_FILES)) {
    const want = m.files?.[name];
    if (!want || typeof want.sha256 !== 'string') return `${mpath} has no entry for ${name}`;
    const path = join(dir, name);
    if (!existsSync(path)) return `${path} is missing`;
    if (statSync(path).size !== want.size) return `${path} has the wrong size`;
    if (sha256File(path) !== want.sha256) return `${path} does not match its sha256 in the manifest`;
  }
  return null;
}

/** Reads an image directory's manifest (no verification). */
export function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
}

function pathsIn(dir: string): ImagePaths {
  return {
    kernel: join(dir, IMAGE_FILES.kernel),
    initrd: join(dir, IMAGE_FILES.initrd),
    rootfs: join(dir, IMAGE_FILES.rootfs),
  };
}

/** The verified images for the current recipe, or null if any is missing or corrupt. */
export function imagesPresent(loc: ImageLocation = {}): ImagePaths | null {
  const hash = recipeHash(loc.recipeDir);
  const dir = loc.outDir !== undefined ? resolve(loc.outDir) : join(cacheBase(), hash);
  return verifyImages(dir, hash) === null ? pathsIn(dir) : null;
}

/**
 * Runs build.sh (which skips the work when verified images exist), passing
 * its progress lines to opts.log. Resolves to the verified images.
 */
export function buildImages(opts: BuildOptions): Promise<ImagePaths> {
  const recipeDir = opts.recipeDir ?? defaultRecipeDir();
  const hash = recipeHash(recipeDir);
  const dir = opts.outDir !== undefined ? resolve(opts.outDir) : join(cacheBase(), hash);
  const args = [join(recipeDir, 'build.sh')];
  if (opts.installDeps) args.push('--install-deps');
  if (opts.force) args.push('--force');
  args.push(dir);

  return new Promise<ImagePaths>((resolvePromise, reject) => {
    const child = spawn('bash', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let lastError = '';
    const missing: string[] = [];
    const lineSink = () => {
      let pending = '';
      return {
        push(chunk: Buffer) {
          pending += chunk.toString('utf8');
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          for (const l of lines) onLine(l);
        },
        flush() {
          if (pending) onLine(pending);
          pending = '';
        },
      };
    };
    const onLine = (raw: string) => {
      const line = raw.replace(/\r$/, '');
      if (/^build\.sh: error: /.test(line)) lastError = line.replace(/^build\.sh: error: /, '');
      else if (/^build\.sh: (missing|apt cannot)/.test(line)) missing.push(line.replace(/^build\.sh: /, '').trim());
      opts.log(line);
    };
    const out = lineSink();
    const err = lineSink();
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => reject(new ImagesError(`cannot run ${args[0]}: ${e.message}`)));
    child.on('close', (code, signal) => {
      out.flush();
      err.flush();
      if (signal) return reject(new ImagesError(`image build killed by ${signal}`));
      if (code === 2 && missing.length > 0) {
        return reject(new ImagesError(`cannot build images: ${missing.join('; ')} (run with --install-deps to install them)`));
      }
      if (code !== 0) {
        return reject(new ImagesError(`image build failed (exit ${code})${lastError ? ': ' + lastError : ''}`));
      }
      const why = verifyImages(dir, hash);
      if (why !== null) return reject(new ImagesError(`image build finished but ${why}`));
      resolvePromise(pathsIn(dir));
    });
  });
}
