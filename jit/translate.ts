// Translate the hot blocks of one code page into a single JavaScript function with an internal dispatch loop,
// so loops inside the page stay inside one function. Guest x registers live in locals while it runs.
import type { Decoded } from '../runtime/decoder.js';
import { helperNames, templateOf } from '../runtime/isa/index.js';
import * as helpers from '../runtime/isa/helpers.js';
import type { Hart } from '../runtime/hart.js';

export interface Block {
  /** Page offset of the first instruction. */
  off: number;
  ops: Decoded[];
  /** Page offset after the last instruction (4096 or more when the block runs to the page end). */
  end: number;
}

/** Runs compiled code from h.pc (which must be in the page) until it leaves the page or region, or the budget is spent. */
export type RegionFn = (h: Hart, budget: number) => number;

/** Thrown inside a region to leave it after the current instruction (code was written, or an interrupt line moved). */
export const BREAK = Object.freeze({ break: true });

// Helpers that never throw: calls to anything else may raise a trap.
const PURE_CALLS = new Set(['mul', 'mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu', 'lt', 'ltu', 'imul']);
const mayTrapCache = new Map<string, boolean>();
function mayTrap(d: Decoded): boolean {
  let r = mayTrapCache.get(d.def.name);
  if (r === undefined) {
    const body = templateOf(d.def);
    r = /\bthrow\b/.test(body) || [...body.matchAll(/([A-Za-z_]\w*)\s*\(/g)].some((m) => !PURE_CALLS.has(m[1]) && m[1] !== 'if');
    mayTrapCache.set(d.def.name, r);
  }
  return r;
}
/** Instructions after which a device may have raised an interrupt or code may have been overwritten. */
const touchesMemory = (d: Decoded) => /\b(store\d+|load\d+|amo|storeConditional|loadReserved)\(/.test(d.def.exec);

/** A conditional branch whose both successors are in the same page: the JIT only needs its condition. */
function inPageBranch(d: Decoded, off: number): boolean {
  const t = off + d.imm;
  return d.def.branchCond !== undefined && t >= 0 && t < 4096 && off + d.len < 4096;
}

/** Instantiate one instruction's template with constant fields and the pc of its page offset. */
function instantiate(d: Decoded, off: number, conditionOnly = false): string {
  const fields: Record<string, number> = {
    xd: d.xd, x1: d.x1, x2: d.x2, rd: d.rd, rs1: d.rs1, rs2: d.rs2, rs3: d.rs3, imm: d.imm, rm: d.rm, len: d.len, raw: d.raw,
  };
  return (conditionOnly ? d.def.branchCond! : templateOf(d.def))
    .replace(/\$(xd|x1|x2|rd|rs1|rs2|rs3|imm|rm|len|raw)\b/g, (_, k: string) => `(${fields[k]})`)
    .replace(/\$pcLo\b/g, `((base + ${off}) | 0)`)
    .replace(/\$pcHi\b/g, 'pcHi')
    // The next pc stays in locals until the region exits.
    .replace(/\bh\.pcLo\b/g, 'nlo').replace(/\bh\.pcHi\b/g, 'nhi')
    // x[(a) + 1] and x[(a)] with constant slots become locals.
    .replace(/\bx\[\((\d+)\)( \+ 1)?\]/g, (_, s: string, plus: string | undefined) => `r${Number(s) + (plus ? 1 : 0)}`);
}

/**
 * Code after a block's last instruction choosing where to go: straight to another case when the next pc is a
 * known offset in this page, else through nlo/nhi with the page check. `break` leaves the switch to the exit.
 */
function transfer(b: Block, last: Decoded): string {
  const lastOff = b.end - last.len;
  const stopCheck = touchesMemory(last) || last.def.system ? 'h.stop || ' : '';
  const goTo = (offExpr: string) =>
    `off = ${offExpr}; if (${stopCheck}n >= budget) { nlo = (base + off) | 0; nhi = pcHi; break; } continue;`;
  if (last.def.branchCond !== undefined && inPageBranch(last, lastOff)) return goTo(`taken ? ${lastOff + last.imm} : ${b.end}`);
  if (last.def.name === 'jal' && lastOff + last.imm >= 0 && lastOff + last.imm < 4096) return goTo(String(lastOff + last.imm));
  if (!last.def.ends && b.end < 4096) return goTo(String(b.end));
  const next = last.def.ends ? '' : `{ const t = (base + ${b.end}) | 0; nlo = t; nhi = (t >>> 0) < (base >>> 0) ? (pcHi + 1) | 0 : pcHi; }`;
  return `${next} if (nhi === pcHi && (nlo & -4096) === base && !(${stopCheck}n >= budget)) { off = nlo & 4095; continue; } break;`;
}

// Register slots are cached in locals r2..r65 (r0/r1 are x0). Only the slots a region uses are declared; the
// placeholders below are filled in once the whole region is generated.
const WB = '/*writeback*/', RL = '/*reload*/';

export function regionSource(blocks: Block[], name: string): string {
  const cases: string[] = [];
  for (const b of blocks) {
    const lines: string[] = [];
    let off = b.off;
    b.ops.forEach((d, idx) => {
      if (mayTrap(d)) lines.push(`k = ${off}; j = ${idx};`);
      const conditionOnly = d === b.ops[b.ops.length - 1] && inPageBranch(d, off);
      let code = instantiate(d, off, conditionOnly);
      // Control transfers done inside helpers (mret, sret) leave the new pc on the hart.
      if (d.def.ends && !conditionOnly && !/\bnlo\b/.test(code)) code += ' nlo = h.pcLo; nhi = h.pcHi;';
      // CSR instructions read and write h.x themselves.
      // They may read instret, so account for the instructions retired so far first.
      if (/\bcsrInsn\(/.test(code)) code = `h.instret += n + ${idx} - synced; synced = n + ${idx}; ${WB} ${code} ${RL}`;
      // The marker names the guest instruction (block offset, index) for source maps; it costs nothing to run.
      lines.push(`/*@${b.off}:${idx}*/ { ${code} }`);
      off += d.len;
      if (touchesMemory(d) && idx < b.ops.length - 1) lines.push(`if (h.stop) { k = ${off}; j = ${idx + 1}; throw BREAK; }`);
    });
    const last = b.ops[b.ops.length - 1];
    lines.push(`n += ${b.ops.length};`);
    lines.push(transfer(b, last));
    cases.push(`case ${b.off}: {\n${lines.join('\n')}\nbreak; }`);
  }
  const body = cases.join('\n');
  const used = [...new Set([...body.matchAll(/\br(\d+)\b/g)].map((m) => Number(m[1])))].filter((i) => i >= 2).sort((a, b) => a - b);
  const wb = used.map((i) => `x[${i}] = r${i};`).join(' '), rl = used.map((i) => `r${i} = x[${i}];`).join(' ');
  const decl = used.length ? `let ${used.map((i) => `r${i} = x[${i}]`).join(', ')};` : '';
  return `"use strict";
return function ${name}(h, budget) {
const x = h.x, f = h.f, fi = h.fi;
const pcHi = h.pcHi, base = h.pcLo & -4096;
// n counts instructions retired in this call; synced of them are already in h.instret (added before CSR reads).
let off = h.pcLo & 4095, n = 0, synced = 0, k = 0, j = 0, nlo = 0, nhi = pcHi, taken = false;
const r0 = 0, r1 = 0; ${decl}
try {
for (;;) {
switch (off) {
${body}
default: nlo = (base + off) | 0; nhi = pcHi;
}
h.pcLo = nlo; h.pcHi = nhi; ${WB} h.instret += n - synced; return n;
}
} catch (e) {
${WB}
h.instret += n + j - synced;
const t = (base + k) | 0; h.pcLo = t; h.pcHi = (t >>> 0) < (base >>> 0) ? (pcHi + 1) | 0 : pcHi;
if (e === BREAK) return n + j;
throw e;
}
};`.split(WB).join(wb).split(RL).join(rl);
}

const helperValues = helperNames.map((k) => (helpers as Record<string, unknown>)[k]);

export function compileRegion(src: string): RegionFn {
  return new Function(...helperNames, 'BREAK', src)(...helperValues, BREAK) as RegionFn;
}
