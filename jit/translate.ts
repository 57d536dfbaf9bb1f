// Translate the hot blocks of one code page into a single JavaScript function with an internal dispatch loop,
// so loops inside the page stay inside one function. Guest x registers live in locals while it runs.
import type { Decoded } from '../runtime/decoder.js';
import { FS_OFF, hartViews, helperNames, templateOf } from '../runtime/isa/index.js';
import { DIRTY } from '../runtime/isa/fp.js';
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
const mayTrapCode = (code: string) =>
  /\bthrow\b/.test(code) || [...code.matchAll(/([A-Za-z_]\w*)\s*\(/g)].some((m) => !PURE_CALLS.has(m[1]) && m[1] !== 'if');
/** Miss paths of inline loads and stores (runtime/isa/snippets.ts): the only places such an instruction can trap. */
const SLOW_PATH = /\{ \$beforeSlow[^{}]*\}/g;
const trapCache = new Map<string, Trap>();
/** Where an instruction may trap: nowhere, only in its marked miss paths, or anywhere. */
const enum Trap { Never, InSlowPath, Anywhere }
function trapOf(d: Decoded): Trap {
  let r = trapCache.get(d.def.name);
  if (r === undefined) {
    const body = templateOf(d.def);
    r = !mayTrapCode(body) ? Trap.Never : /\$beforeSlow/.test(body) && !mayTrapCode(body.replace(SLOW_PATH, '')) ? Trap.InSlowPath : Trap.Anywhere;
    trapCache.set(d.def.name, r);
  }
  return r;
}
/** Instructions after which code may have been overwritten: the unit must leave before the next one. */
const writesMemory = (d: Decoded) => /\b(store\w*|amo|hsv)\(/.test(d.def.exec);
/**
 * Blocks after which a device may have moved an interrupt line (an MMIO access) or code may have been
 * overwritten: the unit checks h.stop at their end. Interrupts are taken at block boundaries.
 */
const checksStop = (b: Block) => b.ops.some((d) => d.def.system || /\b(store\w*|load\w*|amo|hlv|hsv)\(/.test(d.def.exec));

/** A conditional branch whose both successors are in the same page: the JIT only needs its condition. */
function inPageBranch(d: Decoded, off: number): boolean {
  const t = off + d.imm;
  return d.def.branchCond !== undefined && t >= 0 && t < 4096 && off + d.len < 4096;
}

/** Instantiate one instruction's template with constant fields and the pc of its page offset. */
function instantiate(d: Decoded, off: string, conditionOnly = false): string {
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
    .replace(/\bx\[\((\d+)\)( \+ 1)?\]/g, (_, s: string, plus: string | undefined) => `r${Number(s) + (plus ? 1 : 0)}`)
    // A static rounding mode is valid or not once and for all; frm and FS change only through CSR
    // instructions and traps, which leave the unit, so the unit reads them once (FP_STATE) and FS only goes
    // from clean to dirty inside it.
    .replace(/\brmOf\(h, \(([0-4])\), \(-?\d+\)\)/g, '$1')
    .replace(/\brmOf\(h, \(7\), (\(-?\d+\))\)/g, '(frm < 5 ? frm : rmOf(h, 7, $1))')
    .split(FS_OFF).join('fsOff')
    .split(DIRTY).join('if (!fsDirty) { fsDirty = true; ' + DIRTY + ' }');
}

/** The names a declaration list (`a = f(b, c), d`) declares: the first identifier of each top-level item. */
function declared(list: string): string[] {
  const names: string[] = [];
  let depth = 0, start = true;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (start && /[A-Za-z_$]/.test(c)) { names.push(/^[\w$]+/.exec(list.slice(i))![0]); start = false; }
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) start = true;
  }
  return names;
}

/**
 * Template temporaries become function-level variables t_NAME, shared by all instructions: V8 gives every
 * block-scoped `const` its own interpreter register, and the frame state of every check and call in optimised
 * code covers all of them, so a unit of 200 instructions had 700 registers and TurboFan took 150–500 ms on it
 * (docs/jit.md). No value flows between instructions through them.
 */
function hoistTemps(code: string, temps: Set<string>): string {
  const names = [...code.matchAll(/\b(?:const|let) ([^;]*);/g)].flatMap((m) => declared(m[1]));
  if (new Set(names).size !== names.length) return code; // a name declared twice: keep the template's scopes
  for (const name of names) temps.add(`t_${name}`);
  if (names.length === 0) return code;
  return code.replace(new RegExp(`(?<![.\\w$])(${names.join('|')})\\b`, 'g'), 't_$1').replace(/\b(?:const|let) /g, '');
}

/**
 * Code after a block's last instruction choosing where to go: straight to another case when the next pc is a
 * known offset in this page, else through nlo/nhi with the page check. `break` leaves the switch to the exit,
 * with off = -1 when nlo/nhi hold the next pc.
 */
function transfer(b: Block, last: Decoded): string {
  const lastOff = b.end - last.len;
  const stopCheck = checksStop(b) ? 'h.stop || ' : '';
  // Leaving with off >= 0 resumes there; the exit after the switch computes the pc (see regionSource).
  const goTo = (offExpr: string) => `off = ${offExpr}; if (${stopCheck}n >= budget) break; continue;`;
  if (last.def.branchCond !== undefined && inPageBranch(last, lastOff)) return goTo(`taken ? ${lastOff + last.imm} : ${b.end}`);
  if (last.def.name === 'jal' && lastOff + last.imm >= 0 && lastOff + last.imm < 4096) return goTo(String(lastOff + last.imm));
  if (!last.def.ends && b.end < 4096) return goTo(String(b.end));
  const next = last.def.ends ? '' : `{ const t = (base + ${b.end}) | 0; nlo = t; nhi = (t >>> 0) < (base >>> 0) ? (pcHi + 1) | 0 : pcHi; }`;
  return `${next} if (nhi === pcHi && (nlo & -4096) === base && !(${stopCheck}n >= budget)) { off = nlo & 4095; continue; } off = -1; break;`;
}

// Register slots are cached in locals r2..r63 (r0/r1 are x0, r64/r65 the sink for writes to x0), per block: a
// block loads the slots it reads when it starts and stores the ones it wrote ("dirty") before every instruction
// that may trap and when it ends. So h.x is exact wherever control can leave, the catch needs no register
// values, and no register value flows from one case of the switch to another: V8's graph has no per-register
// merges at the loop header (docs/jit.md has the measurements). A block that branches to itself runs as an inner
// loop with its registers kept in locals across iterations.
const READ = /\br(\d+)\b(?!\s*=[^=])/g, WRITE = /\br(\d+)\s*=(?!=)/g;
const slots = (code: string, re: RegExp) => [...code.matchAll(re)].map((m) => Number(m[1])).filter((i) => i >= 2);
const store = (dirty: Set<number>) => [...dirty].filter((i) => i < 64).map((i) => `x[${i}] = r${i};`).join(' ');

/** One instruction's code, with the block offset it starts at. */
interface Insn { d: Decoded; off: number; idx: number; code: string; trap: Trap; csr: boolean }

/**
 * Instantiated code by instruction (and whether only a branch's condition is wanted), with OFFSET standing for
 * the page offset, and the temporaries it uses: the same instructions recur across units and pages, and
 * instantiating them took most of our compile time.
 */
const OFFSET = '@off@';
const codeCache = new Map<string, { code: string; temps: string[] }>();
const CODE_CACHE_LIMIT = 1 << 16;

function instructionCode(d: Decoded, off: number, conditionOnly: boolean, temps: Set<string>): string {
  // The definition too: the same bits decode differently under another ISA (without H, say).
  const key = `${d.def.name}:${d.raw}:${d.len}:${conditionOnly ? 1 : 0}`;
  let c = codeCache.get(key);
  if (c === undefined) {
    let code = instantiate(d, OFFSET, conditionOnly);
    // Control transfers done inside helpers (mret, sret) leave the new pc on the hart.
    if (d.def.ends && !conditionOnly && !/\bnlo\b/.test(code)) code += ' nlo = h.pcLo; nhi = h.pcHi;';
    const own = new Set<string>();
    code = hoistTemps(code, own);
    c = { code, temps: [...own] };
    if (codeCache.size >= CODE_CACHE_LIMIT) codeCache.clear();
    codeCache.set(key, c);
  }
  for (const t of c.temps) temps.add(t);
  return c.code.split(OFFSET).join(String(off));
}

function blockInsns(b: Block, temps: Set<string>): Insn[] {
  let off = b.off;
  return b.ops.map((d, idx) => {
    const conditionOnly = d === b.ops[b.ops.length - 1] && inPageBranch(d, off);
    const code = instructionCode(d, off, conditionOnly, temps);
    const insn = { d, off, idx, code, trap: trapOf(d), csr: /\bcsrInsn\(/.test(code) };
    off += d.len;
    return insn;
  });
}

/** The block's instructions from dirty slots `dirty` on; leaves in `dirty` the slots written since the last store. */
function blockBody(b: Block, insns: Insn[], locals: number[], dirty: Set<number>): string {
  const lines: string[] = [];
  for (const { d, off, idx, code, trap, csr } of insns) {
    const anywhere = trap === Trap.Anywhere;
    if (anywhere || csr) { lines.push(store(dirty)); dirty.clear(); }
    if (anywhere) lines.push(`k = ${off}; j = ${idx};`);
    // A load or store that hits in the TLB cannot trap or write code: the write-back and the stop check are
    // in its miss path only. The registers stay dirty after it.
    let c = trap !== Trap.InSlowPath ? code.replace(/\$(beforeSlow|afterStore)\b/g, '')
      : code.replace(/\$beforeSlow\b/g, `${store(dirty)} k = ${off}; j = ${idx};`)
        .replace(/\$afterStore\b/g, `if (h.stop) { k = ${off + d.len}; j = ${idx + 1}; throw BREAK; }`);
    // CSR instructions read and write h.x themselves; they may read instret, so account for the instructions
    // retired so far first.
    if (csr) c = `h.instret += n + ${idx} - synced; synced = n + ${idx}; ${c} ${locals.map((i) => `r${i} = x[${i}];`).join(' ')}`;
    // The marker names the guest instruction (block offset, index) for source maps; it costs nothing to run.
    lines.push(`/*@${b.off}:${idx}*/ { ${c} }`);
    for (const i of slots(code, WRITE)) dirty.add(i);
    if (writesMemory(d) && trap !== Trap.InSlowPath && idx < b.ops.length - 1) {
      // The registers are stored before the check, not inside it: code that has never run has no type feedback,
      // and V8 deoptimises the unit when it first runs (docs/jit.md, "Rare paths").
      lines.push(`${store(dirty)} if (h.stop) { k = ${off + d.len}; j = ${idx + 1}; throw BREAK; }`);
      dirty.clear();
    }
  }
  return lines.join('\n');
}

function blockSource(b: Block, temps: Set<string>): string {
  const insns = blockInsns(b, temps);
  // Slots read before the block writes them are loaded; the others start at 0.
  const loaded = new Set<number>(), written = new Set<number>();
  for (const { code } of insns) {
    for (const i of slots(code, READ)) if (!written.has(i)) loaded.add(i);
    for (const i of slots(code, WRITE)) written.add(i);
  }
  const locals = [...new Set([...loaded, ...written])].sort((a, c) => a - c);
  for (const i of locals) temps.add(`r${i}`);
  const last = b.ops[b.ops.length - 1], lastOff = b.end - last.len;
  const selfLoop = inPageBranch(last, lastOff) && lastOff + last.imm === b.off && !insns.some((i) => i.csr);
  const dirty = new Set<number>();
  let body = blockBody(b, insns, locals, dirty);
  if (selfLoop) {
    // Around the loop, the slots dirty at its end are dirty at its start as well.
    body = blockBody(b, insns, locals, dirty);
    // Those hold the guest's values on the first iteration too.
    for (const i of dirty) loaded.add(i);
    const stopCheck = checksStop(b) ? 'h.stop || ' : '';
    body = `for (;;) {\n${body}\nn += ${b.ops.length};\nif (!taken || ${stopCheck}n >= budget) break;\n}`;
  }
  const load = [...loaded].map((i) => `r${i} = x[${i}];`).join(' ');
  const count = selfLoop ? '' : `n += ${b.ops.length};`;
  return `case ${b.off}: {\n${load}\n${body}\n${count} ${store(dirty)}\n${transfer(b, last)}\nbreak; }`;
}

const FP_STATE = ` const frm = h.frm, fsOff = ${FS_OFF}; let fsDirty = (h.mstatus & 0x6000) === 0x6000 && (!h.virt || (h.vsstatus & 0x6000) === 0x6000);`;

export function regionSource(blocks: Block[], name: string): string {
  const temps = new Set<string>();
  const body = blocks.map((b) => blockSource(b, temps)).join('\n');
  // The hart's arrays are bound once, when the unit is created for its hart, not on every call.
  return `"use strict";
${hartViews(body)}
return function ${name}(h, budget) {
const pcHi = h.pcHi, base = h.pcLo & -4096;
// n counts instructions retired in this call; synced of them are already in h.instret (added before CSR reads).
let off = h.pcLo & 4095, n = 0, synced = 0, k = 0, j = 0, nlo = 0, nhi = pcHi, taken = false;
const r0 = 0, r1 = 0;${/\bfsOff\b|\bfrm\b|\bfsDirty\b/.test(body) ? FP_STATE : ''}${temps.size ? ` let ${[...temps].join(', ')};` : ''}
try {
for (;;) {
switch (off) {
${body}
}
// Every exit runs this (an offset outside the unit, a slice's end, a stop), so V8 has type feedback for it
// whichever block the unit left from: an exit path per block deoptimised the unit the first time each was taken.
const t = (base + off) | 0;
if (off >= 0) { nlo = t; nhi = pcHi; }
h.pcLo = nlo; h.pcHi = nhi; h.instret += n - synced; return n;
}
} catch (e) {
h.instret += n + j - synced;
const t = (base + k) | 0; h.pcLo = t; h.pcHi = (t >>> 0) < (base >>> 0) ? (pcHi + 1) | 0 : pcHi;
if (e === BREAK) return n + j;
throw e;
}
};`;
}

const helperValues = helperNames.map((k) => (helpers as Record<string, unknown>)[k]);

/** Compile a unit's source for the hart it will run on. */
export function compileRegion(src: string, h: Hart): RegionFn {
  return new Function(...helperNames, 'BREAK', 'h', src)(...helperValues, BREAK, h) as RegionFn;
}
