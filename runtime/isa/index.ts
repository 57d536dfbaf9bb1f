// The instruction set: every definition, and the compiler from templates to functions.
import * as helpers from './helpers.js';
import { InsnDef } from './types.js';
import { rv64i } from './rv64i.js';
import { system } from './system.js';
import { fp } from './fp.js';
import { hypervisor } from './hypervisor.js';
import type { ExecFn } from '../decoder.js';

export const allDefs: InsnDef[] = [...rv64i, ...system, ...fp, ...hypervisor];

/** Names in scope for template code: the helpers module's exports. */
export const helperNames = Object.keys(helpers);
const helperValues = helperNames.map((k) => (helpers as Record<string, unknown>)[k]);

// With V=1 (hypervisor extension) vsstatus.FS must be on as well.
export const FS_OFF = '(h.mstatus & 0x6000) === 0 || (h.virt && (h.vsstatus & 0x6000) === 0)';
const FS_OFF_CHECK = `if (${FS_OFF}) { $beforeSlow throw h.raise(2, BigInt($raw >>> 0)); }`;

/** Template body with the FS check for FP instructions. */
export function templateOf(def: InsnDef): string {
  return (def.fp ? FS_OFF_CHECK + '\n' : '') + def.exec;
}


/**
 * Hart state a template may name without `h.`: bound once at the top of the function that runs it (an interpreter
 * op, a JIT unit), and only if the code uses it. None of these objects is ever replaced.
 */
const HART_VIEWS: Record<string, string> = {
  x: 'h.x', f: 'h.f', fi: 'h.fi', ram8: 'h.ram8', ram16: 'h.ram16', ram32: 'h.ram32',
  rTagLo: 'h.tlbR.tagLo', rTagHi: 'h.tlbR.tagHi', rOff: 'h.tlbR.off',
  wTagLo: 'h.tlbW.tagLo', wTagHi: 'h.tlbW.tagHi', wOff: 'h.tlbW.off',
};

const VIEW_USE = Object.keys(HART_VIEWS).map((k) => [k, new RegExp(`(?<![.\\w$])${k}\\b`)] as const);

/** `const` declarations binding the hart views that `code` uses. */
export function hartViews(code: string): string {
  const used = VIEW_USE.filter(([, use]) => use.test(code)).map(([k]) => k);
  return used.length ? `const ${used.map((k) => `${k} = ${HART_VIEWS[k]}`).join(', ')};` : '';
}

/** Interpreter form: fields are read from the decoded op. */
export function compileForInterpreter(def: InsnDef): ExecFn {
  const body = templateOf(def)
    .replace(/\$(xd|x1|x2|rd|rs1|rs2|rs3|imm|rm|len|raw)\b/g, 'd.$1')
    .replace(/\$pcLo\b/g, 'h.pcLo').replace(/\$pcHi\b/g, 'h.pcHi')
    .replace(/\$(beforeSlow|afterStore)\b/g, '');
  const src = `"use strict"; return function op_${def.name.replace(/\W/g, '_')}(h, d) { ${hartViews(body)}\n${body}\n};`;
  try {
    return new Function(...helperNames, src)(...helperValues) as ExecFn;
  } catch (e) {
    throw new Error(`instruction ${def.name}: template does not compile: ${(e as Error).message}\n${src}`);
  }
}
