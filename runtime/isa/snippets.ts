// Small code generators used to write the instruction templates.

/** Effective address rs1 + imm as (lo, hi) consts named alo/ahi. */
export const EA = `const a1 = x[$x1], alo = (a1 + $imm) | 0, ahi = (x[$x1 + 1] + ($imm >> 31) + ((alo >>> 0) < (a1 >>> 0) ? 1 : 0)) | 0;`;

/** Set the pc to this instruction's address plus a constant (sign-extended int32) offset. */
export function pcPlus(offset: string): string {
  return `{ const t = ($pcLo + ${offset}) | 0; h.pcHi = ($pcHi + ((${offset}) >> 31) + ((t >>> 0) < ($pcLo >>> 0) ? 1 : 0)) | 0; h.pcLo = t; }`;
}

/** Write a sign-extended 32-bit value to rd. */
export function setW(v: string): string {
  return `{ const r = ${v}; x[$xd] = r; x[$xd + 1] = r >> 31; }`;
}

/** Write a 64-bit result that a helper returned as lo with the high word in out.hi. */
export function setPair(call: string): string {
  return `{ const r = ${call}; x[$xd + 1] = out.hi; x[$xd] = r; }`;
}
