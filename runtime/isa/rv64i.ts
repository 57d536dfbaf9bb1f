// RV64I base integer instructions, Zifencei and the M extension.
import { def, enc, InsnDef, OP } from './types.js';
import { EA, pcPlus, setW, setPair, load as loadInsn, store as storeInsn } from './snippets.js';

const alu = (name: string, f3: number, f7: number, body: string) =>
  def(name, 'R', ...enc.f7(OP.OP, f3, f7), `const al = x[$x1], ah = x[$x1 + 1], bl = x[$x2], bh = x[$x2 + 1]; ${body}`);
const aluImm = (name: string, f3: number, body: string) =>
  def(name, 'I', ...enc.f3(OP.OP_IMM, f3), `const al = x[$x1], ah = x[$x1 + 1], bl = $imm, bh = $imm >> 31; ${body}`);
const set64 = (lo: string, hi: string) => `x[$xd] = ${lo}; x[$xd + 1] = ${hi};`;
const bool = (cond: string) => `x[$xd] = (${cond}) ? 1 : 0; x[$xd + 1] = 0;`;

const ADD = `const lo = (al + bl) | 0; ${set64('lo', '(ah + bh + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0')}`;
const SUB = `const lo = (al - bl) | 0; ${set64('lo', '(ah - bh - ((al >>> 0) < (bl >>> 0) ? 1 : 0)) | 0')}`;

/** cond is written over al, ah, bl, bh; the JIT uses it (assigning `taken`) for branches that stay in their page. */
const branch = (name: string, f3: number, cond: string) => {
  const operands = 'const al = x[$x1], ah = x[$x1 + 1], bl = x[$x2], bh = x[$x2 + 1];';
  return def(name, 'B', ...enc.f3(OP.BRANCH, f3),
    `${operands} if (${cond}) ${pcPlus('$imm')} else ${pcPlus('$len')}`,
    { ends: true, branchCond: `${operands} taken = ${cond};` });
};

const load = (name: string, f3: number, code: string) => def(name, 'I', ...enc.f3(OP.LOAD, f3), `${EA} ${code}`);
const store = (name: string, f3: number, code: string) => def(name, 'S', ...enc.f3(OP.STORE, f3), `${EA} ${code}`);

// 64-bit shifts written out (not helper calls) so that a constant shift amount folds to straight-line code.
const SHIFT: Record<string, string> = {
  sll: 'if (s === 0) { lo = al; hi = ah; } else if (s < 32) { lo = al << s; hi = (ah << s) | (al >>> (32 - s)); } else { lo = 0; hi = al << (s - 32); }',
  srl: 'if (s === 0) { lo = al; hi = ah; } else if (s < 32) { lo = (al >>> s) | (ah << (32 - s)); hi = ah >>> s; } else { lo = ah >>> (s - 32); hi = 0; }',
  sra: 'if (s === 0) { lo = al; hi = ah; } else if (s < 32) { lo = (al >>> s) | (ah << (32 - s)); hi = ah >> s; } else { lo = ah >> (s - 32); hi = ah >> 31; }',
};
const shift = (kind: string, amount: string) =>
  `const al = x[$x1], ah = x[$x1 + 1], s = ${amount}; let lo, hi; ${SHIFT[kind]} ${set64('lo | 0', 'hi | 0')}`;
const shiftImm = (name: string, f3: number, f6: number, kind: string) =>
  def(name, 'I', ...enc.f6(OP.OP_IMM, f3, f6), shift(kind, '$imm & 63'));
const shiftImmW = (name: string, f3: number, f7: number, expr: string) =>
  def(name, 'I', ...enc.f7(OP.OP_IMM_32, f3, f7), setW(expr));
const aluW = (name: string, f3: number, f7: number, expr: string) =>
  def(name, 'R', ...enc.f7(OP.OP_32, f3, f7), `const a = x[$x1], b = x[$x2]; ${setW(expr)}`);
const mext = (name: string, f3: number, fn: string) =>
  def(name, 'R', ...enc.f7(OP.OP, f3, 1), setPair(`${fn}(x[$x1], x[$x1 + 1], x[$x2], x[$x2 + 1])`));

export const rv64i: InsnDef[] = [
  def('lui', 'U', ...enc.op(OP.LUI), set64('$imm', '$imm >> 31')),
  def('auipc', 'U', ...enc.op(OP.AUIPC),
    `const lo = ($pcLo + $imm) | 0; ${set64('lo', '($pcHi + ($imm >> 31) + ((lo >>> 0) < ($pcLo >>> 0) ? 1 : 0)) | 0')}`),
  def('jal', 'J', ...enc.op(OP.JAL),
    `const lo = ($pcLo + $len) | 0, hi = ($pcHi + ((lo >>> 0) < ($pcLo >>> 0) ? 1 : 0)) | 0; ${pcPlus('$imm')} x[$xd] = lo; x[$xd + 1] = hi;`,
    { ends: true }),
  def('jalr', 'I', ...enc.f3(OP.JALR, 0),
    `${EA} const lo = ($pcLo + $len) | 0, hi = ($pcHi + ((lo >>> 0) < ($pcLo >>> 0) ? 1 : 0)) | 0; h.pcLo = alo & ~1; h.pcHi = ahi; x[$xd] = lo; x[$xd + 1] = hi;`,
    { ends: true }),
  // Without && / ||: a comparison of the high words that runs only when the low words are equal (a loop's exit)
  // has no type feedback in a unit V8 optimised before the loop first exited, and deoptimises it (docs/jit.md).
  branch('beq', 0, '((al ^ bl) | (ah ^ bh)) === 0'),
  branch('bne', 1, '((al ^ bl) | (ah ^ bh)) !== 0'),
  branch('blt', 4, 'lt(al, ah, bl, bh)'),
  branch('bge', 5, '!lt(al, ah, bl, bh)'),
  branch('bltu', 6, 'ltu(al, ah, bl, bh)'),
  branch('bgeu', 7, '!ltu(al, ah, bl, bh)'),
  load('lb', 0, loadInsn(1, (v) => setW(`(${v} << 24) >> 24`))),
  load('lh', 1, loadInsn(2, (v) => setW(`(${v} << 16) >> 16`))),
  load('lw', 2, loadInsn(4, (v) => setW(v))),
  load('ld', 3, loadInsn(8, (v, vh) => set64(v, vh))),
  load('lbu', 4, loadInsn(1, (v) => set64(v, '0'))),
  load('lhu', 5, loadInsn(2, (v) => set64(v, '0'))),
  load('lwu', 6, loadInsn(4, (v) => set64(v, '0'))),
  store('sb', 0, storeInsn(1, 'x[$x2]')),
  store('sh', 1, storeInsn(2, 'x[$x2]')),
  store('sw', 2, storeInsn(4, 'x[$x2]')),
  store('sd', 3, storeInsn(8, 'x[$x2]', 'x[$x2 + 1]')),
  aluImm('addi', 0, ADD),
  aluImm('slti', 2, bool('lt(al, ah, bl, bh)')),
  aluImm('sltiu', 3, bool('ltu(al, ah, bl, bh)')),
  aluImm('xori', 4, set64('al ^ bl', 'ah ^ bh')),
  aluImm('ori', 6, set64('al | bl', 'ah | bh')),
  aluImm('andi', 7, set64('al & bl', 'ah & bh')),
  shiftImm('slli', 1, 0x00, 'sll'),
  shiftImm('srli', 5, 0x00, 'srl'),
  shiftImm('srai', 5, 0x10, 'sra'),
  alu('add', 0, 0x00, ADD),
  alu('sub', 0, 0x20, SUB),
  def('sll', 'R', ...enc.f7(OP.OP, 1, 0), shift('sll', 'x[$x2] & 63')),
  alu('slt', 2, 0x00, bool('lt(al, ah, bl, bh)')),
  alu('sltu', 3, 0x00, bool('ltu(al, ah, bl, bh)')),
  alu('xor', 4, 0x00, set64('al ^ bl', 'ah ^ bh')),
  def('srl', 'R', ...enc.f7(OP.OP, 5, 0), shift('srl', 'x[$x2] & 63')),
  def('sra', 'R', ...enc.f7(OP.OP, 5, 0x20), shift('sra', 'x[$x2] & 63')),
  alu('or', 6, 0x00, set64('al | bl', 'ah | bh')),
  alu('and', 7, 0x00, set64('al & bl', 'ah & bh')),
  def('addiw', 'I', ...enc.f3(OP.OP_IMM_32, 0), setW('(x[$x1] + $imm) | 0')),
  shiftImmW('slliw', 1, 0x00, 'x[$x1] << ($imm & 31)'),
  shiftImmW('srliw', 5, 0x00, 'x[$x1] >>> ($imm & 31)'),
  shiftImmW('sraiw', 5, 0x20, 'x[$x1] >> ($imm & 31)'),
  aluW('addw', 0, 0x00, '(a + b) | 0'),
  aluW('subw', 0, 0x20, '(a - b) | 0'),
  aluW('sllw', 1, 0x00, 'a << (b & 31)'),
  aluW('srlw', 5, 0x00, 'a >>> (b & 31)'),
  aluW('sraw', 5, 0x20, 'a >> (b & 31)'),
  // M extension.
  mext('mul', 0, 'mul'),
  mext('mulh', 1, 'mulh'),
  mext('mulhsu', 2, 'mulhsu'),
  mext('mulhu', 3, 'mulhu'),
  mext('div', 4, 'div'),
  mext('divu', 5, 'divu'),
  mext('rem', 6, 'rem'),
  mext('remu', 7, 'remu'),
  aluW('mulw', 0, 0x01, 'Math.imul(a, b)'),
  aluW('divw', 4, 0x01, 'b === 0 ? -1 : (a === -2147483648 && b === -1) ? a : (a / b) | 0'),
  aluW('divuw', 5, 0x01, 'b === 0 ? -1 : ((a >>> 0) / (b >>> 0)) | 0'),
  aluW('remw', 6, 0x01, 'b === 0 ? a : b === -1 ? 0 : (a % b) | 0'),
  aluW('remuw', 7, 0x01, 'b === 0 ? a : ((a >>> 0) % (b >>> 0)) | 0'),
  // FENCE (any fm/pred/succ, rd and rs1 are reserved and ignored like QEMU does) and FENCE.I.
  def('fence', 'none', ...enc.f3(OP.MISC_MEM, 0), ''),
  def('fence.i', 'none', ...enc.f3(OP.MISC_MEM, 1), 'fenceI(h);', { system: true }),
];
