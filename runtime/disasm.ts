// A compact listing of an instruction: mnemonic and operands by format.
import type { Decoded } from './decoder.js';
import type { Hart } from './hart.js';

const X = (n: number) => `x${n}`;

export function formatInsn(d: Decoded): string {
  const { def } = d;
  const raw = (d.raw >>> 0).toString(16).padStart(d.len * 2, '0');
  const hasImm = def.format !== 'R' && def.format !== 'R4' && def.format !== 'none';
  const ops = def.format === 'none' ? [] : [X(d.rd), X(d.rs1), ...(def.format === 'R' || def.format === 'S' || def.format === 'B' ? [X(d.rs2)] : [])];
  if (hasImm) ops.push(String(d.imm));
  return `${raw.padEnd(8)} ${def.name} ${ops.join(', ')}`.trimEnd();
}

/** Decode the instruction at the hart's pc for a trace line (faults show as '?'). */
export function disassemble(engine: { decoder: { decode(raw: number): Decoded } }, h: Hart): string {
  const off = h.bus.ramOffset(Number(h.pc), 4);
  if (off < 0) return '?';
  const raw = h.ram16[off >>> 1] | (h.ram16[(off >>> 1) + 1] << 16);
  return formatInsn(engine.decoder.decode((raw & 3) === 3 ? raw : raw & 0xffff));
}
