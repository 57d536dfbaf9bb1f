// One decoder for both engines: instruction bits to a decoded op (fields plus its definition).
import { InsnDef } from './isa/types.js';
import { expandRVC } from './rvc.js';
import { X0_SINK } from './hart.js';
import type { Hart } from './hart.js';

export type ExecFn = (h: Hart, d: Decoded) => void;

export const ENDS = 1, SYSTEM = 2;

export interface Decoded {
  def: InsnDef;
  /** The definition's interpreter function. */
  fn: ExecFn;
  /** ENDS | SYSTEM bits, so the dispatch loop tests one field. */
  flags: number;
  /** x-register slots (2n); a write to x0 goes to the sink slot. */
  xd: number; x1: number; x2: number;
  rd: number; rs1: number; rs2: number; rs3: number;
  imm: number; rm: number;
  len: number;
  /** The instruction bits as fetched (16 bits for compressed). */
  raw: number;
}

export const ILLEGAL: InsnDef = {
  name: 'illegal', format: 'none', mask: 0, match: 0, ends: true,
  exec: 'throw h.raise(2, BigInt($raw >>> 0));',
};

function immediate(def: InsnDef, w: number): number {
  switch (def.format) {
    case 'I': return w >> 20;
    case 'S': return ((w >> 25) << 5) | ((w >> 7) & 31);
    case 'B': return ((w >> 31) << 12) | (((w >> 7) & 1) << 11) | (((w >> 25) & 63) << 5) | (((w >> 8) & 15) << 1);
    case 'U': return w & 0xfffff000;
    case 'J': return ((w >> 31) << 20) | (((w >> 12) & 255) << 12) | (((w >> 20) & 1) << 11) | (((w >> 21) & 1023) << 1);
    default: return 0;
  }
}

export class Decoder {
  private byOpcode: InsnDef[][] = Array.from({ length: 128 }, () => []);

  private fns = new Map<InsnDef, ExecFn>();

  constructor(defs: InsnDef[], private bind: (def: InsnDef) => ExecFn) {
    for (const d of defs) {
      if ((d.mask & 0x7f) !== 0x7f) throw new Error(`${d.name}: mask must fix the opcode`);
      this.byOpcode[d.match & 0x7f].push(d);
    }
  }

  /** Decode a 32-bit word (or a 16-bit parcel when its low bits are not 11). */
  decode(raw: number): Decoded {
    const len = (raw & 3) === 3 ? 4 : 2;
    const w = len === 4 ? raw | 0 : expandRVC(raw & 0xffff);
    let def = ILLEGAL;
    if (w !== 0) {
      for (const d of this.byOpcode[w & 0x7f]) {
        if ((w & d.mask) === d.match) { def = d; break; }
      }
    }
    const rd = (w >> 7) & 31, rs1 = (w >> 15) & 31, rs2 = (w >> 20) & 31;
    let fn = this.fns.get(def);
    if (!fn) { fn = this.bind(def); this.fns.set(def, fn); }
    return {
      def, fn, flags: (def.ends ? ENDS : 0) | (def.system ? SYSTEM : 0), xd: rd === 0 ? X0_SINK : rd * 2, x1: rs1 * 2, x2: rs2 * 2,
      rd, rs1, rs2, rs3: (w >>> 27) & 31, imm: immediate(def, w), rm: (w >> 12) & 7,
      len, raw: len === 4 ? raw | 0 : raw & 0xffff,
    };
  }
}
