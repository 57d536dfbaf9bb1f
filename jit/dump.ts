// --jit-verify and --jit-dump: check generated code with acorn, and write it with a source map whose source is
// a listing of the guest instructions, so a profile of hot JIT code maps back to guest code.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'acorn';
import { SourceMapGenerator } from 'source-map';
import { formatInsn } from '../runtime/disasm.js';
import type { Block } from './translate.js';

export class JitVerifyError extends Error {}

/** Parse a generated unit; a syntax error names the guest code it was generated from. */
export function verifySource(src: string, where: string): void {
  try {
    parse(src, { ecmaVersion: 2022, sourceType: 'script', allowReturnOutsideFunction: true });
  } catch (e) {
    throw new JitVerifyError(`generated code for ${where} does not parse: ${(e as Error).message}`);
  }
}

export interface DumpedUnit { js: string; map: string; listing: string }

/**
 * The listing has one line per guest instruction, `address: bits mnemonic operands`, addresses physical
 * (translated code is keyed by physical page). The map sends each generated line carrying an instruction
 * marker to that instruction's listing line.
 */
export function dumpUnit(name: string, src: string, blocks: Block[], pagePhys: number): DumpedUnit {
  const listingLines: string[] = [];
  const lineOf = new Map<string, number>();
  for (const b of blocks) {
    let off = b.off;
    b.ops.forEach((d, i) => {
      lineOf.set(`${b.off}:${i}`, listingLines.length + 1);
      listingLines.push(`0x${(pagePhys + off).toString(16)}: ${formatInsn(d)}`);
      off += d.len;
    });
  }
  const listingName = `${name}.S`;
  const map = new SourceMapGenerator({ file: `${name}.js` });
  src.split('\n').forEach((line, i) => {
    const m = /\/\*@(\d+:\d+)\*\//.exec(line);
    const target = m && lineOf.get(m[1]);
    if (target) map.addMapping({ generated: { line: i + 1, column: 0 }, original: { line: target, column: 0 }, source: listingName });
  });
  const listing = listingLines.join('\n') + '\n';
  map.setSourceContent(listingName, listing);
  const js = `${src}\n//# sourceMappingURL=${name}.js.map\n`;
  return { js, map: map.toString(), listing };
}

export function writeUnit(dir: string, name: string, unit: DumpedUnit): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.js`), unit.js);
  writeFileSync(join(dir, `${name}.js.map`), unit.map);
  writeFileSync(join(dir, `${name}.S`), unit.listing);
}
