// F and D extensions. Doubles live in f[] (bits in fi[]); singles are NaN-boxed in the low word of fi[].
import { def, InsnDef, OP } from './types.js';
import { EA, setW, load, store } from './snippets.js';

/** With V=1 (hypervisor extension) vsstatus.FS becomes Dirty as well. */
export const DIRTY = 'h.mstatus |= 0x6000; if (h.virt) h.vsstatus |= 0x6000;';
const RM = 'rmOf(h, $rm, $raw)';
/** Single-precision operand: the low word if properly NaN-boxed, else the canonical NaN. */
const S1 = 'getS(fi, $rs1)', S2 = 'getS(fi, $rs2)', S3 = 'getS(fi, $rs3)';
const setS = (v: string) => `setS(fi, $rd, ${v}); ${DIRTY}`;
const setD = (v: string) => `f[$rd] = ${v}; ${DIRTY}`;
const setL = (call: string) => `${call}; x[$xd] = intOut[0]; x[$xd + 1] = intOut[1];`;
const setBool = (v: string) => `x[$xd] = ${v}; x[$xd + 1] = 0;`;
/** Instructions that write only x registers dirty the FP state only if they changed fflags. */
const flagsOnly = (code: string) => `const ff = h.fflags; ${code} if (h.fflags !== ff) ${DIRTY}`;

const F7 = 0xfe00007f, RS2 = 0x01f00000, F3 = 0x7000;
/** OP-FP with funct5 and fmt (0 = S, 1 = D); rounding mode free unless f3 is given; rs2 fixed if given. */
const opfp = (name: string, f5: number, fmt: number, exec: string, o: { f3?: number; rs2?: number } = {}) =>
  def(name, 'R', F7 | (o.f3 !== undefined ? F3 : 0) | (o.rs2 !== undefined ? RS2 : 0),
    OP.OP_FP | ((o.f3 ?? 0) << 12) | ((o.rs2 ?? 0) << 20) | (((f5 << 2) | fmt) << 25), exec, { fp: true });
const fma = (name: string, opcode: number, fmt: number, exec: string) =>
  def(name, 'R4', 0x0600007f, opcode | (fmt << 25), exec, { fp: true });
const fload = (name: string, f3: number, exec: string) =>
  def(name, 'I', 0x707f, OP.LOAD_FP | (f3 << 12), `${EA} ${exec} ${DIRTY}`, { fp: true });
const fstore = (name: string, f3: number, exec: string) =>
  def(name, 'S', 0x707f, OP.STORE_FP | (f3 << 12), `${EA} ${exec}`, { fp: true });

/** Instructions that exist in both precisions: name suffix, fmt, operand reader, writer, function suffix. */
function arith(p: 's' | 'd'): InsnDef[] {
  const fmt = p === 's' ? 0 : 1, T = p.toUpperCase();
  const a = p === 's' ? S1 : 'f[$rs1]', b = p === 's' ? S2 : 'f[$rs2]', c = p === 's' ? S3 : 'f[$rs3]';
  const set = p === 's' ? setS : setD;
  const neg = `neg${T}`;
  return [
    fma(`fmadd.${p}`, OP.MADD, fmt, set(`fma${T}(h, ${a}, ${b}, ${c}, ${RM})`)),
    fma(`fmsub.${p}`, OP.MSUB, fmt, set(`fma${T}(h, ${a}, ${b}, ${neg}(${c}), ${RM})`)),
    fma(`fnmsub.${p}`, OP.NMSUB, fmt, set(`fma${T}(h, ${neg}(${a}), ${b}, ${c}, ${RM})`)),
    fma(`fnmadd.${p}`, OP.NMADD, fmt, set(`fma${T}(h, ${neg}(${a}), ${b}, ${neg}(${c}), ${RM})`)),
    opfp(`fadd.${p}`, 0x00, fmt, set(`add${T}(h, ${a}, ${b}, ${RM})`)),
    opfp(`fsub.${p}`, 0x01, fmt, set(`sub${T}(h, ${a}, ${b}, ${RM})`)),
    opfp(`fmul.${p}`, 0x02, fmt, set(`mul${T}(h, ${a}, ${b}, ${RM})`)),
    opfp(`fdiv.${p}`, 0x03, fmt, set(`div${T}(h, ${a}, ${b}, ${RM})`)),
    opfp(`fsqrt.${p}`, 0x0b, fmt, set(`sqrt${T}(h, ${a}, ${RM})`), { rs2: 0 }),
    opfp(`fmin.${p}`, 0x05, fmt, set(`min${T}(h, ${a}, ${b})`), { f3: 0 }),
    opfp(`fmax.${p}`, 0x05, fmt, set(`max${T}(h, ${a}, ${b})`), { f3: 1 }),
    opfp(`feq.${p}`, 0x14, fmt, flagsOnly(setBool(`eq${T}(h, ${a}, ${b})`)), { f3: 2 }),
    opfp(`flt.${p}`, 0x14, fmt, flagsOnly(setBool(`lt${T}(h, ${a}, ${b})`)), { f3: 1 }),
    opfp(`fle.${p}`, 0x14, fmt, flagsOnly(setBool(`le${T}(h, ${a}, ${b})`)), { f3: 0 }),
    opfp(`fclass.${p}`, 0x1c, fmt, setBool(`class${T}(${a})`), { f3: 1, rs2: 0 }),
    opfp(`fcvt.w.${p}`, 0x18, fmt, flagsOnly(setW(`cvtW${T}(h, ${a}, ${RM})`)), { rs2: 0 }),
    opfp(`fcvt.wu.${p}`, 0x18, fmt, flagsOnly(setW(`cvtWU${T}(h, ${a}, ${RM})`)), { rs2: 1 }),
    opfp(`fcvt.l.${p}`, 0x18, fmt, flagsOnly(setL(`cvtL${T}(h, ${a}, ${RM})`)), { rs2: 2 }),
    opfp(`fcvt.lu.${p}`, 0x18, fmt, flagsOnly(setL(`cvtLU${T}(h, ${a}, ${RM})`)), { rs2: 3 }),
    opfp(`fcvt.${p}.w`, 0x1a, fmt, set(`cvt${T}W(h, x[$x1], ${RM})`), { rs2: 0 }),
    opfp(`fcvt.${p}.wu`, 0x1a, fmt, set(`cvt${T}WU(h, x[$x1], ${RM})`), { rs2: 1 }),
    opfp(`fcvt.${p}.l`, 0x1a, fmt, set(`cvt${T}L(h, x[$x1], x[$x1 + 1], ${RM})`), { rs2: 2 }),
    opfp(`fcvt.${p}.lu`, 0x1a, fmt, set(`cvt${T}LU(h, x[$x1], x[$x1 + 1], ${RM})`), { rs2: 3 }),
  ];
}

// Sign injection works on bits: for singles on the unboxed word, for doubles on the high word.
const sgnjS = (name: string, f3: number, sign: string) =>
  opfp(name, 0x04, 0, `const a = ${S1}, b = ${S2}; ${setS(`(a & 0x7fffffff) | (${sign} & 0x80000000)`)}`, { f3 });
const sgnjD = (name: string, f3: number, sign: string) =>
  opfp(name, 0x04, 1, `const lo = fi[$rs1 * 2], a = fi[$rs1 * 2 + 1], b = fi[$rs2 * 2 + 1]; fi[$rd * 2] = lo; fi[$rd * 2 + 1] = (a & 0x7fffffff) | (${sign} & 0x80000000); ${DIRTY}`, { f3 });

export const fp: InsnDef[] = [
  fload('flw', 2, load(4, (v) => `fi[$rd * 2] = ${v}; fi[$rd * 2 + 1] = -1;`)),
  fload('fld', 3, load(8, (v, vh) => `fi[$rd * 2 + 1] = ${vh}; fi[$rd * 2] = ${v};`)),
  fstore('fsw', 2, store(4, 'fi[$rs2 * 2]')),
  fstore('fsd', 3, store(8, 'fi[$rs2 * 2]', 'fi[$rs2 * 2 + 1]')),
  ...arith('s'),
  ...arith('d'),
  sgnjS('fsgnj.s', 0, 'b'), sgnjS('fsgnjn.s', 1, '~b'), sgnjS('fsgnjx.s', 2, '(a ^ b)'),
  sgnjD('fsgnj.d', 0, 'b'), sgnjD('fsgnjn.d', 1, '~b'), sgnjD('fsgnjx.d', 2, '(a ^ b)'),
  opfp('fcvt.s.d', 0x08, 0, setS(`cvtSD(h, f[$rs1], ${RM})`), { rs2: 1 }),
  // The rounding mode is unused (the conversion is exact) but must still be valid.
  opfp('fcvt.d.s', 0x08, 1, `${RM}; ${setD(`cvtDS(h, ${S1})`)}`, { rs2: 0 }),
  opfp('fmv.x.w', 0x1c, 0, setW('fi[$rs1 * 2]'), { f3: 0, rs2: 0 }),
  opfp('fmv.w.x', 0x1e, 0, `fi[$rd * 2] = x[$x1]; fi[$rd * 2 + 1] = -1; ${DIRTY}`, { f3: 0, rs2: 0 }),
  opfp('fmv.x.d', 0x1c, 1, 'const lo = fi[$rs1 * 2], hi = fi[$rs1 * 2 + 1]; x[$xd] = lo; x[$xd + 1] = hi;', { f3: 0, rs2: 0 }),
  opfp('fmv.d.x', 0x1e, 1, `fi[$rd * 2] = x[$x1]; fi[$rd * 2 + 1] = x[$x1 + 1]; ${DIRTY}`, { f3: 0, rs2: 0 }),
];
