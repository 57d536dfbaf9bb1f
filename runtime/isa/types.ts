// Instruction definitions: one JavaScript template per instruction, used by the interpreter (fields read from
// the decoded op) and by the JIT (fields substituted as constants).
//
// Template tokens: $xd $x1 $x2 are x-register slots (2*n, with x0 as destination mapped to a sink slot);
// $rd $rs1 $rs2 $rs3 are raw register numbers (f registers); $imm is the sign-extended immediate (the CSR number
// for CSR instructions, shamt for shifts); $rm is the rounding-mode field; $len is 2 or 4; $raw the instruction
// bits (for tval); $pcLo/$pcHi the address of this instruction.
// In scope: h (the hart), x (h.x), f (h.f), fi (h.fi) and every helper exported by runtime/isa/helpers.ts.

export type Format = 'R' | 'I' | 'S' | 'B' | 'U' | 'J' | 'R4' | 'none';

export interface InsnDef {
  name: string;
  mask: number;
  match: number;
  format: Format;
  exec: string;
  /** Sets the pc itself (jumps, branches, traps and returns) and ends a translated block. */
  ends?: boolean;
  /** May change interrupt or translation state: the engine re-checks interrupts after it. */
  system?: boolean;
  /** Needs mstatus.FS != Off. */
  fp?: boolean;
  /** Branches: code that assigns the outcome to `taken` without touching the pc (the JIT's in-page form). */
  branchCond?: string;
}

export const OP = {
  LOAD: 0x03, LOAD_FP: 0x07, MISC_MEM: 0x0f, OP_IMM: 0x13, AUIPC: 0x17, OP_IMM_32: 0x1b,
  STORE: 0x23, STORE_FP: 0x27, AMO: 0x2f, OP: 0x33, LUI: 0x37, OP_32: 0x3b,
  MADD: 0x43, MSUB: 0x47, NMSUB: 0x4b, NMADD: 0x4f, OP_FP: 0x53,
  BRANCH: 0x63, JALR: 0x67, JAL: 0x6f, SYSTEM: 0x73,
} as const;

const F3 = 0x7000, F7 = 0xfe000000 | 0, OPC = 0x7f;

export function def(name: string, format: Format, mask: number, match: number, exec: string,
  extra: Partial<InsnDef> = {}): InsnDef {
  return { name, format, mask: mask | 0, match: match | 0, exec, ...extra };
}
/** Masks for the usual field combinations. */
export const enc = {
  op: (opcode: number) => [OPC, opcode] as const,
  f3: (opcode: number, f3: number) => [OPC | F3, opcode | (f3 << 12)] as const,
  f7: (opcode: number, f3: number, f7: number) => [OPC | F3 | F7, opcode | (f3 << 12) | (f7 << 25)] as const,
  /** funct6 (bits 31:26) for RV64 shifts by immediate. */
  f6: (opcode: number, f3: number, f6: number) => [OPC | F3 | 0xfc000000, opcode | (f3 << 12) | (f6 << 26)] as const,
  /** Fully fixed instruction word. */
  exact: (word: number) => [0xffffffff, word] as const,
};
