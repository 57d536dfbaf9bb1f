import { describe, expect, it, beforeEach } from 'vitest';
import { Bus } from '../runtime/bus.js';
import { Hart, Priv } from '../runtime/hart.js';
import { CSR, MSTATUS, csrRead, readMip } from '../runtime/csr.js';
import { Cause, Irq } from '../runtime/trap.js';
import { takeTrap, pendingInterrupt } from '../runtime/privilege.js';
import { Access } from '../runtime/trap.js';
import { pmpCheck } from '../runtime/mmu.js';
import { Clint } from '../runtime/devices/clint.js';
import { Uart } from '../runtime/devices/uart.js';
import { Plic } from '../runtime/devices/plic.js';
import { Interpreter } from '../runtime/interp.js';
import { parseLinuxImage, planBootLayout } from '../runtime/firmware/boot.js';
import {
  SbiFirmware, SbiEvent, SBI_ERR, SBI_EXT, SBI_IMPL_ID, SBI_IMPL_VERSION, SBI_SPEC_VERSION, HART_STATE, MEDELEG, MIDELEG,
  uartConsole,
} from '../runtime/firmware/sbi.js';

const RAM = 0x80000000;
const ENTRY = 0x80200000n, DTB = 0x87e00000n;
const CLINT = 0x2000000;

class TestConsole {
  out: number[] = [];
  input: number[] = [];
  write(b: Uint8Array): void { this.out.push(...b); }
  read(max: number): Uint8Array { return Uint8Array.from(this.input.splice(0, max)); }
  get text(): string { return String.fromCharCode(...this.out); }
}

interface Setup {
  bus: Bus; harts: Hart[]; h: Hart; clint: Clint; fw: SbiFirmware; con: TestConsole; events: SbiEvent[];
  time: { now: bigint };
}

function setup(opts: { harts?: number; sstc?: boolean; clint?: boolean } = {}): Setup {
  const bus = new Bus(RAM, 16 << 20);
  const time = { now: 1000n };
  const harts = Array.from({ length: opts.harts ?? 1 }, (_, i) => {
    const h = new Hart(bus);
    h.mhartid = i;
    h.readTime = () => time.now;
    return h;
  });
  const clint = new Clint(CLINT, harts, () => time.now);
  if (opts.clint !== false) bus.addDevice(clint);
  const con = new TestConsole();
  const events: SbiEvent[] = [];
  const fw = new SbiFirmware(harts, { console: con, onEvent: (e) => events.push(e), sstc: opts.sstc });
  fw.boot(ENTRY, DTB);
  return { bus, harts, h: harts[0], clint, fw, con, events, time };
}

/** Make an SBI call from S-mode the way the hardware delivers it, and return (a0 signed, a1). */
function sbi(h: Hart, eid: number, fid: number, ...args: (number | bigint)[]): { error: number; value: bigint } {
  h.setX(17, BigInt(eid));
  h.setX(16, BigInt(fid));
  args.forEach((v, i) => h.setX(10 + i, BigInt.asUintN(64, BigInt(v))));
  const pc = h.pc, mepc = h.mepc, mcause = h.mcause, priv = h.priv;
  takeTrap(h, Cause.EcallS, 0n, false);
  // The firmware handled it: M-mode state untouched, back in the caller's mode past the ecall (unless it did not return).
  expect(h.mepc).toBe(mepc);
  expect(h.mcause).toBe(mcause);
  if (h.pc === pc + 4n) expect(h.priv).toBe(priv);
  return { error: Number(BigInt.asIntN(64, h.getX(10))), value: h.getX(11) };
}

describe('boot hand-over', () => {
  it('enters S-mode at the kernel entry with a0 = hartid, a1 = DTB and OpenSBI-like delegation', () => {
    const { h, clint } = setup();
    expect(h.priv).toBe(Priv.S);
    expect(h.pc).toBe(ENTRY);
    expect(h.getX(10)).toBe(0n);
    expect(h.getX(11)).toBe(DTB);
    expect(h.medeleg).toBe(MEDELEG);
    expect(h.medeleg & (1 << Cause.EcallS)).toBe(0);
    for (const c of [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 15]) expect((h.medeleg >> c) & 1).toBe(1);
    expect(h.mideleg).toBe(MIDELEG);
    expect(MIDELEG).toBe((1 << 1) | (1 << 5) | (1 << 9));
    expect(h.mcounteren).toBe(7);
    expect(h.scounteren).toBe(7); // U-mode rdtime (the Linux vDSO) works, as after OpenSBI
    expect(h.mstatus & MSTATUS.FS).toBe(MSTATUS.FS);
    expect(h.menvcfg >> 63n).toBe(1n);
    expect(h.satp).toBe(0n);
    expect(h.mstatus & MSTATUS.SIE).toBe(0);
    expect(h.mie).toBe(1 << Irq.MSI);
    expect(clint.mtimecmp[0]).toBe(0xffffffffffffffffn);
    expect(h.stimecmp).toBe(0xffffffffffffffffn);
    expect(readMip(h) & (1 << Irq.STI)).toBe(0); // no stale timer interrupt
    expect(h.stop).toBe(true);
  });

  it('opens PMP to S-mode for all memory and lets S-mode read the counters', () => {
    const { h } = setup();
    for (const pa of [0, 0x10000000, RAM, RAM + 0x7fffff0, 2 ** 40]) {
      for (const t of [Access.Read, Access.Write, Access.Exec]) expect(pmpCheck(h, pa, 8, t, Priv.S)).toBe(true);
    }
    expect(csrRead(h, CSR.time, 0)).toBe(1000n);
    expect(() => csrRead(h, CSR.cycle, 0)).not.toThrow();
    expect(() => csrRead(h, CSR.instret, 0)).not.toThrow();
    expect(() => csrRead(h, CSR.stimecmp, 0)).not.toThrow();
  });

  it('leaves STCE clear without Sstc', () => {
    const { h } = setup({ sstc: false });
    expect(h.menvcfg).toBe(0n);
  });

  it('delegated exceptions go to S-mode without the firmware', () => {
    const { h } = setup();
    h.stvec = 0x80300000n;
    h.pc = 0x80201000n;
    takeTrap(h, Cause.IllegalInstruction, 0x1234n, false);
    expect(h.pc).toBe(0x80300000n);
    expect(h.scause).toBe(2n);
    expect(h.sepc).toBe(0x80201000n);
  });

  it('keeps secondary harts stopped', () => {
    const { fw, harts } = setup({ harts: 2 });
    expect(fw.hartState(0)).toBe(HART_STATE.STARTED);
    expect(fw.hartState(1)).toBe(HART_STATE.STOPPED);
    expect(fw.isRunnable(1)).toBe(false);
    expect(harts[1].waiting).toBe(true);
    expect(harts[1].mie).toBe(0);
    expect(fw.hartState(7)).toBe(-1);
  });

  it('refuses a hart list whose mhartids are not their positions', () => {
    const bus = new Bus(RAM, 1 << 20);
    const h = new Hart(bus);
    h.mhartid = 3;
    expect(() => new SbiFirmware([h], { console: new TestConsole(), onEvent: () => {} })).toThrow();
    expect(() => new SbiFirmware([], { console: new TestConsole(), onEvent: () => {} })).toThrow();
    h.mhartid = 0;
    expect(() => new SbiFirmware([h], { console: new TestConsole(), onEvent: () => {} }).boot(ENTRY, DTB, 1)).toThrow(RangeError);
  });
});

describe('Base extension', () => {
  let s: Setup;
  beforeEach(() => { s = setup(); });

  it('reports versions and ids', () => {
    expect(sbi(s.h, SBI_EXT.BASE, 0)).toEqual({ error: 0, value: BigInt(SBI_SPEC_VERSION) });
    expect(SBI_SPEC_VERSION).toBe(0x02000000);
    expect(sbi(s.h, SBI_EXT.BASE, 1)).toEqual({ error: 0, value: BigInt(SBI_IMPL_ID) });
    expect(SBI_IMPL_ID).toBeGreaterThan(10); // not one of the assigned implementation ids
    expect(sbi(s.h, SBI_EXT.BASE, 2)).toEqual({ error: 0, value: BigInt(SBI_IMPL_VERSION) });
  });

  it('returns the machine ids the CSRs hold', () => {
    expect(sbi(s.h, SBI_EXT.BASE, 4).value).toBe(0n);
    expect(sbi(s.h, SBI_EXT.BASE, 5).value).toBe(0x70216n);
    expect(sbi(s.h, SBI_EXT.BASE, 6).value).toBe(0x70216n);
    expect(s.h.priv).toBe(Priv.S);
  });

  it('probes extensions', () => {
    for (const e of [SBI_EXT.BASE, SBI_EXT.TIME, SBI_EXT.IPI, SBI_EXT.RFENCE, SBI_EXT.HSM, SBI_EXT.SRST, SBI_EXT.DBCN, 0, 1, 8]) {
      expect(sbi(s.h, SBI_EXT.BASE, 3, e)).toEqual({ error: 0, value: 1n });
    }
    for (const e of [9, 0x504d55 /* PMU */, 0x53555350 /* SUSP */, 0x43505043 /* CPPC */, 0x4e41434c /* NACL */, 0x535441 /* STA */, 0xdeadbeef]) {
      expect(sbi(s.h, SBI_EXT.BASE, 3, e)).toEqual({ error: 0, value: 0n });
    }
  });

  it('rejects unknown functions and extensions with NOT_SUPPORTED', () => {
    expect(sbi(s.h, SBI_EXT.BASE, 7).error).toBe(SBI_ERR.NOT_SUPPORTED);
    expect(sbi(s.h, 0x504d55, 0).error).toBe(SBI_ERR.NOT_SUPPORTED);
    expect(sbi(s.h, 0x0a000000, 0).error).toBe(SBI_ERR.NOT_SUPPORTED);
    for (const e of [SBI_EXT.TIME, SBI_EXT.IPI, SBI_EXT.SRST]) expect(sbi(s.h, e, 1).error).toBe(SBI_ERR.NOT_SUPPORTED);
    expect(sbi(s.h, SBI_EXT.HSM, 4).error).toBe(SBI_ERR.NOT_SUPPORTED);
    expect(sbi(s.h, SBI_EXT.DBCN, 3).error).toBe(SBI_ERR.NOT_SUPPORTED);
  });

  it('uses only the low 32 bits of a7 and a6 as the ids', () => {
    s.h.setX(17, 0xffffffff00000010n);
    s.h.setX(16, 0xffffffff00000000n);
    takeTrap(s.h, Cause.EcallS, 0n, false);
    expect(s.h.getX(11)).toBe(BigInt(SBI_SPEC_VERSION));
  });

  it('advances pc by 4 and stays in S-mode', () => {
    const pc = s.h.pc;
    sbi(s.h, SBI_EXT.BASE, 0);
    expect(s.h.pc).toBe(pc + 4n);
    expect(s.h.priv).toBe(Priv.S);
  });
});

describe('TIME extension', () => {
  it('writes stimecmp with Sstc', () => {
    const { h, time } = setup();
    expect(sbi(h, SBI_EXT.TIME, 0, 5000n)).toEqual({ error: 0, value: 0n });
    expect(h.stimecmp).toBe(5000n);
    expect(readMip(h) & (1 << Irq.STI)).toBe(0);
    time.now = 5000n;
    expect(readMip(h) & (1 << Irq.STI)).not.toBe(0);
    expect(h.mie & (1 << Irq.MTI)).toBe(0);
  });

  it('programs the CLINT without Sstc and turns the M timer interrupt into STIP', () => {
    const { h, time, clint } = setup({ sstc: false });
    h.mipSw |= 1 << Irq.STI;
    expect(sbi(h, SBI_EXT.TIME, 0, 5000n).error).toBe(0);
    expect(clint.mtimecmp[0]).toBe(5000n);
    expect(h.mie & (1 << Irq.MTI)).not.toBe(0);
    expect(readMip(h) & (1 << Irq.STI)).toBe(0);
    clint.update();
    expect(pendingInterrupt(h)).toBe(-1);
    time.now = 5001n;
    clint.update();
    expect(pendingInterrupt(h)).toBe(Irq.MTI);
    const pc = h.pc;
    takeTrap(h, Irq.MTI, 0n, true);
    expect(h.pc).toBe(pc);
    expect(h.priv).toBe(Priv.S);
    expect(h.mie & (1 << Irq.MTI)).toBe(0);
    expect(readMip(h) & (1 << Irq.STI)).not.toBe(0);
    // S-mode takes it when enabled; the next set_timer clears it.
    h.mie |= 1 << Irq.STI;
    h.mstatus |= MSTATUS.SIE;
    expect(pendingInterrupt(h)).toBe(Irq.STI);
    sbi(h, SBI_EXT.TIME, 0, 0xffffffffffffffffn);
    expect(readMip(h) & (1 << Irq.STI)).toBe(0);
    expect(clint.mtimecmp[0]).toBe(0xffffffffffffffffn);
  });

  it('supports the legacy set_timer, returning in a0 only', () => {
    const { h, clint } = setup({ sstc: false });
    h.setX(11, 0x1234n);
    expect(sbi(h, SBI_EXT.LEGACY_SET_TIMER, 0, 777n)).toEqual({ error: 0, value: 0x1234n });
    expect(clint.mtimecmp[0]).toBe(777n);
  });

  it('reports FAILED without Sstc when there is no CLINT', () => {
    const { h } = setup({ sstc: false, clint: false });
    expect(sbi(h, SBI_EXT.TIME, 0, 5n).error).toBe(SBI_ERR.FAILED);
  });
});

describe('IPI extension', () => {
  it('sends an IPI through the CLINT, delivered to S-mode as SSIP', () => {
    const { h, clint } = setup();
    expect(sbi(h, SBI_EXT.IPI, 0, 1, 0)).toEqual({ error: 0, value: 0n });
    expect(clint.read(0, 4)).toBe(1);
    expect(pendingInterrupt(h)).toBe(Irq.MSI);
    takeTrap(h, Irq.MSI, 0n, true);
    expect(clint.read(0, 4)).toBe(0);
    expect(readMip(h) & (1 << Irq.SSI)).not.toBe(0);
    expect(pendingInterrupt(h)).toBe(-1); // SSIE not enabled yet
    // The supervisor clears SSIP itself (csrc sip), or through the legacy clear_ipi.
    sbi(h, SBI_EXT.LEGACY_CLEAR_IPI, 0);
    expect(readMip(h) & (1 << Irq.SSI)).toBe(0);
  });

  it('targets every started hart with hart_mask_base = -1', () => {
    const { harts, clint } = setup({ harts: 3 });
    expect(sbi(harts[0], SBI_EXT.HSM, 0, 2, ENTRY, 0).error).toBe(0);
    expect(sbi(harts[0], SBI_EXT.IPI, 0, 0, -1).error).toBe(0);
    expect([clint.read(0, 4), clint.read(4, 4), clint.read(8, 4)]).toEqual([1, 0, 1]);
  });

  it('validates hart_mask and hart_mask_base', () => {
    const { h, harts, clint } = setup({ harts: 2 });
    expect(sbi(h, SBI_EXT.IPI, 0, 0b100, 0).error).toBe(SBI_ERR.INVALID_PARAM);
    expect(sbi(h, SBI_EXT.IPI, 0, 1, 2).error).toBe(SBI_ERR.INVALID_PARAM);
    expect(sbi(h, SBI_EXT.IPI, 0, 1, 0xffffffffn).error).toBe(SBI_ERR.INVALID_PARAM);
    expect(clint.read(0, 4) | clint.read(4, 4)).toBe(0);
    expect(sbi(h, SBI_EXT.IPI, 0, 0, 0).error).toBe(0); // nobody
    expect(sbi(h, SBI_EXT.IPI, 0, 1, 1).error).toBe(0); // hart 1
    expect(clint.read(4, 4)).toBe(1);
    expect(harts[1].irqLines & (1 << Irq.MSI)).not.toBe(0);
  });

  it('supports the legacy send_ipi with a hart mask in S-mode memory', () => {
    const { h, bus, clint } = setup();
    const maskAddr = RAM + 0x1000;
    bus.writeBytes(maskAddr, Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0));
    expect(sbi(h, SBI_EXT.LEGACY_SEND_IPI, 0, maskAddr).error).toBe(0);
    expect(clint.read(0, 4)).toBe(1);
    clint.write(0, 4, 0);
    bus.writeBytes(maskAddr, Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0));
    expect(sbi(h, SBI_EXT.LEGACY_SEND_IPI, 0, maskAddr).error).toBe(SBI_ERR.INVALID_PARAM);
    // An unreadable mask pointer is an error, not a crash or a trap into S-mode.
    const scause = h.scause;
    expect(sbi(h, SBI_EXT.LEGACY_SEND_IPI, 0, 0x1000).error).toBe(SBI_ERR.INVALID_ADDRESS);
    expect(sbi(h, SBI_EXT.LEGACY_SEND_IPI, 0, 0xffff_ffff_ffff_0000n).error).toBe(SBI_ERR.INVALID_ADDRESS);
    expect(h.scause).toBe(scause);
    expect(h.priv).toBe(Priv.S);
    expect(sbi(h, SBI_EXT.LEGACY_SEND_IPI, 0, 0).error).toBe(0); // null: all harts
    expect(clint.read(0, 4)).toBe(1);
  });

  it('reads the legacy hart mask through the S-mode page tables', () => {
    const { h, bus, clint } = setup();
    // Sv39: map VA 0x40000000 (1 GiB gigapage) to RAM.
    const root = RAM + 0x10000;
    const pte = (BigInt(RAM) >> 12n << 10n) | 0xcfn; // V R W X A D
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, pte, true);
    bus.writeBytes(root + 8 * 1, b);
    h.satp = (8n << 60n) | BigInt(root / 4096);
    bus.writeBytes(RAM + 0x2000, Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0));
    expect(sbi(h, SBI_EXT.LEGACY_SEND_IPI, 0, 0x40002000).error).toBe(0);
    expect(clint.read(0, 4)).toBe(1);
    expect(sbi(h, SBI_EXT.LEGACY_SEND_IPI, 0, 0x80002000).error).toBe(SBI_ERR.INVALID_ADDRESS); // unmapped
  });

  it('sets SSIP directly when there is no CLINT', () => {
    const { h } = setup({ clint: false });
    expect(sbi(h, SBI_EXT.IPI, 0, 1, 0).error).toBe(0);
    expect(h.mipSw & (1 << Irq.SSI)).not.toBe(0);
  });
});

describe('RFENCE extension', () => {
  function spies(h: Hart) {
    const c = { fenceI: 0, vma: 0, tlb: 0 };
    h.onFenceI = () => c.fenceI++;
    h.onTranslationChange = () => c.vma++;
    const flush = h.flushTlb.bind(h);
    h.flushTlb = () => { c.tlb++; flush(); };
    return c;
  }

  it('performs fence.i and sfence.vma on the target harts', () => {
    const { harts } = setup({ harts: 2 });
    const c0 = spies(harts[0]), c1 = spies(harts[1]);
    expect(sbi(harts[0], SBI_EXT.RFENCE, 0, 0b11, 0).error).toBe(0);
    expect([c0.fenceI, c1.fenceI]).toEqual([1, 1]);
    expect(sbi(harts[0], SBI_EXT.RFENCE, 1, 0b10, 0, 0x1000, 0x2000).error).toBe(0);
    expect(c1.vma).toBe(1);
    expect(c1.tlb).toBe(1);
    expect(c0.vma).toBe(0);
    expect(sbi(harts[0], SBI_EXT.RFENCE, 2, 1, 1, 0, -1, 5).error).toBe(0);
    expect(c1.vma).toBe(2);
  });

  it('validates masks and ASIDs; HFENCE needs the H extension', () => {
    const { h } = setup();
    expect(sbi(h, SBI_EXT.RFENCE, 0, 2, 0).error).toBe(SBI_ERR.INVALID_PARAM);
    expect(sbi(h, SBI_EXT.RFENCE, 1, 1, 3, 0, 0).error).toBe(SBI_ERR.INVALID_PARAM);
    expect(sbi(h, SBI_EXT.RFENCE, 2, 1, 0, 0, 0, 0x10000).error).toBe(SBI_ERR.INVALID_PARAM);
    expect(sbi(h, SBI_EXT.RFENCE, 2, 1, 0, 0, 0, 0xffff).error).toBe(0);
    for (let fid = 3; fid <= 7; fid++) expect(sbi(h, SBI_EXT.RFENCE, fid, 1, 0).error).toBe(SBI_ERR.NOT_SUPPORTED);
  });

  it('supports the legacy remote fences', () => {
    const { h, bus } = setup();
    const c = spies(h);
    bus.writeBytes(RAM + 0x1000, Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0));
    expect(sbi(h, SBI_EXT.LEGACY_REMOTE_FENCE_I, 0, RAM + 0x1000).error).toBe(0);
    expect(sbi(h, SBI_EXT.LEGACY_REMOTE_SFENCE_VMA, 0, RAM + 0x1000, 0, 4096).error).toBe(0);
    expect(sbi(h, SBI_EXT.LEGACY_REMOTE_SFENCE_VMA_ASID, 0, RAM + 0x1000, 0, 4096, 1).error).toBe(0);
    expect(c.fenceI).toBe(1);
    expect(c.vma).toBe(2);
    expect(sbi(h, SBI_EXT.LEGACY_REMOTE_FENCE_I, 0, 0x10).error).toBe(SBI_ERR.INVALID_ADDRESS);
  });
});

describe('HSM extension', () => {
  it('reports hart 0 as started and refuses to start it again', () => {
    const { h } = setup();
    expect(sbi(h, SBI_EXT.HSM, 2, 0)).toEqual({ error: 0, value: BigInt(HART_STATE.STARTED) });
    expect(sbi(h, SBI_EXT.HSM, 2, 1).error).toBe(SBI_ERR.INVALID_PARAM);
    expect(sbi(h, SBI_EXT.HSM, 0, 0, ENTRY, 0).error).toBe(SBI_ERR.ALREADY_AVAILABLE);
    expect(sbi(h, SBI_EXT.HSM, 0, 1, ENTRY, 0).error).toBe(SBI_ERR.INVALID_PARAM);
    expect(sbi(h, SBI_EXT.HSM, 0, -1, ENTRY, 0).error).toBe(SBI_ERR.INVALID_PARAM);
  });

  it('starts and stops secondary harts', () => {
    const { harts, fw, events } = setup({ harts: 2 });
    const [h0, h1] = harts;
    expect(sbi(h0, SBI_EXT.HSM, 2, 1).value).toBe(BigInt(HART_STATE.STOPPED));
    expect(sbi(h0, SBI_EXT.HSM, 0, 1, 0x1000, 0).error).toBe(SBI_ERR.INVALID_ADDRESS);
    expect(sbi(h0, SBI_EXT.HSM, 0, 1, 0x80400001n, 0).error).toBe(SBI_ERR.INVALID_ADDRESS);
    expect(sbi(h0, SBI_EXT.HSM, 0, 1, 0x80400000n, 0xabcdn).error).toBe(0);
    expect(events).toContainEqual({ kind: 'hart-started', hartid: 1 });
    expect(h1.pc).toBe(0x80400000n);
    expect(h1.priv).toBe(Priv.S);
    expect(h1.getX(10)).toBe(1n);
    expect(h1.getX(11)).toBe(0xabcdn);
    expect(h1.satp).toBe(0n);
    expect(h1.waiting).toBe(false);
    expect(h1.medeleg).toBe(MEDELEG);
    expect(h1.mie).toBe(1 << Irq.MSI);
    expect(fw.isRunnable(1)).toBe(true);
    expect(sbi(h0, SBI_EXT.HSM, 2, 1).value).toBe(BigInt(HART_STATE.STARTED));
    expect(sbi(h0, SBI_EXT.HSM, 0, 1, 0x80400000n, 0).error).toBe(SBI_ERR.ALREADY_AVAILABLE);
    // hart_stop does not return.
    const pc = h1.pc;
    sbi(h1, SBI_EXT.HSM, 1);
    expect(h1.pc).toBe(pc + 4n);
    expect(h1.waiting).toBe(true);
    expect(h1.mie).toBe(0);
    expect(events).toContainEqual({ kind: 'hart-stopped', hartid: 1 });
    expect(sbi(h0, SBI_EXT.HSM, 2, 1).value).toBe(BigInt(HART_STATE.STOPPED));
    expect(sbi(h0, SBI_EXT.HSM, 0, 1, 0x80400000n, 0).error).toBe(0);
  });

  it('suspends retentively like WFI', () => {
    const { h, fw } = setup();
    const pc = h.pc;
    expect(sbi(h, SBI_EXT.HSM, 3, 0, 0, 0).error).toBe(0);
    expect(h.pc).toBe(pc + 4n);
    expect(h.waiting).toBe(true);
    expect(fw.hartState(0)).toBe(HART_STATE.SUSPENDED);
    expect(fw.isRunnable(0)).toBe(true);
    h.waiting = false; // an interrupt woke it
    expect(fw.hartState(0)).toBe(HART_STATE.STARTED);
    // With an interrupt already pending it returns at once.
    h.mie |= 1 << Irq.SSI;
    h.mipSw |= 1 << Irq.SSI;
    expect(sbi(h, SBI_EXT.HSM, 3, 0, 0, 0).error).toBe(0);
    expect(h.waiting).toBe(false);
  });

  it('suspends non-retentively, resuming at resume_addr with a0 = hartid, a1 = opaque, SIE and satp clear', () => {
    const { h } = setup();
    h.mstatus |= MSTATUS.SIE;
    h.satp = (8n << 60n) | 0x80000n;
    sbi(h, SBI_EXT.HSM, 3, 0x80000000, 0x80250000n, 0x77n);
    expect(h.pc).toBe(0x80250000n);
    expect(h.priv).toBe(Priv.S);
    expect(h.getX(10)).toBe(0n);
    expect(h.getX(11)).toBe(0x77n);
    expect(h.satp).toBe(0n);
    expect(h.mstatus & MSTATUS.SIE).toBe(0);
    expect(h.waiting).toBe(true);
  });

  it('validates suspend types and resume addresses', () => {
    const { h } = setup();
    for (const t of [1, 0x0fffffff, 0x10000000, 0x7fffffff, 0x80000001, 0x90000000, 0xffffffff]) {
      expect(sbi(h, SBI_EXT.HSM, 3, t, 0x80200000n, 0).error).toBe(SBI_ERR.INVALID_PARAM);
    }
    expect(sbi(h, SBI_EXT.HSM, 3, 0x80000000, 0x1000, 0).error).toBe(SBI_ERR.INVALID_ADDRESS);
    expect(h.waiting).toBe(false);
  });
});

describe('SRST extension', () => {
  it('shuts down and reboots through the machine callback', () => {
    for (const [type, reason, ev] of [
      [0, 0, { kind: 'shutdown', reason: 0 }],
      [1, 1, { kind: 'reboot', warm: false, reason: 1 }],
      [2, 0, { kind: 'reboot', warm: true, reason: 0 }],
      [0, 0xe0000001, { kind: 'shutdown', reason: 0xe0000001 }],
      [0, 0xf0000000, { kind: 'shutdown', reason: 0xf0000000 }],
    ] as const) {
      const { h, events, fw } = setup();
      sbi(h, SBI_EXT.SRST, 0, type, reason);
      expect(events).toEqual([ev]);
      expect(h.waiting).toBe(true);
      expect(fw.isRunnable(0)).toBe(false);
    }
  });

  it('rejects reserved types and reasons', () => {
    const { h, events } = setup();
    for (const [type, reason] of [[3, 0], [0xf0000000, 0], [0xffffffff, 0], [0, 2], [1, 0xdfffffff]]) {
      expect(sbi(h, SBI_EXT.SRST, 0, type, reason).error).toBe(SBI_ERR.INVALID_PARAM);
    }
    expect(events).toEqual([]);
    expect(h.waiting).toBe(false);
  });

  it('supports the legacy shutdown', () => {
    const { h, events } = setup();
    sbi(h, SBI_EXT.LEGACY_SHUTDOWN, 0);
    expect(events).toEqual([{ kind: 'shutdown', reason: 0 }]);
  });
});

describe('console', () => {
  it('legacy putchar and getchar', () => {
    const { h, con } = setup();
    h.setX(11, 99n);
    for (const c of 'Hi\n') expect(sbi(h, SBI_EXT.LEGACY_CONSOLE_PUTCHAR, 0, c.charCodeAt(0))).toEqual({ error: 0, value: 99n });
    expect(con.text).toBe('Hi\n');
    expect(sbi(h, SBI_EXT.LEGACY_CONSOLE_GETCHAR, 0).error).toBe(-1);
    con.input.push(0x61, 0xff);
    expect(sbi(h, SBI_EXT.LEGACY_CONSOLE_GETCHAR, 0).error).toBe(0x61);
    expect(sbi(h, SBI_EXT.LEGACY_CONSOLE_GETCHAR, 0).error).toBe(0xff);
    expect(sbi(h, SBI_EXT.LEGACY_CONSOLE_GETCHAR, 0).error).toBe(-1);
  });

  it('DBCN write, read and write_byte with physical addresses', () => {
    const { h, con, bus } = setup();
    bus.writeBytes(RAM + 0x3000, new TextEncoder().encode('hello, world'));
    expect(sbi(h, SBI_EXT.DBCN, 0, 12, RAM + 0x3000, 0)).toEqual({ error: 0, value: 12n });
    expect(sbi(h, SBI_EXT.DBCN, 0, 0, RAM + 0x3000, 0)).toEqual({ error: 0, value: 0n });
    expect(sbi(h, SBI_EXT.DBCN, 2, 0x121)).toEqual({ error: 0, value: 0n });
    expect(con.text).toBe('hello, world!');
    expect(sbi(h, SBI_EXT.DBCN, 1, 8, RAM + 0x4000, 0)).toEqual({ error: 0, value: 0n });
    con.input.push(...new TextEncoder().encode('typed'));
    expect(sbi(h, SBI_EXT.DBCN, 1, 3, RAM + 0x4000, 0)).toEqual({ error: 0, value: 3n });
    expect(sbi(h, SBI_EXT.DBCN, 1, 8, RAM + 0x4003, 0)).toEqual({ error: 0, value: 2n });
    expect(new TextDecoder().decode(bus.readBytes(RAM + 0x4000, 5))).toBe('typed');
  });

  it('DBCN validates the memory range', () => {
    const { h, con } = setup();
    const end = RAM + (16 << 20);
    expect(sbi(h, SBI_EXT.DBCN, 0, 4, RAM, 1).error).toBe(SBI_ERR.INVALID_PARAM); // above 64 bits
    expect(sbi(h, SBI_EXT.DBCN, 0, 4, 0x1000, 0).error).toBe(SBI_ERR.INVALID_PARAM);
    expect(sbi(h, SBI_EXT.DBCN, 0, 8, end - 4, 0).error).toBe(SBI_ERR.INVALID_PARAM);
    expect(sbi(h, SBI_EXT.DBCN, 0, -1, RAM, 0).error).toBe(SBI_ERR.INVALID_PARAM);
    expect(sbi(h, SBI_EXT.DBCN, 0, 4, -4, 0).error).toBe(SBI_ERR.INVALID_PARAM);
    expect(sbi(h, SBI_EXT.DBCN, 1, 8, end - 4, 0).error).toBe(SBI_ERR.INVALID_PARAM);
    expect(sbi(h, SBI_EXT.DBCN, 0, 4, end - 4, 0).error).toBe(0);
    expect(con.out.length).toBe(4);
  });

  it('DBCN writes large buffers partially', () => {
    const { h, con } = setup();
    const r = sbi(h, SBI_EXT.DBCN, 0, 1 << 20, RAM, 0);
    expect(r.error).toBe(0);
    expect(r.value).toBeGreaterThan(0n);
    expect(r.value).toBeLessThan(1n << 20n);
    expect(con.out.length).toBe(Number(r.value));
  });

  it('drives an NS16550A through the bus as its console', () => {
    const bus = new Bus(RAM, 1 << 20);
    const out: number[] = [];
    const uart = new Uart(0x10000000, (b) => out.push(b));
    bus.addDevice(uart);
    const c = uartConsole(bus, 0x10000000);
    c.write(new TextEncoder().encode('ok'));
    expect(String.fromCharCode(...out)).toBe('ok');
    uart.pushInput([1, 2, 3]);
    expect([...c.read(2)]).toEqual([1, 2]);
    expect([...c.read(5)]).toEqual([3]);
    expect([...c.read(5)]).toEqual([]);
    // A guest that left DLAB set keeps its divisor and LCR.
    uart.write(3, 1, 0x83);
    uart.write(0, 1, 0x12);
    c.write(Uint8Array.of(0x21));
    expect(out[out.length - 1]).toBe(0x21);
    expect(uart.read(3, 1)).toBe(0x83);
    expect(uart.read(0, 1)).toBe(0x12);
  });
});

describe('fatal traps', () => {
  it('reports an unhandled exception with cause, epc and tval, and parks the hart', () => {
    const { h, con, events, fw } = setup();
    h.medeleg = 0; // make S-mode's illegal instruction come to M-mode
    h.pc = 0x80201234n;
    const mtvec = h.mtvec;
    expect(() => takeTrap(h, Cause.IllegalInstruction, 0xdeadn, false)).not.toThrow();
    expect(con.text).toMatch(/fatal/);
    expect(con.text).toMatch(/mcause 2 \(illegal instruction\)/);
    expect(con.text).toMatch(/mepc\s+0x0000000080201234/);
    expect(con.text).toMatch(/mtval\s+0x000000000000dead/);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'fatal', hartid: 0, cause: 2, interrupt: false, epc: 0x80201234n, tval: 0xdeadn, priv: Priv.S });
    expect(h.waiting).toBe(true);
    expect(h.mie).toBe(0);
    expect(h.pc).not.toBe(mtvec);
    expect(fw.isRunnable(0)).toBe(false);
  });

  it('reports traps from M-mode and unexpected interrupts', () => {
    for (const [priv, cause, interrupt, re] of [
      [Priv.M, Cause.EcallM, false, /environment call from M-mode/],
      [Priv.U, Cause.EcallVS, false, /VS-mode/],
      [Priv.S, Irq.MEI, true, /machine external interrupt/],
      [Priv.S, 13, true, /unknown/],
    ] as const) {
      const { h, con, events } = setup();
      h.priv = priv;
      expect(() => takeTrap(h, cause, 0n, interrupt)).not.toThrow();
      expect(con.text).toMatch(re);
      expect(events[0].kind).toBe('fatal');
    }
  });

  it('still reports when the console itself fails', () => {
    const bus = new Bus(RAM, 1 << 20);
    const h = new Hart(bus);
    const events: SbiEvent[] = [];
    const fw = new SbiFirmware([h], { console: { write() { throw new Error('gone'); }, read: () => new Uint8Array(0) }, onEvent: (e) => events.push(e) });
    fw.boot(ENTRY, DTB);
    sbi(h, SBI_EXT.LEGACY_CONSOLE_PUTCHAR, 0, 65); // a firmware error becomes a fatal report
    expect(events[0]).toMatchObject({ kind: 'fatal' });
    expect((events[0] as { message: string }).message).toMatch(/firmware error: gone/);
  });
});

describe('running S-mode code on the interpreter', () => {
  const addi = (rd: number, rs1: number, imm: number) => ((imm & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13;
  const lui = (rd: number, imm20: number) => ((imm20 & 0xfffff) << 12) | (rd << 7) | 0x37;
  const ECALL = 0x00000073, LOOP = 0x0000006f;
  const A0 = 10, A1 = 11, A6 = 16, A7 = 17;

  it('prints through the legacy console and shuts down through SRST', () => {
    const { h, bus, con, events } = setup();
    const code = [
      addi(A7, 0, 1), addi(A0, 0, 0x4f), ECALL, addi(A0, 0, 0x4b), ECALL, // putchar 'O', 'K'
      lui(A7, 0x48534), addi(A7, A7, 0xd), addi(A6, 0, 2), addi(A0, 0, 0), ECALL, // HSM get_status(0) -> a1
      addi(A0, A1, 0x30), addi(A7, 0, 1), ECALL, // print '0' + state
      lui(A7, 0x53525), addi(A7, A7, 0x354), addi(A6, 0, 0), addi(A0, 0, 0), addi(A1, 0, 0), ECALL, // SRST shutdown
      LOOP,
    ];
    const bytes = new Uint8Array(4 * code.length);
    code.forEach((w, i) => new DataView(bytes.buffer).setUint32(4 * i, w >>> 0, true));
    bus.writeBytes(Number(ENTRY), bytes);
    const engine = new Interpreter(h);
    for (let i = 0; i < 100 && events.length === 0; i++) { h.stop = false; engine.run(1000); }
    expect(con.text).toBe('OK0');
    expect(events).toEqual([{ kind: 'shutdown', reason: 0 }]);
    expect(h.priv).toBe(Priv.S);
  });
});

describe('boot images', () => {
  function image(textOffset: bigint, imageSize: bigint, fileSize = 4096): Uint8Array {
    const b = new Uint8Array(fileSize);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, 0x5a4d, true); // code0 ("MZ" for EFI stubs)
    dv.setBigUint64(8, textOffset, true);
    dv.setBigUint64(16, imageSize, true);
    dv.setUint32(32, 0x0002, true);
    dv.setBigUint64(48, 0x5643534952n, true);
    dv.setUint32(56, 0x05435352, true);
    return b;
  }

  it('parses the RISC-V Linux Image header', () => {
    const h = parseLinuxImage(image(0x200000n, 0x1400000n))!;
    expect(h.textOffset).toBe(0x200000);
    expect(h.imageSize).toBe(0x1400000);
    expect(h.version).toEqual({ major: 0, minor: 2 });
    expect(parseLinuxImage(image(0x200000n, 16n))!.imageSize).toBe(4096); // never less than the file
    expect(parseLinuxImage(new Uint8Array(4096))).toBeNull();
    expect(parseLinuxImage(new Uint8Array(10))).toBeNull();
    expect(parseLinuxImage(image(1n << 40n, 16n))).toBeNull();
  });

  it('places kernel, initrd and device tree like QEMU virt', () => {
    const l = planBootLayout({ ramBase: RAM, ramSize: 128 << 20, kernelSize: 0x1400000, initrdSize: 0x300000 });
    expect(l.kernel).toBe(0x80200000);
    expect(l.dtb).toBe(0x87e00000);
    expect(l.initrd).toEqual({ start: 0x84200000, end: 0x84500000 });
    const big = planBootLayout({ ramBase: RAM, ramSize: 1 << 30, kernelSize: 0x1400000, initrdSize: 0x1000 });
    expect(big.initrd!.start).toBe(0x88200000);
    expect(big.dtb).toBe(0xbfe00000);
    // A big initrd is squeezed under the device tree.
    const squeezed = planBootLayout({ ramBase: RAM, ramSize: 128 << 20, kernelSize: 0x1400000, initrdSize: 0x5000000 });
    expect(squeezed.initrd!.end).toBeLessThanOrEqual(squeezed.dtb);
    expect(squeezed.initrd!.start).toBeGreaterThanOrEqual(0x81600000);
    expect(planBootLayout({ ramBase: RAM, ramSize: 64 << 20, kernelSize: 0x100000 }).initrd).toBeUndefined();
  });

  it('refuses layouts that do not fit', () => {
    expect(() => planBootLayout({ ramBase: RAM, ramSize: 32 << 20, kernelSize: 0x2000000 })).toThrow(RangeError);
    expect(() => planBootLayout({ ramBase: RAM, ramSize: 64 << 20, kernelSize: 0x1400000, initrdSize: 0x3000000 })).toThrow(/initrd/);
    expect(() => planBootLayout({ ramBase: RAM, ramSize: 1 << 20, kernelSize: 0x1000 })).toThrow(RangeError);
  });
});

describe('device interrupts reach S-mode', () => {
  it('UART receive -> PLIC source 10 -> SEIP -> delegated supervisor external interrupt', () => {
    const { h, bus } = setup();
    const plic = new Plic(0x0c000000, [h]);
    const uart = new Uart(0x10000000, () => {}, (l) => plic.setSourceLevel(10, l));
    bus.addDevice(plic);
    bus.addDevice(uart);
    // What Linux's PLIC and 8250 drivers do: priority 1, enable for the S context, threshold 0, IER.RDI.
    plic.write(4 * 10, 4, 1);
    plic.write(0x2080, 4, 1 << 10);
    plic.write(0x201000, 4, 0);
    uart.write(1, 1, 0x01);
    h.mie |= 1 << Irq.SEI;
    h.mstatus |= MSTATUS.SIE;
    h.stvec = 0x80300000n;
    expect(pendingInterrupt(h)).toBe(-1);
    uart.pushInput([0x41]);
    expect(pendingInterrupt(h)).toBe(Irq.SEI);
    takeTrap(h, Irq.SEI, 0n, true);
    expect(h.pc).toBe(0x80300000n);
    expect(h.scause).toBe((1n << 63n) | 9n);
    expect(plic.read(0x201004, 4)).toBe(10);
    expect(uart.read(0, 1)).toBe(0x41);
    plic.write(0x201004, 4, 10);
    expect(readMip(h) & (1 << Irq.SEI)).toBe(0);
  });
});

describe('timer interrupt end to end on the interpreter', () => {
  const addi = (rd: number, rs1: number, imm: number) => ((imm & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13;
  const lui = (rd: number, imm20: number) => ((imm20 & 0xfffff) << 12) | (rd << 7) | 0x37;
  const auipc = (rd: number, imm20: number) => ((imm20 & 0xfffff) << 12) | (rd << 7) | 0x17;
  const csrrw = (rd: number, csr: number, rs1: number) => (csr << 20) | (rs1 << 15) | (1 << 12) | (rd << 7) | 0x73;
  const csrrs = (rd: number, csr: number, rs1: number) => (csr << 20) | (rs1 << 15) | (2 << 12) | (rd << 7) | 0x73;
  const jal = (rd: number, off: number) =>
    (((off >> 20) & 1) << 31) | (((off >> 1) & 0x3ff) << 21) | (((off >> 11) & 1) << 20) | (((off >> 12) & 0xff) << 12) | (rd << 7) | 0x6f;
  const ECALL = 0x73, WFI = 0x10500073, NOP = addi(0, 0, 0);
  const T0 = 5, T1 = 6, A0 = 10, A1 = 11, A6 = 16, A7 = 17;

  const program = [
    auipc(T0, 0), addi(T0, T0, 64), csrrw(0, 0x105, T0), // stvec = handler (entry + 64)
    addi(T1, 0, 0x20), csrrs(0, 0x104, T1), // sie.STIE
    addi(T1, 0, 2), csrrs(0, 0x100, T1), // sstatus.SIE
    lui(A7, 0x54495), addi(A7, A7, -699), addi(A6, 0, 0), addi(A0, 0, 2000), ECALL, // TIME set_timer(2000)
    WFI, jal(0, -4), NOP, NOP,
    // handler, at +64: print 'T', then SRST shutdown
    addi(A7, 0, 1), addi(A0, 0, 0x54), ECALL,
    lui(A7, 0x53525), addi(A7, A7, 0x354), addi(A6, 0, 0), addi(A0, 0, 0), addi(A1, 0, 0), ECALL, jal(0, 0),
  ];

  for (const sstc of [true, false]) {
    it(`delivers the supervisor timer interrupt after wfi (${sstc ? 'Sstc stimecmp' : 'CLINT mtimecmp via the firmware'})`, () => {
      const { h, bus, con, events, clint, time } = setup({ sstc });
      const bytes = new Uint8Array(4 * program.length);
      program.forEach((w, i) => new DataView(bytes.buffer).setUint32(4 * i, w >>> 0, true));
      bus.writeBytes(Number(ENTRY), bytes);
      const engine = new Interpreter(h);
      let waits = 0;
      // The machine's run loop, in miniature.
      for (let i = 0; i < 1000 && events.length === 0; i++) {
        clint.update();
        const irq = pendingInterrupt(h);
        if (irq >= 0) { h.waiting = false; takeTrap(h, irq, 0n, true); }
        if (h.waiting) {
          if ((readMip(h) & h.mie) !== 0) h.waiting = false;
          else { time.now += 300n; waits++; continue; }
        }
        h.stop = false;
        engine.run(1000);
      }
      expect(waits).toBeGreaterThan(0);
      expect(con.text).toBe('T');
      expect(events).toEqual([{ kind: 'shutdown', reason: 0 }]);
      expect(h.scause).toBe((1n << 63n) | 5n);
      expect(h.sepc).toBe(ENTRY + 48n + 4n); // interrupted after the wfi
      expect(time.now).toBeGreaterThanOrEqual(2000n);
    });
  }
});
