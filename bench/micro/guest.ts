// Shared by the guest-level micro-benchmarks: a few RV64 instruction encoders and a machine with code in RAM.
import { Machine, type EngineName } from '../../src/machine.js';

export const RAM = 0x80000000;
export const T0 = 5, T1 = 6, T2 = 7, T3 = 28, T4 = 29;

const I = (imm: number, rs1: number, f3: number, rd: number, op: number) =>
  (((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) >>> 0;
export const addi = (rd: number, rs1: number, imm: number) => I(imm, rs1, 0, rd, 0x13);
export const xor = (rd: number, rs1: number, rs2: number) => ((rs2 << 20) | (rs1 << 15) | (4 << 12) | (rd << 7) | 0x33) >>> 0;
export const sw = (rs2: number, rs1: number, imm: number) =>
  ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (2 << 12) | ((imm & 31) << 7) | 0x23) >>> 0;
export const bne = (rs1: number, rs2: number, off: number) =>
  ((((off >> 12) & 1) << 31) | (((off >> 5) & 63) << 25) | (rs2 << 20) | (rs1 << 15) | (1 << 12) |
    (((off >> 1) & 15) << 8) | (((off >> 11) & 1) << 7) | 0x63) >>> 0;
export const jal = (rd: number, off: number) =>
  ((((off >> 20) & 1) << 31) | (((off >> 1) & 1023) << 21) | (((off >> 11) & 1) << 20) | (((off >> 12) & 255) << 12) |
    (rd << 7) | 0x6f) >>> 0;

/** A machine with 1 MiB of RAM, the given words at each physical address, registers as given (others 0), pc at `entry`. */
export function machineWith(engine: EngineName, code: Record<number, number[]>, regs: Record<number, number> = {}, entry = RAM): Machine {
  const m = new Machine({ memBytes: 1 << 20, engine });
  for (const [addr, words] of Object.entries(code)) {
    const bytes = new Uint8Array(words.length * 4);
    const v = new DataView(bytes.buffer);
    words.forEach((w, i) => v.setUint32(i * 4, w, true));
    m.bus.writeBytes(Number(addr), bytes);
  }
  for (const [r, v] of Object.entries(regs)) m.hart.setX(Number(r), BigInt(v));
  m.hart.pc = BigInt(entry);
  return m;
}

/** Run the engine for `budget` guest instructions (the program must loop forever). */
export function step(m: Machine, budget: number): number {
  m.hart.stop = false;
  let n = 0;
  while (n < budget) { m.hart.stop = false; n += m.engine.run(budget - n); }
  return n;
}
