// Compressed (C extension) instructions expand to their 32-bit equivalents; 0 means illegal or reserved.
const I = (op: number, rd: number, f3: number, rs1: number, imm: number) =>
  ((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
const S = (op: number, f3: number, rs1: number, rs2: number, imm: number) =>
  (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 31) << 7) | op;
const R = (op: number, rd: number, f3: number, rs1: number, rs2: number, f7: number) =>
  (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
const B = (f3: number, rs1: number, rs2: number, imm: number) =>
  (((imm >> 12) & 1) << 31) | (((imm >> 5) & 63) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
  (((imm >> 1) & 15) << 8) | (((imm >> 11) & 1) << 7) | 0x63;
const J = (rd: number, imm: number) =>
  (((imm >> 20) & 1) << 31) | (((imm >> 1) & 1023) << 21) | (((imm >> 11) & 1) << 20) | (((imm >> 12) & 255) << 12) |
  (rd << 7) | 0x6f;

const bit = (c: number, b: number) => (c >> b) & 1;
const bits = (c: number, hi: number, lo: number) => (c >> lo) & ((1 << (hi - lo + 1)) - 1);
const sext = (v: number, width: number) => (v << (32 - width)) >> (32 - width);

export function expandRVC(c: number): number {
  const f3 = bits(c, 15, 13);
  const rdp = 8 + bits(c, 4, 2), rs1p = 8 + bits(c, 9, 7);
  const rd = bits(c, 11, 7), rs2 = bits(c, 6, 2);
  const imm6 = sext((bit(c, 12) << 5) | bits(c, 6, 2), 6);
  switch (c & 3) {
    case 0: {
      const uimmD = (bits(c, 12, 10) << 3) | (bits(c, 6, 5) << 6);
      const uimmW = (bits(c, 12, 10) << 3) | (bit(c, 6) << 2) | (bit(c, 5) << 6);
      switch (f3) {
        case 0: {
          const nz = (bits(c, 12, 11) << 4) | (bits(c, 10, 7) << 6) | (bit(c, 6) << 2) | (bit(c, 5) << 3);
          return nz === 0 ? 0 : I(0x13, rdp, 0, 2, nz);
        }
        case 1: return I(0x07, rdp, 3, rs1p, uimmD);
        case 2: return I(0x03, rdp, 2, rs1p, uimmW);
        case 3: return I(0x03, rdp, 3, rs1p, uimmD);
        case 5: return S(0x27, 3, rs1p, rdp, uimmD);
        case 6: return S(0x23, 2, rs1p, rdp, uimmW);
        case 7: return S(0x23, 3, rs1p, rdp, uimmD);
        default: return 0;
      }
    }
    case 1:
      switch (f3) {
        case 0: return I(0x13, rd, 0, rd, imm6);
        case 1: return rd === 0 ? 0 : I(0x1b, rd, 0, rd, imm6);
        case 2: return I(0x13, rd, 0, 0, imm6);
        case 3: {
          if (rd === 2) {
            const nz = sext((bit(c, 12) << 9) | (bit(c, 6) << 4) | (bit(c, 5) << 6) | (bits(c, 4, 3) << 7) | (bit(c, 2) << 5), 10);
            return nz === 0 ? 0 : I(0x13, 2, 0, 2, nz);
          }
          return imm6 === 0 ? 0 : (imm6 << 12) | (rd << 7) | 0x37;
        }
        case 4: {
          const shamt = (bit(c, 12) << 5) | bits(c, 6, 2);
          switch (bits(c, 11, 10)) {
            case 0: return I(0x13, rs1p, 5, rs1p, shamt);
            case 1: return I(0x13, rs1p, 5, rs1p, shamt | 0x400);
            case 2: return I(0x13, rs1p, 7, rs1p, imm6);
            default: {
              const rs2p = rdp, fn = bits(c, 6, 5);
              if (!bit(c, 12)) return [R(0x33, rs1p, 0, rs1p, rs2p, 0x20), R(0x33, rs1p, 4, rs1p, rs2p, 0),
                R(0x33, rs1p, 6, rs1p, rs2p, 0), R(0x33, rs1p, 7, rs1p, rs2p, 0)][fn];
              return fn === 0 ? R(0x3b, rs1p, 0, rs1p, rs2p, 0x20) : fn === 1 ? R(0x3b, rs1p, 0, rs1p, rs2p, 0) : 0;
            }
          }
        }
        case 5: {
          const off = sext((bit(c, 12) << 11) | (bit(c, 11) << 4) | (bits(c, 10, 9) << 8) | (bit(c, 8) << 10) |
            (bit(c, 7) << 6) | (bit(c, 6) << 7) | (bits(c, 5, 3) << 1) | (bit(c, 2) << 5), 12);
          return J(0, off);
        }
        default: {
          const off = sext((bit(c, 12) << 8) | (bits(c, 11, 10) << 3) | (bits(c, 6, 5) << 6) | (bits(c, 4, 3) << 1) |
            (bit(c, 2) << 5), 9);
          return B(f3 === 6 ? 0 : 1, rs1p, 0, off);
        }
      }
    case 2:
      switch (f3) {
        case 0: return I(0x13, rd, 1, rd, (bit(c, 12) << 5) | bits(c, 6, 2));
        case 1: return I(0x07, rd, 3, 2, (bit(c, 12) << 5) | (bits(c, 6, 5) << 3) | (bits(c, 4, 2) << 6));
        case 2: return rd === 0 ? 0 : I(0x03, rd, 2, 2, (bit(c, 12) << 5) | (bits(c, 6, 4) << 2) | (bits(c, 3, 2) << 6));
        case 3: return rd === 0 ? 0 : I(0x03, rd, 3, 2, (bit(c, 12) << 5) | (bits(c, 6, 5) << 3) | (bits(c, 4, 2) << 6));
        case 4:
          if (!bit(c, 12)) {
            if (rs2 === 0) return rd === 0 ? 0 : I(0x67, 0, 0, rd, 0);
            return R(0x33, rd, 0, 0, rs2, 0);
          }
          if (rs2 === 0) return rd === 0 ? 0x00100073 : I(0x67, 1, 0, rd, 0);
          return R(0x33, rd, 0, rd, rs2, 0);
        case 5: return S(0x27, 3, 2, rs2, (bits(c, 12, 10) << 3) | (bits(c, 9, 7) << 6));
        case 6: return S(0x23, 2, 2, rs2, (bits(c, 12, 9) << 2) | (bits(c, 8, 7) << 6));
        default: return S(0x23, 3, 2, rs2, (bits(c, 12, 10) << 3) | (bits(c, 9, 7) << 6));
      }
  }
  return 0;
}
