// The hypervisor extension where QEMU 7.2 (our oracle) departs from the ratified spec, so the h_* workloads
// cannot check it (docs/qemu-deviations.md lists each case), and what only Salus writes (mtinst/htinst values).
// Hand-made programs run on a bare hart with the interpreter and, where it matters, the JIT.
import { describe, expect, it } from 'vitest';
import { Bus } from '../runtime/bus.js';
import { Hart } from '../runtime/hart.js';
import { Interpreter } from '../runtime/interp.js';
import { JitEngine, DEFAULT_JIT } from '../jit/engine.js';
import { csrRead, csrWrite } from '../runtime/csr.js';
import { pendingInterrupt, takeTrap } from '../runtime/privilege.js';
import { updatePmp } from '../runtime/mmu.js';

const RAM = 0x80000000;
const M_TRAP = RAM + 0x100, S_TRAP = RAM + 0x200, VS_TRAP = RAM + 0x300, DONE = RAM + 0x400, CODE = RAM + 0x1000;
const PT = RAM + 0x100000; // page tables are allocated from here
const DATA = RAM + 0x200000;

// CSR numbers
const MSTATUS = 0x300, MEDELEG = 0x302, MIDELEG = 0x303, MENVCFG = 0x30a;
const SSTATUS = 0x100, SCOUNTEREN = 0x106, SATP = 0x180, STIMECMP = 0x14d;
const HSTATUS = 0x600, HEDELEG = 0x602, HIDELEG = 0x603, HIE = 0x604, HTIMEDELTA = 0x605;
const HENVCFG = 0x60a, HIP = 0x644, HVIP = 0x645, HGATP = 0x680, VSSTATUS = 0x200, VSATP = 0x280, VSTIMECMP = 0x24d;

// Instruction encodings (x registers by number).
const I = (op: number, f3: number, rd: number, rs1: number, imm: number) =>
  (((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) >>> 0;
const S = (op: number, f3: number, rs1: number, rs2: number, imm: number) =>
  ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 31) << 7) | op) >>> 0;
const ins = {
  ld: (rd: number, rs1: number, imm = 0) => I(0x03, 3, rd, rs1, imm),
  lw: (rd: number, rs1: number, imm = 0) => I(0x03, 2, rd, rs1, imm),
  sd: (rs2: number, rs1: number, imm = 0) => S(0x23, 3, rs1, rs2, imm),
  jalr: (rd: number, rs1: number) => I(0x67, 0, rd, rs1, 0),
  csrr: (rd: number, csr: number) => I(0x73, 2, rd, 0, csr),
  csrw: (csr: number, rs1: number) => I(0x73, 1, 0, rs1, csr),
  amoaddw: (rd: number, rs1: number, rs2: number) => ((rs2 << 20) | (rs1 << 15) | (2 << 12) | (rd << 7) | 0x2f) >>> 0,
  hlvd: (rd: number, rs1: number) => (0x6c004073 | (rs1 << 15) | (rd << 7)) >>> 0,
  hlvxwu: (rd: number, rs1: number) => (0x68304073 | (rs1 << 15) | (rd << 7)) >>> 0,
  hsvd: (rs2: number, rs1: number) => (0x6e004073 | (rs2 << 20) | (rs1 << 15)) >>> 0,
  faddd: (rd: number, rs1: number, rs2: number) => (0x02000053 | (rs2 << 20) | (rs1 << 15) | (rd << 7)) >>> 0,
  ecall: 0x00000073, mret: 0x30200073, sret: 0x10200073, wfi: 0x10500073, sfence: 0x12000073,
  hfenceVvma: 0x22000073, hfenceGvma: 0x62000073, illegal: 0xffffffff, loop: 0x0000006f,
};

const PTE_V = 1, PTE_R = 2, PTE_W = 4, PTE_X = 8, PTE_U = 16, PTE_A = 64, PTE_D = 128;
const RWX = PTE_R | PTE_W | PTE_X, AD = PTE_A | PTE_D;

type Level = 'M' | 'HS' | 'VS' | 'done' | 'running';

class Rig {
  readonly bus = new Bus(RAM, 16 << 20);
  readonly h = new Hart(this.bus);
  readonly engine: Interpreter | JitEngine;
  time = 1000n;
  private nextTable = PT;

  constructor(engine: 'interp' | 'jit' = 'interp', hext = true) {
    const h = this.h;
    h.hext = hext;
    h.readTime = () => this.time;
    this.engine = engine === 'jit' ? new JitEngine(h, { ...DEFAULT_JIT, threshold: 1 }) : new Interpreter(h);
    for (const a of [M_TRAP, S_TRAP, VS_TRAP, DONE]) this.word(a, ins.loop);
    h.mtvec = BigInt(M_TRAP); h.stvec = BigInt(S_TRAP); h.hyp.vstvec = BigInt(VS_TRAP);
    h.pmpaddr[0] = (1n << 54n) - 1n; h.pmpcfg[0] = 0x1f;
    updatePmp(h);
    h.mstatus |= 1 << 13; h.vsstatus |= 1 << 13; // FS = Initial
  }

  word(addr: number, w: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, w >>> 0, true);
    this.bus.writeBytes(addr, b);
  }
  half(addr: number, w: number): void {
    this.bus.writeBytes(addr, Uint8Array.of(w & 0xff, (w >>> 8) & 0xff));
  }
  dword(addr: number, v: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, true);
    this.bus.writeBytes(addr, b);
  }
  read64(addr: number): bigint {
    return new DataView(this.bus.readBytes(addr, 8).buffer).getBigUint64(0, true);
  }
  csr(n: number): bigint { return this.asM(() => csrRead(this.h, n, 0)); }
  setCsr(n: number, v: bigint | number): void { this.asM(() => csrWrite(this.h, n, BigInt(v), 0)); }
  private asM<T>(f: () => T): T {
    const { priv, virt } = this.h;
    this.h.priv = 3; this.h.virt = false;
    try { return f(); } finally { this.h.priv = priv; this.h.virt = virt; }
  }

  /** A zeroed page-table page (16 KiB aligned for G-stage roots). */
  table(align = 4096): number {
    this.nextTable = Math.ceil(this.nextTable / align) * align;
    const t = this.nextTable;
    this.bus.writeBytes(t, new Uint8Array(align));
    this.nextTable += align;
    return t;
  }

  /**
   * Map addr -> pa with a leaf at `level` in a Sv39-shaped table rooted at root (x4: an 11-bit root index, as the
   * G-stage). Intermediate tables are created; a superpage leaf in the way is split into next-level leaves. Tables
   * are at the same guest physical and physical address (RAM is identity-mapped).
   */
  map(root: number, addr: bigint, pa: bigint, flags: number, level = 0, x4 = false): void {
    let t = root;
    for (let l = 2; l > level; l--) {
      const idx = Number((addr >> BigInt(12 + 9 * l)) & (l === 2 && x4 ? 0x7ffn : 0x1ffn));
      let e = this.read64(t + idx * 8);
      if ((e & 1n) && (e & 0xen)) {
        const n = this.table(), base = (e >> 10n) << 12n, step = 1n << BigInt(12 + 9 * (l - 1));
        for (let k = 0; k < 512; k++) this.dword(n + k * 8, ((base + BigInt(k) * step) >> 12n) << 10n | (e & 0x3ffn));
        e = (BigInt(n) >> 12n) << 10n | 1n;
        this.dword(t + idx * 8, e);
      }
      if (e & 1n) { t = Number((e >> 10n) << 12n); continue; }
      const n = this.table();
      this.dword(t + idx * 8, (BigInt(n) >> 12n) << 10n | 1n);
      t = n;
    }
    const idx = Number((addr >> BigInt(12 + 9 * level)) & (level === 2 && x4 ? 0x7ffn : 0x1ffn));
    this.dword(t + idx * 8, (pa >> 12n) << 10n | BigInt(flags));
    this.h.flushTlb();
  }
  pteAddr(root: number, addr: bigint, x4 = false): number {
    let t = root;
    for (let l = 2; l > 0; l--) {
      const idx = Number((addr >> BigInt(12 + 9 * l)) & (l === 2 && x4 ? 0x7ffn : 0x1ffn));
      t = Number((this.read64(t + idx * 8) >> 10n) << 12n);
    }
    return t + Number((addr >> 12n) & 0x1ffn) * 8;
  }

  /** Two-stage set-up: G-stage identity for RAM (U RWX), VS-stage identity for RAM (S RWX); returns the roots. */
  twoStage(): { groot: number; vroot: number } {
    const groot = this.table(16384), vroot = this.table();
    this.map(groot, BigInt(RAM), BigInt(RAM), PTE_V | PTE_U | RWX | AD, 2, true);
    this.map(vroot, BigInt(RAM), BigInt(RAM), PTE_V | RWX | AD, 2);
    this.h.hyp.hgatp = (8n << 60n) | BigInt(groot >>> 12);
    this.h.hyp.vsatp = (8n << 60n) | BigInt(vroot >>> 12);
    this.h.flushTlb();
    return { groot, vroot };
  }

  /** Run code at CODE in a mode (regs: x register values) until it reaches a trap vector or DONE. */
  run(code: number[], mode: { priv: number; virt: boolean }, regs: Record<number, bigint | number> = {}, budget = 2000): Level {
    const h = this.h;
    let at = CODE;
    for (const w of code) {
      if (w <= 0xffff && (w & 3) !== 3) { this.half(at, w); at += 2; } else { this.word(at, w); at += 4; }
    }
    this.word(at, ins.jalr(0, 1)); // return to ra = DONE
    h.setX(1, BigInt(DONE));
    for (const [r, v] of Object.entries(regs)) h.setX(Number(r), BigInt(v));
    h.pc = BigInt(CODE);
    h.priv = mode.priv; h.virt = mode.virt;
    h.flushTlb();
    for (let n = 0; n < budget;) {
      const irq = pendingInterrupt(h);
      if (irq >= 0) { h.waiting = false; takeTrap(h, irq, 0n, true); }
      const where = this.where();
      if (where !== 'running') return where;
      h.stop = false;
      n += this.engine.run(1);
    }
    return this.where();
  }
  where(): Level {
    const pc = Number(this.h.pc);
    return pc === M_TRAP ? 'M' : pc === S_TRAP ? 'HS' : pc === VS_TRAP ? 'VS' : pc === DONE ? 'done' : 'running';
  }
}

const VS = { priv: 1, virt: true }, VU = { priv: 0, virt: true }, HS = { priv: 1, virt: false };
const M = { priv: 3, virt: false };

describe('hypervisor extension (spec behaviour the QEMU oracle lacks)', () => {
  it('is switchable: without H, misa.H is clear and H instructions and CSRs are illegal', () => {
    const r = new Rig('interp', false);
    expect((r.csr(0x301) >> 7n) & 1n).toBe(0n);
    for (const w of [ins.csrr(5, HSTATUS), ins.hlvd(5, 6), ins.hfenceGvma, ins.csrr(5, 0x34b)]) {
      expect(r.run([w], M)).toBe('M');
      expect(r.h.mcause).toBe(2n);
      expect(r.h.mtval).toBe(BigInt(w));
    }
    expect(() => r.csr(MIDELEG)).not.toThrow();
    expect(r.csr(MIDELEG)).toBe(0n);
    const h = new Rig('interp', true);
    expect((h.csr(0x301) >> 7n) & 1n).toBe(1n);
  });

  it('mideleg reads its read-only-one VS bits from reset', () => {
    expect(new Rig().csr(MIDELEG)).toBe(0x1444n);
  });

  it('GVA is 0 for traps whose tval is not a guest virtual address', () => {
    const r = new Rig();
    expect(r.run([ins.ecall], VS)).toBe('M');
    expect(r.h.mcause).toBe(10n);
    expect(r.h.hyp.mpv).toBe(true);
    expect(r.h.hyp.mgva).toBe(false);
    expect(r.run([ins.csrr(5, HSTATUS)], VU)).toBe('M');
    expect(r.h.mcause).toBe(22n);
    expect(r.h.hyp.mgva).toBe(false);
    r.setCsr(MEDELEG, (1 << 10) | (1 << 22));
    expect(r.run([ins.ecall], VS)).toBe('HS');
    expect(Number(r.csr(HSTATUS)) & 0x1c0).toBe(0x180); // SPV=1 SPVP=1 GVA=0
    // an address trap from V=1 sets it
    r.setCsr(MEDELEG, 1 << 4);
    expect(r.run([0x1002a2af /* lr.w t0,(t0) */], VS, { 5: DATA + 1 })).toBe('HS');
    expect(r.h.scause).toBe(4n);
    expect(Number(r.csr(HSTATUS)) & 0x40).toBe(0x40);
  });

  it('hgatp is illegal in HS-mode with mstatus.TVM=1', () => {
    const r = new Rig();
    r.setCsr(MSTATUS, r.csr(MSTATUS) | (1n << 20n));
    expect(r.run([ins.csrr(5, HGATP)], HS)).toBe('M');
    expect(r.h.mcause).toBe(2n);
    expect(r.run([ins.csrr(5, VSATP)], HS)).toBe('done');
  });

  it('satp in VS-mode: hstatus.VTVM traps as a virtual instruction, mstatus.TVM has no effect', () => {
    const r = new Rig();
    r.setCsr(HSTATUS, 1 << 20);
    expect(r.run([ins.csrr(5, SATP)], VS)).toBe('M');
    expect(r.h.mcause).toBe(22n);
    expect(r.run([ins.sfence], VS)).toBe('M');
    expect(r.h.mcause).toBe(22n);
    r.setCsr(HSTATUS, 0);
    r.setCsr(MSTATUS, r.csr(MSTATUS) | (1n << 20n));
    expect(r.run([ins.csrr(5, SATP), ins.sfence], VS)).toBe('done');
  });

  it('VU-mode: S CSRs, SRET, SFENCE.VMA and HFENCE are virtual instructions; WFI with TW=1 is illegal', () => {
    const r = new Rig();
    r.setCsr(MENVCFG, 1n << 63n);
    r.setCsr(0x306, 2); // mcounteren.TM: HS-mode could access stimecmp
    for (const w of [ins.csrr(5, SSTATUS), ins.csrr(5, SATP), ins.csrr(5, SCOUNTEREN), ins.csrr(5, STIMECMP),
      ins.sret, ins.sfence, ins.hfenceVvma, ins.hfenceGvma, ins.wfi]) {
      expect(r.run([w], VU)).toBe('M');
      expect([r.h.mcause, r.h.mtval]).toEqual([22n, BigInt(w)]);
    }
    r.setCsr(MENVCFG, 0);
    expect(r.run([ins.csrr(5, STIMECMP)], VU)).toBe('M'); // HS-mode could not either: illegal
    expect(r.h.mcause).toBe(2n);
    r.setCsr(MSTATUS, r.csr(MSTATUS) | (1n << 21n));
    expect(r.run([ins.wfi], VU)).toBe('M');
    expect(r.h.mcause).toBe(2n);
  });

  it('mret with MPP=M leaves V=0 whatever MPV says, and clears MPV', () => {
    const r = new Rig();
    r.setCsr(MSTATUS, r.csr(MSTATUS) | (3n << 11n) | (1n << 39n));
    r.h.mepc = BigInt(CODE + 4);
    expect(r.run([ins.mret, ins.csrr(5, MSTATUS)], M)).toBe('done');
    expect(r.h.virt).toBe(false);
    expect(r.h.priv).toBe(3);
    expect((r.h.getX(5) >> 39n) & 1n).toBe(0n);
  });

  it('exceptions delegated to VS-mode keep their cause (2 stays 2, 6 stays 6)', () => {
    const r = new Rig();
    r.setCsr(MEDELEG, (1 << 2) | (1 << 6));
    r.setCsr(HEDELEG, (1 << 2) | (1 << 6));
    expect(r.run([ins.illegal], VS)).toBe('VS');
    expect(r.h.hyp.vscause).toBe(2n);
    expect(r.run([ins.amoaddw(5, 6, 0)], VU, { 6: DATA + 2 })).toBe('VS');
    expect([r.h.hyp.vscause, r.h.hyp.vstval]).toEqual([6n, BigInt(DATA + 2)]);
  });

  it('a PMP denial of a guest access is an access fault, not a guest-page fault', () => {
    const r = new Rig();
    r.twoStage();
    r.h.pmpaddr[0] = BigInt(DATA >>> 2) | 0x1ffn; r.h.pmpcfg[0] = 0x18; // NAPOT 4 KiB, no permissions
    r.h.pmpaddr[1] = (1n << 54n) - 1n; r.h.pmpcfg[1] = 0x1f;
    updatePmp(r.h);
    expect(r.run([ins.ld(5, 6)], VS, { 6: DATA + 8 })).toBe('M');
    expect([r.h.mcause, r.h.mtval, r.h.hyp.mtval2, r.h.hyp.mgva]).toEqual([5n, BigInt(DATA + 8), 0n, true]);
  });

  it('a page-table entry outside RAM is an access fault', () => {
    const r = new Rig();
    const { vroot } = r.twoStage();
    r.dword(vroot, (0x10000000n >> 12n) << 10n | 1n); // VA 0..1G: next level at PA 0x10000000 (no RAM)
    r.h.hyp.hgatp = 0n; // G-stage Bare: the table's guest physical address is that physical address
    expect(r.run([ins.ld(5, 6)], VS, { 6: 0x1000 })).toBe('M');
    expect(r.h.mcause).toBe(5n);
  });

  describe('HLV, HLVX, HSV', () => {
    function rig() {
      const r = new Rig();
      const { vroot, groot } = r.twoStage();
      r.setCsr(HSTATUS, 1 << 8); // SPVP: accesses as VS-mode
      const page = (i: number, vflags: number, gflags = PTE_V | PTE_U | RWX | AD) => {
        const va = 0x10000000n + BigInt(i) * 0x1000n, gpa = 0x100000000n + BigInt(i) * 0x1000n;
        r.map(vroot, va, gpa, vflags);
        r.map(groot, gpa, BigInt(DATA + i * 0x1000), gflags, 0, true);
        return Number(va) + 0x10;
      };
      return { r, page, vroot, groot };
    }

    it('VS-stage faults from M-mode are page faults with GVA=1 (QEMU: access faults)', () => {
      const { r, page } = rig();
      const va = page(0, RWX | AD); // V clear
      expect(r.run([ins.hlvd(5, 6)], M, { 6: va })).toBe('M');
      expect([r.h.mcause, r.h.mtval, r.h.hyp.mgva, r.h.hyp.mtval2, r.h.hyp.mpv]).toEqual([13n, BigInt(va), true, 0n, false]);
      expect(r.run([ins.hsvd(0, 6)], M, { 6: va })).toBe('M');
      expect(r.h.mcause).toBe(15n);
    });

    it('guest-page faults of HLV/HSV in M-mode set GVA', () => {
      const { r, page } = rig();
      const va = page(1, PTE_V | RWX | AD, 0);
      expect(r.run([ins.hlvd(5, 6)], M, { 6: va })).toBe('M');
      expect([r.h.mcause, r.h.hyp.mgva, r.h.hyp.mtval2]).toEqual([21n, true, (0x100001000n + 0x10n) >> 2n]);
    });

    it('HLVX needs execute permission at both stages, not read', () => {
      const { r, page } = rig();
      const xonly = page(2, PTE_V | PTE_X | AD), ronly = page(3, PTE_V | PTE_R | AD);
      const gxonly = page(4, PTE_V | RWX | AD, PTE_V | PTE_U | PTE_X | AD);
      r.dword(DATA + 0x2010, 0x1234567890n);
      expect(r.run([ins.hlvxwu(5, 6)], M, { 6: xonly })).toBe('done');
      expect(r.h.getX(5)).toBe(0x34567890n);
      expect(r.run([ins.hlvxwu(5, 6)], M, { 6: gxonly })).toBe('done');
      expect(r.run([ins.hlvxwu(5, 6)], M, { 6: ronly })).toBe('M');
      expect(r.h.mcause).toBe(13n);
      expect(r.run([ins.hlvd(5, 6)], M, { 6: xonly })).toBe('M');
      expect(r.h.mcause).toBe(13n);
    });

    it('SUM and MXR: vsstatus.SUM for U pages, vsstatus.MXR on the VS-stage, mstatus.MXR on both', () => {
      const { r, page } = rig();
      const upage = page(5, PTE_V | RWX | PTE_U | AD), vx = page(6, PTE_V | PTE_X | AD);
      const gx = page(7, PTE_V | RWX | AD, PTE_V | PTE_U | PTE_X | AD);
      r.setCsr(MSTATUS, r.csr(MSTATUS) | (1n << 18n)); // HS-level SUM: ignored
      expect(r.run([ins.hlvd(5, 6)], M, { 6: upage })).toBe('M');
      expect(r.h.mcause).toBe(13n);
      r.setCsr(VSSTATUS, r.csr(VSSTATUS) | (1n << 18n));
      expect(r.run([ins.hlvd(5, 6)], M, { 6: upage })).toBe('done');
      r.setCsr(VSSTATUS, r.csr(VSSTATUS) | (1n << 19n)); // vsstatus.MXR
      expect(r.run([ins.hlvd(5, 6)], M, { 6: vx })).toBe('done');
      expect(r.run([ins.hlvd(5, 6)], M, { 6: gx })).toBe('M');
      expect(r.h.mcause).toBe(21n);
      r.setCsr(VSSTATUS, r.csr(VSSTATUS) & ~(1n << 19n));
      r.setCsr(MSTATUS, r.csr(MSTATUS) | (1n << 19n)); // mstatus.MXR
      expect(r.run([ins.hlvd(5, 6)], M, { 6: vx })).toBe('done');
      expect(r.run([ins.hlvd(5, 6)], M, { 6: gx })).toBe('done');
      // the same for VS-mode's own loads
      expect(r.run([ins.ld(5, 6)], VS, { 6: gx })).toBe('done');
      r.setCsr(MSTATUS, r.csr(MSTATUS) & ~(1n << 19n));
      r.setCsr(VSSTATUS, r.csr(VSSTATUS) | (1n << 19n));
      expect(r.run([ins.ld(5, 6)], VS, { 6: gx })).toBe('M');
      expect(r.h.mcause).toBe(21n);
      expect(r.run([ins.ld(5, 6)], VS, { 6: vx })).toBe('done');
    });
  });

  describe.each(['interp', 'jit'] as const)('mtinst/htinst (%s)', (engine) => {
    function rig() {
      const r = new Rig(engine);
      const { vroot, groot } = r.twoStage();
      const va = 0x10000000n, gpa = 0x100000000n;
      r.map(vroot, va, gpa, PTE_V | RWX | AD);
      r.map(vroot, va + 0x1000n, gpa + 0x1000n, PTE_V | RWX | AD);
      r.map(groot, gpa, BigInt(DATA), PTE_V | PTE_U | RWX | AD, 0, true);
      return { r, vroot, groot, va: Number(va) };
    }

    it('a guest-page fault of a load or store gives the transformed instruction', () => {
      const { r, va } = rig();
      expect(r.run([ins.ld(5, 6, 0x18)], VS, { 6: va + 0x1000 - 0x18 })).toBe('M');
      expect([r.h.mcause, r.h.hyp.mtinst, r.h.hyp.mtval2]).toEqual([21n, BigInt(ins.ld(5, 0) & 0x7fff), 0x100001000n >> 2n]);
      r.setCsr(MEDELEG, 1 << 23);
      expect(r.run([ins.sd(7, 6, 0x7f8)], VS, { 6: va + 0x1000 - 0x7f8 })).toBe('HS');
      expect([r.h.scause, r.h.hyp.htinst]).toEqual([23n, BigInt(ins.sd(7, 0) & 0x01f0707f)]);
      // compressed: c.ld s0, 0(s1) expands to ld s0, 0(s1); bit 1 is cleared
      expect(r.run([0x6080], VS, { 9: va + 0x1000 })).toBe('M');
      expect(r.h.hyp.mtinst).toBe(BigInt((ins.ld(8, 0) & 0x7fff) & ~2));
      // misaligned across into the faulting page: the offset of the faulting byte in rs1's place
      expect(r.run([ins.ld(5, 6)], VS, { 6: va + 0x1000 - 3 })).toBe('M');
      expect([r.h.mtval, r.h.hyp.mtinst]).toEqual([BigInt(va + 0x1000), BigInt((ins.ld(5, 0) & 0x7fff) | (3 << 15))]);
      // HLV/HSV: every field but rs1
      expect(r.run([ins.hsvd(7, 6)], M, { 6: va + 0x1000 })).toBe('M');
      expect(r.h.hyp.mtinst).toBe(BigInt(ins.hsvd(7, 0)));
    });

    it('guest-page faults of VS-stage page-table accesses give the pseudoinstructions', () => {
      const { r, vroot, groot, va } = rig();
      const pte = r.pteAddr(vroot, BigInt(va)), table = pte - (pte % 4096);
      // the G-stage leaf that maps the level-0 VS table (identity RAM gigapage): replace it by a 4 KiB one
      r.map(groot, BigInt(table), BigInt(table), 0, 0, true); // invalid
      for (const [code, cause] of [[ins.ld(5, 6), 21n], [ins.sd(5, 6), 23n]] as const) {
        expect(r.run([code], VS, { 6: va })).toBe('M');
        expect([r.h.mcause, r.h.hyp.mtinst, r.h.hyp.mtval2, r.h.hyp.mgva]).toEqual([cause, 0x3000n, BigInt(table) >> 2n, true]);
      }
      expect(r.run([ins.jalr(1, 6)], VS, { 6: va })).toBe('M');
      expect([r.h.mcause, r.h.hyp.mtinst]).toEqual([20n, 0x3000n]);
      // read-only to the G-stage: a VS-stage A/D update is an implicit store
      r.map(groot, BigInt(table), BigInt(table), PTE_V | PTE_U | PTE_R | AD, 0, true);
      r.dword(r.pteAddr(vroot, BigInt(va)), (0x100000000n >> 12n) << 10n | BigInt(PTE_V | RWX));
      expect(r.run([ins.ld(5, 6)], VS, { 6: va })).toBe('M');
      expect([r.h.mcause, r.h.hyp.mtinst]).toEqual([21n, 0x3020n]);
      // with write permission the update sets D in the G-stage leaf of the table as well
      r.map(groot, BigInt(table), BigInt(table), PTE_V | PTE_U | PTE_R | PTE_W, 0, true);
      expect(r.run([ins.ld(5, 6)], VS, { 6: va })).toBe('done');
      expect(Number(r.read64(r.pteAddr(groot, BigInt(table), true))) & AD).toBe(AD);
    });

    it('other traps write zero', () => {
      const { r, va } = rig();
      r.h.hyp.mtinst = 5n;
      expect(r.run([ins.ecall], VS)).toBe('M');
      expect(r.h.hyp.mtinst).toBe(0n);
      r.h.hyp.mtinst = 5n;
      expect(r.run([ins.ld(5, 6)], VS, { 6: 0x20000000 })).toBe('M'); // VS-stage page fault
      expect([r.h.mcause, r.h.hyp.mtinst]).toEqual([13n, BigInt(ins.ld(5, 0) & 0x7fff)]);
      expect(r.run([ins.jalr(1, 6)], VS, { 6: va + 0x1000 })).toBe('M'); // fetch guest-page fault
      expect([r.h.mcause, r.h.hyp.mtinst]).toEqual([20n, 0n]);
    });
  });

  it('guest physical addresses may use the two extra bits of the x4 modes', () => {
    const r = new Rig();
    const { vroot, groot } = r.twoStage();
    const gpa = 0x1ffc0000000n; // root index 2047
    r.map(groot, gpa, BigInt(RAM), PTE_V | PTE_U | RWX | AD, 2, true);
    r.map(vroot, 0x10000000n, gpa + BigInt(DATA - RAM), PTE_V | RWX | AD);
    r.dword(DATA + 8, 0xfeedn);
    expect(r.run([ins.ld(5, 6)], VS, { 6: 0x10000008 })).toBe('done');
    expect(r.h.getX(5)).toBe(0xfeedn);
    r.map(vroot, 0x10001000n, 1n << 41n, PTE_V | RWX | AD);
    expect(r.run([ins.ld(5, 6)], VS, { 6: 0x10001008 })).toBe('M');
    expect([r.h.mcause, r.h.hyp.mtval2]).toEqual([21n, ((1n << 41n) + 8n) >> 2n]);
  });

  it('VS-level interrupts: VSEI before VSSI before VSTI, at HS and at VS level', () => {
    const r = new Rig();
    r.setCsr(HIE, 0x444);
    r.setCsr(HVIP, 0x444);
    r.h.priv = 1; r.h.virt = true;
    expect(pendingInterrupt(r.h)).toBe(10);
    r.setCsr(HVIP, 0x044);
    expect(pendingInterrupt(r.h)).toBe(2);
    r.setCsr(HIDELEG, 0x444);
    r.setCsr(HVIP, 0x444);
    r.h.vsstatus |= 2;
    expect(pendingInterrupt(r.h)).toBe(10);
    takeTrap(r.h, 10, 0n, true);
    expect(r.h.hyp.vscause).toBe((1n << 63n) | 9n);
  });

  it('vstimecmp: VSTIP follows time + htimedelta and henvcfg.STCE at once', () => {
    const r = new Rig();
    r.setCsr(MENVCFG, 1n << 63n);
    r.setCsr(HENVCFG, 1n << 63n);
    r.setCsr(VSTIMECMP, 5000);
    expect(r.csr(HIP) & 0x40n).toBe(0n);
    r.setCsr(HTIMEDELTA, 4000);
    expect(r.csr(HIP) & 0x40n).toBe(0x40n);
    r.setCsr(HENVCFG, 0);
    expect(r.csr(HIP) & 0x40n).toBe(0n);
    r.setCsr(HVIP, 0x40);
    expect(r.csr(HIP) & 0x40n).toBe(0x40n); // hvip.VSTIP stays writable with menvcfg.STCE=1
    r.setCsr(MENVCFG, 0);
    r.setCsr(HENVCFG, 1n << 63n);
    expect(r.csr(HENVCFG)).toBe(0n); // read-only zero while menvcfg.STCE=0
  });

  it('floating point with V=1 dirties both mstatus.FS and vsstatus.FS', () => {
    const r = new Rig();
    expect(r.run([ins.faddd(1, 2, 3)], VS)).toBe('done');
    expect((r.csr(MSTATUS) >> 13n) & 3n).toBe(3n);
    expect((r.csr(VSSTATUS) >> 13n) & 3n).toBe(3n);
    expect(r.csr(VSSTATUS) >> 63n).toBe(1n);
    r.setCsr(VSSTATUS, 0);
    expect(r.run([ins.faddd(1, 2, 3)], VS)).toBe('M');
    expect(r.h.mcause).toBe(2n);
  });

  it('keeps V=0 and V=1 translations of one address apart in the TLB', () => {
    const r = new Rig('jit');
    const { vroot, groot } = r.twoStage();
    r.map(vroot, 0x10000000n, 0x100000000n, PTE_V | RWX | AD);
    r.map(groot, 0x100000000n, BigInt(DATA), PTE_V | PTE_U | RWX | AD, 0, true);
    const sroot = r.table();
    r.map(sroot, BigInt(RAM), BigInt(RAM), PTE_V | RWX | AD, 2);
    r.map(sroot, 0x10000000n, BigInt(DATA + 0x1000), PTE_V | RWX | AD);
    r.h.satp = (8n << 60n) | BigInt(sroot >>> 12);
    r.dword(DATA, 1n);
    r.dword(DATA + 0x1000, 2n);
    for (let k = 0; k < 3; k++) {
      expect(r.run([ins.ld(5, 6)], VS, { 6: 0x10000000 })).toBe('done');
      expect(r.h.getX(5)).toBe(1n);
      expect(r.run([ins.ld(5, 6)], HS, { 6: 0x10000000 })).toBe('done');
      expect(r.h.getX(5)).toBe(2n);
    }
  });
});
