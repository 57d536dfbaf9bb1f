// Small code generators used to write the instruction templates.
import { TLB_SIZE } from '../hart.js';

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

// Loads and stores with the TLB hit path written into the template, so neither engine makes a call for an
// access that hits (docs/jit.md, "Inline memory access"). A tag is a page address, or INVALID_TAG (runtime/hart.ts),
// which has bits 3–11 set: masking the address with -4096 | (size - 1) keeps the page and the bits that must be
// zero for a naturally aligned access, so one comparison checks the page and the alignment.
// Only the miss path can trap, write code or reach a device: the JIT puts its bookkeeping for precise traps
// (register write-back, the trapping instruction) at $beforeSlow and its check for a code write or an interrupt
// line at $afterStore, so a hit costs neither. The interpreter needs neither.
const RAM: Record<number, [string, number]> = { 1: ['ram8', 0], 2: ['ram16', 1], 4: ['ram32', 2], 8: ['ram32', 2] };
const hit = (t: 'r' | 'w', size: number) =>
  `const ti = (alo >>> 12) & ${TLB_SIZE - 1}; if (${t}TagLo[ti] === (alo & ${-4096 | (size - 1)}) && ${t}TagHi[ti] === ahi) { const w = (${t}Off[ti] + (alo & 4095)) >> ${RAM[size][1]};`;

/** Load size bytes at alo/ahi (from EA): `set(lo, hi)` writes the destination; hi only for size 8. 1/2 are unsigned. */
export function load(size: 1 | 2 | 4 | 8, set: (lo: string, hi: string) => string): string {
  const ram = RAM[size][0];
  if (size === 8) return `let v, vh; ${hit('r', 8)} v = ram32[w]; vh = ram32[w + 1]; } else { $beforeSlow v = load64Slow(h, alo, ahi); vh = out.hi; } ${set('v', 'vh')}`;
  return `let v; ${hit('r', size)} v = ${ram}[w]; } else { $beforeSlow v = loadSlow(h, alo, ahi, ${size})${size === 4 ? ' | 0' : ''}; } ${set('v', '')}`;
}

/** Store the low size bytes of lo (size 8: lo and hi) at alo/ahi (from EA). */
export function store(size: 1 | 2 | 4 | 8, lo: string, hi = ''): string {
  if (size === 8) return `${hit('w', 8)} ram32[w] = ${lo}; ram32[w + 1] = ${hi}; } else { $beforeSlow store64Slow(h, alo, ahi, ${lo}, ${hi}); $afterStore }`;
  return `${hit('w', size)} ${RAM[size][0]}[w] = ${lo}; } else { $beforeSlow storeSlow(h, alo, ahi, ${size}, ${lo}); $afterStore }`;
}
