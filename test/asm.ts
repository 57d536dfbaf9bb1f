// A tiny RV64 assembler for tests that need hand-made programs without a cross compiler.
type Item = { label?: string; word?: (pc: number, at: (l: string) => number) => number };

const R = (f7: number, rs2: number, rs1: number, f3: number, rd: number, op: number) =>
  ((f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) >>> 0;
const I = (imm: number, rs1: number, f3: number, rd: number, op: number) =>
  (((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) >>> 0;
const S = (imm: number, rs2: number, rs1: number, f3: number, op: number) =>
  ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 31) << 7) | op) >>> 0;
const B = (imm: number, rs2: number, rs1: number, f3: number) =>
  ((((imm >> 12) & 1) << 31) | (((imm >> 5) & 63) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
    (((imm >> 1) & 15) << 8) | (((imm >> 11) & 1) << 7) | 0x63) >>> 0;
const J = (imm: number, rd: number) =>
  ((((imm >> 20) & 1) << 31) | (((imm >> 1) & 1023) << 21) | (((imm >> 11) & 1) << 20) | (((imm >> 12) & 255) << 12) |
    (rd << 7) | 0x6f) >>> 0;

export const enc = {
  addi: (rd: number, rs1: number, imm: number) => I(imm, rs1, 0, rd, 0x13),
  add: (rd: number, rs1: number, rs2: number) => R(0, rs2, rs1, 0, rd, 0x33),
  lui: (rd: number, imm20: number) => (((imm20 & 0xfffff) << 12) | (rd << 7) | 0x37) >>> 0,
  ld: (rd: number, rs1: number, imm: number) => I(imm, rs1, 3, rd, 0x03),
  sd: (rs2: number, rs1: number, imm: number) => S(imm, rs2, rs1, 3, 0x23),
  sw: (rs2: number, rs1: number, imm: number) => S(imm, rs2, rs1, 2, 0x23),
  jalr: (rd: number, rs1: number, imm: number) => I(imm, rs1, 0, rd, 0x67),
  csrrw: (rd: number, csr: number, rs1: number) => I(csr, rs1, 1, rd, 0x73),
  csrrs: (rd: number, csr: number, rs1: number) => I(csr, rs1, 2, rd, 0x73),
  mret: () => 0x30200073,
  auipc: (rd: number, imm20: number) => (((imm20 & 0xfffff) << 12) | (rd << 7) | 0x17) >>> 0,
};

export class Asm {
  private items: Item[] = [];
  label(name: string): this { this.items.push({ label: name }); return this; }
  raw(word: number): this { this.items.push({ word: () => word }); return this; }
  jal(rd: number, target: string): this { this.items.push({ word: (pc, at) => J(at(target) - pc, rd) }); return this; }
  beq(rs1: number, rs2: number, target: string): this { this.items.push({ word: (pc, at) => B(at(target) - pc, rs2, rs1, 0) }); return this; }
  bne(rs1: number, rs2: number, target: string): this { this.items.push({ word: (pc, at) => B(at(target) - pc, rs2, rs1, 1) }); return this; }
  /** rd = address of a label (auipc + addi, pc-relative). */
  la(rd: number, target: string): this {
    this.items.push({ word: (pc, at) => { const d = at(target) - pc; return enc.auipc(rd, ((d + 0x800) >> 12) & 0xfffff); } });
    this.items.push({ word: (pc, at) => { const d = at(target) - (pc - 4); return enc.addi(rd, rd, d - (((d + 0x800) >> 12) << 12)); } });
    return this;
  }
  /** Load a 32-bit signed constant. */
  li(rd: number, v: number): this {
    const lo = (v << 20) >> 20, hi = ((v - lo) >>> 12) & 0xfffff;
    if (hi) this.raw(enc.lui(rd, hi));
    return this.raw(enc.addi(rd, hi ? rd : 0, lo));
  }
  /** Address of a label relative to the program start. */
  offsetOf(name: string): number {
    let pc = 0;
    for (const it of this.items) { if (it.label === name) return pc; if (it.word) pc += 4; }
    throw new Error(`no label ${name}`);
  }
  assemble(base: number): Uint8Array {
    const at = (l: string) => base + this.offsetOf(l);
    const words: number[] = [];
    for (const it of this.items) if (it.word) words.push(it.word(base + words.length * 4, at));
    const out = new Uint8Array(words.length * 4);
    words.forEach((w, i) => new DataView(out.buffer).setUint32(i * 4, w, true));
    return out;
  }
}
