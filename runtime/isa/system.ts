// Zicsr, privileged instructions and the A extension.
import { def, enc, InsnDef, OP } from './types.js';
import { setW, setPair } from './snippets.js';

const csr = (name: string, f3: number, src: string) =>
  def(name, 'I', ...enc.f3(OP.SYSTEM, f3), `csrInsn(h, ${f3 & 3}, $imm & 0xfff, ${src}, $rs1, $xd, $raw);`, { system: true });

const amo = (name: string, f5: number, wide: boolean, op: string) =>
  def(name, 'R', 0xf800707f, OP.AMO | ((wide ? 3 : 2) << 12) | (f5 << 27),
    `const alo = x[$x1], ahi = x[$x1 + 1]; ${(wide ? setPair : setW)(`amo(h, alo, ahi, ${wide ? 8 : 4}, ${op}, x[$x2], x[$x2 + 1], $raw)`)}`);

// AMO operation codes understood by helpers.amo.
export const AMO = { swap: 0, add: 1, xor: 2, and: 3, or: 4, min: 5, max: 6, minu: 7, maxu: 8 } as const;

const amos: InsnDef[] = [];
for (const wide of [false, true]) {
  const s = wide ? '.d' : '.w';
  amos.push(
    def('lr' + s, 'R', 0xf9f0707f, OP.AMO | ((wide ? 3 : 2) << 12) | (0x02 << 27),
      `const alo = x[$x1], ahi = x[$x1 + 1]; ${(wide ? setPair : setW)(`loadReserved(h, alo, ahi, ${wide ? 8 : 4})`)}`),
    def('sc' + s, 'R', 0xf800707f, OP.AMO | ((wide ? 3 : 2) << 12) | (0x03 << 27),
      `const alo = x[$x1], ahi = x[$x1 + 1]; const r = storeConditional(h, alo, ahi, ${wide ? 8 : 4}, x[$x2], x[$x2 + 1]); x[$xd] = r; x[$xd + 1] = 0;`),
    amo('amoswap' + s, 0x01, wide, String(AMO.swap)),
    amo('amoadd' + s, 0x00, wide, String(AMO.add)),
    amo('amoxor' + s, 0x04, wide, String(AMO.xor)),
    amo('amoand' + s, 0x0c, wide, String(AMO.and)),
    amo('amoor' + s, 0x08, wide, String(AMO.or)),
    amo('amomin' + s, 0x10, wide, String(AMO.min)),
    amo('amomax' + s, 0x14, wide, String(AMO.max)),
    amo('amominu' + s, 0x18, wide, String(AMO.minu)),
    amo('amomaxu' + s, 0x1c, wide, String(AMO.maxu)),
  );
}

export const system: InsnDef[] = [
  def('ecall', 'none', ...enc.exact(0x00000073), 'throw h.raise(ecallCause(h), 0n);', { ends: true }),
  def('ebreak', 'none', ...enc.exact(0x00100073), 'throw h.raise(3, 0n);', { ends: true }),
  def('sret', 'none', ...enc.exact(0x10200073), 'sret(h, $raw);', { ends: true, system: true }),
  def('mret', 'none', ...enc.exact(0x30200073), 'mret(h, $raw);', { ends: true, system: true }),
  def('wfi', 'none', ...enc.exact(0x10500073), 'wfi(h, $raw);', { system: true }),
  def('sfence.vma', 'R', 0xfe007fff, 0x12000073, 'sfenceVma(h, $raw);', { system: true }),
  csr('csrrw', 1, 'x[$x1], x[$x1 + 1]'),
  csr('csrrs', 2, 'x[$x1], x[$x1 + 1]'),
  csr('csrrc', 3, 'x[$x1], x[$x1 + 1]'),
  csr('csrrwi', 5, '$rs1, 0'),
  csr('csrrsi', 6, '$rs1, 0'),
  csr('csrrci', 7, '$rs1, 0'),
  ...amos,
];

