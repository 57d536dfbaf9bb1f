// ELF64 RISC-V executable loader.
import { readFileSync } from 'node:fs';

export class LoadError extends Error {}

/** Read an input file; a missing or unreadable file is a LoadError naming it (prefixed with what it is for). */
export function readInputFile(path: string, what?: string): Uint8Array {
  const name = what ? `${what} ${path}` : path;
  try {
    return readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new LoadError(err.code === 'ENOENT' ? `${name}: no such file` : `${name}: ${err.message}`);
  }
}

export interface ElfSegment { paddr: number; data: Uint8Array; memsz: number }
export interface ElfImage { entry: bigint; segments: ElfSegment[]; symbols: Map<string, bigint> }

const EM_RISCV = 243, PT_LOAD = 1, SHT_SYMTAB = 2;

export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

export function parseElf(bytes: Uint8Array, name: string): ElfImage {
  if (!isElf(bytes)) throw new LoadError(`${name}: not an ELF file`);
  if (bytes.length < 64) throw new LoadError(`${name}: truncated ELF header`);
  if (bytes[4] !== 2) throw new LoadError(`${name}: not a 64-bit ELF (class ${bytes[4]}); RV64 is required`);
  if (bytes[5] !== 1) throw new LoadError(`${name}: not a little-endian ELF`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const machine = v.getUint16(18, true);
  if (machine !== EM_RISCV) throw new LoadError(`${name}: ELF machine is ${machine}, not RISC-V (${EM_RISCV})`);
  const type = v.getUint16(16, true);
  if (type !== 2 && type !== 3) throw new LoadError(`${name}: ELF type ${type} is not an executable`);
  const entry = v.getBigUint64(24, true);
  const phoff = Number(v.getBigUint64(32, true)), shoff = Number(v.getBigUint64(40, true));
  const phentsize = v.getUint16(54, true), phnum = v.getUint16(56, true);
  const shentsize = v.getUint16(58, true), shnum = v.getUint16(60, true);
  if (phnum === 0) throw new LoadError(`${name}: ELF has no program headers`);
  if (phentsize < 56 || phoff + phnum * phentsize > bytes.length) throw new LoadError(`${name}: ELF program headers lie outside the file`);
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (v.getUint32(p, true) !== PT_LOAD) continue;
    const offset = Number(v.getBigUint64(p + 8, true));
    const paddr = Number(v.getBigUint64(p + 24, true));
    const filesz = Number(v.getBigUint64(p + 32, true));
    const memsz = Number(v.getBigUint64(p + 40, true));
    if (memsz === 0) continue;
    if (filesz > memsz || offset + filesz > bytes.length) throw new LoadError(`${name}: segment ${i} lies outside the file`);
    segments.push({ paddr, data: bytes.subarray(offset, offset + filesz), memsz });
  }
  if (segments.length === 0) throw new LoadError(`${name}: ELF has no loadable segments`);
  return { entry, segments, symbols: readSymbols(v, bytes, shoff, shentsize, shnum) };
}

function readSymbols(v: DataView, bytes: Uint8Array, shoff: number, shentsize: number, shnum: number): Map<string, bigint> {
  const symbols = new Map<string, bigint>();
  if (shoff === 0 || shentsize < 64 || shoff + shnum * shentsize > bytes.length) return symbols;
  const section = (i: number) => {
    const s = shoff + i * shentsize;
    return { type: v.getUint32(s + 4, true), offset: Number(v.getBigUint64(s + 24, true)),
      size: Number(v.getBigUint64(s + 32, true)), link: v.getUint32(s + 40, true) };
  };
  for (let i = 0; i < shnum; i++) {
    const sec = section(i);
    if (sec.type !== SHT_SYMTAB || sec.link >= shnum) continue;
    const str = section(sec.link);
    if (sec.offset + sec.size > bytes.length || str.offset + str.size > bytes.length) continue;
    for (let p = sec.offset; p + 24 <= sec.offset + sec.size; p += 24) {
      const nameOff = v.getUint32(p, true);
      let end = str.offset + nameOff;
      while (end < str.offset + str.size && bytes[end] !== 0) end++;
      const sym = new TextDecoder().decode(bytes.subarray(str.offset + nameOff, end));
      if (sym) symbols.set(sym, v.getBigUint64(p + 8, true));
    }
  }
  return symbols;
}
