// A compact listing of an instruction: mnemonic and operands by format.
import type { Decoded } from './decoder.js';
import type { Hart } from './hart.js';

const X = (n: number) => `x${n}`;

function operands(d: Decoded): string[] {
  const { def } = d, name = def.name;
  const mem = `${d.imm}(${X(d.rs1)})`;
  switch (def.format) {
    case 'R': return name.startsWith('lr.') ? [X(d.rd), `(${X(d.rs1)})`] : [X(d.rd), X(d.rs1), X(d.rs2)];
    case 'R4': return [X(d.rd), X(d.rs1), X(d.rs2), X(d.rs3)];
    case 'S': return [X(d.rs2), mem];
    case 'B': return [X(d.rs1), X(d.rs2), String(d.imm)];
    case 'U': return [X(d.rd), `0x${(d.imm >>> 12).toString(16)}`];
    case 'J': return [X(d.rd), String(d.imm)];
    case 'I':
      if (name.startsWith('csr')) return [X(d.rd), `0x${(d.imm & 0xfff).toString(16)}`, name.endsWith('i') ? String(d.rs1) : X(d.rs1)];
      if (/^(l[bhwd]u?|fl[wd]|jalr)$/.test(name)) return [X(d.rd), mem];
      return [X(d.rd), X(d.rs1), String(/^s[lr][la]i/.test(name) ? d.imm & 63 : d.imm)];
    default: return [];
  }
}

export function formatInsn(d: Decoded): string {
  const raw = (d.raw >>> 0).toString(16).padStart(d.len * 2, '0');
  return `${raw.padEnd(8)} ${d.def.name} ${operands(d).join(', ')}`.trimEnd();
}

/** Decode the instruction at the hart's pc for a trace line (shown as '?' when the pc is not plain RAM). */
export function disassemble(engine: { decoder: { decode(raw: number): Decoded } }, h: Hart): string {
  const off = h.bus.ramOffset(Number(h.pc), 4);
  if (off < 0) return '?';
  const raw = h.ram16[off >>> 1] | (h.ram16[(off >>> 1) + 1] << 16);
  return formatInsn(engine.decoder.decode((raw & 3) === 3 ? raw : raw & 0xffff));
}
