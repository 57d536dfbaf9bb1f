// The built-in M-mode firmware (`--bios builtin`): an SBI implementation (RISC-V Supervisor Binary Interface
// specification v2.0) written in TypeScript. It stands in for the guest's M-mode through hart.machineTrapHandler:
// every trap that would enter M-mode comes here instead, and we either handle it and resume the hart in its
// own privilege, or report a fatal error and park the hart. Nothing here throws into the emulator.
//
// Like any M-mode firmware it programs the hart's machine CSRs directly and talks to the platform through the
// bus: the CLINT (mtimecmp for the timer when Sstc is not used, msip for IPIs) and the console.
import type { Bus } from '../bus.js';
import { Hart, Priv, load64 } from '../hart.js';
import { CSR, MSTATUS, csrRead, readMip } from '../csr.js';
import { Cause, Irq, TRAP } from '../trap.js';
import { out } from '../int64.js';
import { updatePmp } from '../mmu.js';

// ---- Constants from the SBI specification ----

export const SBI_SPEC_VERSION = 0x02000000; // 2.0: major in bits 30..24, minor in 23..0
/**
 * Our SBI implementation ID: 0x53414C55, "SALU" in ASCII. The specification assigns small numbers
 * (0 BBL, 1 OpenSBI, 2 Xvisor, 3 KVM, 4 RustSBI, 5 Diosix, 6 Coffer, 7 Xen, 8 PolarFire HSS, 9 coreboot,
 * 10 oreboot, ...); a value this large cannot collide with them.
 */
export const SBI_IMPL_ID = 0x53414c55;
/** Implementation version: major << 16 | minor (0.1, as the package). */
export const SBI_IMPL_VERSION = 0x00000001;

export const SBI_ERR = {
  SUCCESS: 0, FAILED: -1, NOT_SUPPORTED: -2, INVALID_PARAM: -3, DENIED: -4, INVALID_ADDRESS: -5,
  ALREADY_AVAILABLE: -6, ALREADY_STARTED: -7, ALREADY_STOPPED: -8, NO_SHMEM: -9,
} as const;

export const SBI_EXT = {
  LEGACY_SET_TIMER: 0x00, LEGACY_CONSOLE_PUTCHAR: 0x01, LEGACY_CONSOLE_GETCHAR: 0x02, LEGACY_CLEAR_IPI: 0x03,
  LEGACY_SEND_IPI: 0x04, LEGACY_REMOTE_FENCE_I: 0x05, LEGACY_REMOTE_SFENCE_VMA: 0x06,
  LEGACY_REMOTE_SFENCE_VMA_ASID: 0x07, LEGACY_SHUTDOWN: 0x08,
  BASE: 0x10, TIME: 0x54494d45, IPI: 0x735049, RFENCE: 0x52464e43, HSM: 0x48534d, SRST: 0x53525354,
  DBCN: 0x4442434e,
} as const;

export const HART_STATE = {
  STARTED: 0, STOPPED: 1, START_PENDING: 2, STOP_PENDING: 3, SUSPENDED: 4, SUSPEND_PENDING: 5, RESUME_PENDING: 6,
} as const;

const SUSPEND_RETENTIVE = 0x00000000, SUSPEND_NON_RETENTIVE = 0x80000000;
const RESET_SHUTDOWN = 0, RESET_COLD = 1, RESET_WARM = 2;
const ALL_ONES = 0xffffffffffffffffn;
/** The Base extension IDs we report for probe_extension. */
const EXTENSIONS: readonly number[] = [
  SBI_EXT.BASE, SBI_EXT.TIME, SBI_EXT.IPI, SBI_EXT.RFENCE, SBI_EXT.HSM, SBI_EXT.SRST, SBI_EXT.DBCN,
  0, 1, 2, 3, 4, 5, 6, 7, 8,
];
/** Most bytes one DBCN console_write moves; the call may legally write less than asked. */
const DBCN_MAX_WRITE = 1 << 16;

/**
 * Exceptions delegated to S-mode: everything the hardware lets us delegate except ecall from S-mode
 * (the SBI itself): misaligned fetch/load/store (0, 4, 6), fetch/load/store access faults (1, 5, 7),
 * illegal instruction (2), breakpoint (3), ecall from U (8), fetch/load/store page faults (12, 13, 15).
 * OpenSBI keeps illegal instruction, misaligned and access faults in M-mode to emulate instructions and
 * misaligned accesses and to recover from its own faulting accesses, then redirects the rest to S-mode;
 * our hart does misaligned accesses and every CSR in hardware and this firmware never faults, so S-mode
 * gets them directly.
 */
export const MEDELEG = (1 << Cause.FetchMisaligned) | (1 << Cause.FetchAccess) | (1 << Cause.IllegalInstruction) |
  (1 << Cause.Breakpoint) | (1 << Cause.LoadMisaligned) | (1 << Cause.LoadAccess) | (1 << Cause.StoreMisaligned) |
  (1 << Cause.StoreAccess) | (1 << Cause.EcallU) | (1 << Cause.FetchPage) | (1 << Cause.LoadPage) | (1 << Cause.StorePage);
/** Supervisor software, timer and external interrupts go straight to S-mode. */
export const MIDELEG = (1 << Irq.SSI) | (1 << Irq.STI) | (1 << Irq.SEI);
/** S-mode (and, if it allows, U-mode) may read cycle, time and instret. */
export const MCOUNTEREN = 0b111;
/**
 * U-mode may read them too, as OpenSBI leaves it for the next stage: Linux 6.1 never writes scounteren and its
 * vDSO reads the time CSR from user mode.
 */
export const SCOUNTEREN = 0b111;
const MENVCFG_STCE = 1n << 63n;
const PMP_NAPOT_RWX = 0x18 | 0x7;

const CAUSE_NAMES: Record<number, string> = {
  0: 'instruction address misaligned', 1: 'instruction access fault', 2: 'illegal instruction', 3: 'breakpoint',
  4: 'load address misaligned', 5: 'load access fault', 6: 'store/AMO address misaligned', 7: 'store/AMO access fault',
  8: 'environment call from U-mode', 9: 'environment call from S-mode', 10: 'environment call from VS-mode',
  11: 'environment call from M-mode', 12: 'instruction page fault', 13: 'load page fault', 15: 'store/AMO page fault',
  20: 'instruction guest-page fault', 21: 'load guest-page fault', 22: 'virtual instruction', 23: 'store/AMO guest-page fault',
};
const IRQ_NAMES: Record<number, string> = {
  1: 'supervisor software', 3: 'machine software', 5: 'supervisor timer', 7: 'machine timer',
  9: 'supervisor external', 11: 'machine external', 12: 'supervisor guest external',
};

// ---- Interfaces to the machine ----

/** The firmware's console (SBI legacy putchar/getchar and DBCN). */
export interface SbiConsole {
  write(bytes: Uint8Array): void;
  /** Up to max bytes of pending input (possibly none); never blocks. */
  read(max: number): Uint8Array;
}

export type SbiEvent =
  | { kind: 'shutdown'; reason: number }
  | { kind: 'reboot'; warm: boolean; reason: number }
  | { kind: 'hart-started'; hartid: number }
  | { kind: 'hart-stopped'; hartid: number }
  | { kind: 'fatal'; hartid: number; cause: number; interrupt: boolean; epc: bigint; tval: bigint; priv: number; message: string };

export interface SbiOptions {
  console: SbiConsole;
  /** System events: the machine ends the run on shutdown/reboot/fatal, and tracks which harts run. */
  onEvent: (e: SbiEvent) => void;
  /** CLINT base address (virt: 0x2000000). */
  clintBase?: number;
  /** Enable Sstc for S-mode (menvcfg.STCE): set_timer then writes stimecmp. Default true. */
  sstc?: boolean;
}

/**
 * A console on an NS16550A through the bus, as M-mode firmware drives it: transmit through THR, receive from RBR
 * while LSR.DR is set. The divisor latch bit is cleared around the accesses and then restored.
 */
export function uartConsole(bus: Bus, base: number): SbiConsole {
  const dev = () => {
    const d = bus.device(base);
    if (!d) throw new Error(`no UART at 0x${base.toString(16)}`);
    return { d, off: base - d.base };
  };
  const withDlabClear = <T>(f: (rd: (r: number) => number, wr: (r: number, v: number) => void) => T): T => {
    const { d, off } = dev();
    const rd = (r: number) => d.read(off + r, 1) & 0xff;
    const wr = (r: number, v: number) => d.write(off + r, 1, v);
    const lcr = rd(3);
    if (lcr & 0x80) wr(3, lcr & 0x7f);
    try { return f(rd, wr); } finally { if (lcr & 0x80) wr(3, lcr); }
  };
  return {
    write(bytes) {
      withDlabClear((rd, wr) => {
        for (const b of bytes) {
          for (let spin = 0; spin < 1000 && !(rd(5) & 0x20); spin++);
          wr(0, b);
        }
      });
    },
    read(max) {
      return withDlabClear((rd) => {
        const got: number[] = [];
        while (got.length < max && (rd(5) & 0x01)) got.push(rd(0));
        return Uint8Array.from(got);
      });
    },
  };
}

interface HartFw {
  state: number;
  /** Set while a retentive suspend is in progress; it ends when the hart stops waiting. */
  suspended: boolean;
}

const hex = (v: bigint | number) => '0x' + BigInt.asUintN(64, BigInt(v)).toString(16).padStart(16, '0');

export class SbiFirmware {
  readonly sstc: boolean;
  readonly clintBase: number;
  private readonly fw: HartFw[];
  private readonly bus: Bus;

  constructor(readonly harts: Hart[], private readonly opts: SbiOptions) {
    if (harts.length === 0) throw new RangeError('SBI firmware needs at least one hart');
    harts.forEach((h, i) => { if (h.mhartid !== i) throw new RangeError(`hart ${i} has mhartid ${h.mhartid}`); });
    this.bus = harts[0].bus;
    this.sstc = opts.sstc ?? true;
    this.clintBase = opts.clintBase ?? 0x2000000;
    this.fw = harts.map(() => ({ state: HART_STATE.STOPPED, suspended: false }));
    for (const h of harts) h.machineTrapHandler = (cause, tval, interrupt) => this.handleTrap(h, cause, tval, interrupt);
  }

  /**
   * Boot like OpenSBI hands over to the next stage: set up every hart's M-mode state, then start `bootHart` in
   * S-mode at `entry` with a0 = hartid and a1 = the device tree address. The other harts wait in STOPPED state
   * for an HSM hart_start.
   */
  boot(entry: bigint, dtb: bigint, bootHart = 0): void {
    if (!Number.isInteger(bootHart) || bootHart < 0 || bootHart >= this.harts.length) throw new RangeError(`no hart ${bootHart} to boot`);
    this.harts.forEach((h, i) => {
      this.initHart(h);
      if (i !== bootHart) this.park(h, HART_STATE.STOPPED);
    });
    this.enterSupervisor(this.harts[bootHart], entry, BigInt(bootHart), dtb);
  }

  /** HSM state of a hart. */
  hartState(hartid: number): number {
    const f = this.fw[hartid];
    if (!f) return -1;
    if (f.suspended && !this.harts[hartid].waiting) { f.suspended = false; f.state = HART_STATE.STARTED; }
    return f.state;
  }

  /** Whether the machine should run this hart (started or suspended, i.e. not stopped or halted). */
  isRunnable(hartid: number): boolean {
    const s = this.hartState(hartid);
    return s === HART_STATE.STARTED || s === HART_STATE.SUSPENDED;
  }

  /** M-mode state of a hart before its first entry to S-mode. */
  private initHart(h: Hart): void {
    // With the H extension, VS ecalls and guest-page faults / virtual instructions go to the hypervisor (HS).
    h.medeleg = MEDELEG | (h.hext ? (1 << Cause.EcallVS) | (0xf << Cause.FetchGuestPage) : 0);
    h.mideleg = MIDELEG;
    h.mcounteren = MCOUNTEREN;
    h.scounteren = SCOUNTEREN;
    h.menvcfg = this.sstc ? MENVCFG_STCE : 0n;
    // One PMP entry granting S/U-mode everything: NAPOT over the whole physical address space.
    h.pmpaddr[0] = (1n << 54n) - 1n;
    h.pmpcfg[0] = PMP_NAPOT_RWX;
    updatePmp(h);
    h.mie = 1 << Irq.MSI; // IPIs arrive as M-mode software interrupts; the timer is enabled by set_timer
    h.mipSw &= ~((1 << Irq.STI) | (1 << Irq.SSI) | (1 << Irq.SEI));
    h.mtvec = 0n;
    // No timer until S-mode asks for one: mtimecmp and stimecmp reset to 0, which would fire at once.
    this.clintWrite64(0x4000 + 8 * h.mhartid, ALL_ONES);
    h.stimecmp = ALL_ONES;
    this.clintWrite32(4 * h.mhartid, 0);
    h.flushTlb();
  }

  /** Start a hart in S-mode: pc, a0, a1; translation off, S interrupts disabled, FPU on (FS = Dirty, like OpenSBI). */
  private enterSupervisor(h: Hart, pc: bigint, a0: bigint, a1: bigint): void {
    h.priv = Priv.S;
    h.satp = 0n;
    h.mstatus = (h.mstatus & ~(MSTATUS.SIE | MSTATUS.SPIE | MSTATUS.SPP | MSTATUS.MIE | MSTATUS.MPIE | MSTATUS.MPP |
      MSTATUS.MPRV | MSTATUS.FS | MSTATUS.TVM | MSTATUS.TW | MSTATUS.TSR)) | MSTATUS.FS;
    h.fflags = 0; h.frm = 0;
    h.pc = pc;
    h.setX(10, a0);
    h.setX(11, a1);
    h.waiting = false;
    h.stop = true;
    h.flushTlb();
    h.onTranslationChange();
    this.fw[h.mhartid].state = HART_STATE.STARTED;
    this.fw[h.mhartid].suspended = false;
  }

  /** Stop a hart: it waits with no interrupt enabled, so it never runs again until hart_start. */
  private park(h: Hart, state: number): void {
    h.mie = 0;
    h.waiting = true;
    h.stop = true;
    this.fw[h.mhartid].state = state;
    this.fw[h.mhartid].suspended = false;
  }

  // ---- CLINT access through the bus ----

  private clintWrite32(off: number, v: number): boolean {
    const d = this.bus.device(this.clintBase + off);
    if (!d) return false;
    d.write(this.clintBase + off - d.base, 4, v);
    return true;
  }

  private clintWrite64(off: number, v: bigint): boolean {
    // Low word first with all ones, so no intermediate value makes the timer fire early.
    return this.clintWrite32(off, 0xffffffff) && this.clintWrite32(off + 4, Number(v >> 32n) | 0) &&
      this.clintWrite32(off, Number(v & 0xffffffffn) | 0);
  }

  // ---- Trap entry ----

  /** The machine trap handler: true when the hart can resume (handled, or parked after a fatal error). */
  handleTrap(h: Hart, cause: number, tval: bigint, interrupt: boolean): boolean {
    try {
      if (interrupt) {
        if (cause === Irq.MTI && h.priv !== Priv.M) {
          // The S-mode timer deadline (non-Sstc) passed: hand it to S-mode as STIP until the next set_timer.
          h.mie &= ~(1 << Irq.MTI);
          h.mipSw |= 1 << Irq.STI;
          h.stop = true;
          return true;
        }
        if (cause === Irq.MSI && h.priv !== Priv.M) {
          // An IPI from another hart's send_ipi (or our own): acknowledge it and pass it on as SSIP.
          this.clintWrite32(4 * h.mhartid, 0);
          h.mipSw |= 1 << Irq.SSI;
          h.stop = true;
          return true;
        }
      } else if (cause === Cause.EcallS && h.priv === Priv.S) {
        this.ecall(h);
        return true;
      }
    } catch (e) {
      // A bug in the firmware: report it as fatal rather than crash the emulator.
      this.fatal(h, cause, tval, interrupt, `firmware error: ${e instanceof Error ? e.message : String(e)}`);
      return true;
    }
    this.fatal(h, cause, tval, interrupt, 'unhandled trap');
    return true;
  }

  private fatal(h: Hart, cause: number, tval: bigint, interrupt: boolean, what: string): void {
    const known = interrupt ? IRQ_NAMES[cause] : CAUSE_NAMES[cause];
    const name = known === undefined ? 'unknown' : interrupt ? `${known} interrupt` : known;
    const priv = ['U', 'S', '?', 'M'][h.priv];
    const epc = h.pc;
    const message =
      `\nsalus-sbi: fatal: ${what} on hart ${h.mhartid} in ${priv}-mode\n` +
      `  mcause ${interrupt ? '(interrupt) ' : ''}${cause} (${name})\n` +
      `  mepc   ${hex(epc)}\n` +
      `  mtval  ${hex(tval)}\n` +
      `  ra ${hex(h.getX(1))}  sp ${hex(h.getX(2))}  a0 ${hex(h.getX(10))}  a7 ${hex(h.getX(17))}\n` +
      `  satp ${hex(h.satp)}  stvec ${hex(h.stvec)}  sepc ${hex(h.sepc)}  scause ${hex(h.scause)}\n`;
    try { this.opts.console.write(new TextEncoder().encode(message)); } catch { /* the report still goes out as an event */ }
    this.park(h, HART_STATE.STOPPED);
    this.opts.onEvent({ kind: 'fatal', hartid: h.mhartid, cause, interrupt, epc, tval, priv: h.priv, message });
  }

  // ---- SBI calls ----

  private ecall(h: Hart): void {
    const eid = h.x[34] >>> 0, fid = h.x[32] >>> 0; // a7, a6: 32-bit IDs
    const a = (i: number) => h.getX(10 + i);
    h.pc = h.pc + 4n; // resume after the ecall (its encoding is always 4 bytes)
    h.stop = true; // interrupt state may have changed: let the machine look again
    if (eid <= SBI_EXT.LEGACY_SHUTDOWN) { this.legacy(h, eid, a); return; }
    let ret: Ret;
    switch (eid) {
      case SBI_EXT.BASE: ret = this.base(h, fid, a(0)); break;
      case SBI_EXT.TIME: ret = fid === 0 ? this.setTimer(h, a(0)) : notSupported(); break;
      case SBI_EXT.IPI: ret = fid === 0 ? this.sendIpi(a(0), a(1)) : notSupported(); break;
      case SBI_EXT.RFENCE: ret = this.rfence(fid, a); break;
      case SBI_EXT.HSM: ret = this.hsm(h, fid, a); break;
      case SBI_EXT.SRST: ret = fid === 0 ? this.systemReset(a(0), a(1)) : notSupported(); break;
      case SBI_EXT.DBCN: ret = this.dbcn(fid, a); break;
      default: ret = notSupported();
    }
    if (ret === NO_RETURN) return; // the call does not return to the caller (hart_stop, reset, suspend resume)
    h.setX(10, BigInt(ret[0]));
    h.setX(11, ret[1]);
  }

  private base(h: Hart, fid: number, arg: bigint): [number, bigint] {
    switch (fid) {
      case 0: return ok(SBI_SPEC_VERSION);
      case 1: return ok(SBI_IMPL_ID);
      case 2: return ok(SBI_IMPL_VERSION);
      case 3: return ok(EXTENSIONS.includes(Number(arg & 0xffffffffn)) ? 1 : 0);
      case 4: return ok(readMachineCsr(h, CSR.mvendorid));
      case 5: return ok(readMachineCsr(h, CSR.marchid));
      case 6: return ok(readMachineCsr(h, CSR.mimpid));
      default: return notSupported();
    }
  }

  private setTimer(h: Hart, when: bigint): [number, bigint] {
    if (h.menvcfg & MENVCFG_STCE) {
      h.stimecmp = when;
      return ok(0);
    }
    if (!this.clintWrite64(0x4000 + 8 * h.mhartid, when)) return err(SBI_ERR.FAILED);
    h.mipSw &= ~(1 << Irq.STI);
    h.mie |= 1 << Irq.MTI;
    return ok(0);
  }

  /** Harts named by (hart_mask, hart_mask_base), or null if one of them does not exist. */
  private targets(mask: bigint, base: bigint): number[] | null {
    if (base === ALL_ONES) return this.harts.map((_, i) => i).filter((i) => this.isRunnable(i));
    const ids: number[] = [];
    for (let bit = 0; mask !== 0n; bit++, mask >>= 1n) {
      if (!(mask & 1n)) continue;
      const id = base + BigInt(bit);
      if (id >= BigInt(this.harts.length)) return null;
      ids.push(Number(id));
    }
    return ids;
  }

  private ipi(targets: number[]): void {
    for (const id of targets) {
      if (!this.clintWrite32(4 * id, 1)) {
        const t = this.harts[id]; // no CLINT: deliver the supervisor interrupt directly
        t.mipSw |= 1 << Irq.SSI;
        t.stop = true;
      }
    }
  }

  private sendIpi(mask: bigint, base: bigint): [number, bigint] {
    const t = this.targets(mask, base);
    if (!t) return err(SBI_ERR.INVALID_PARAM);
    this.ipi(t);
    return ok(0);
  }

  private fence(targets: number[], kind: 'i' | 'vma'): void {
    for (const id of targets) {
      const t = this.harts[id];
      if (kind === 'i') t.onFenceI();
      else { t.flushTlb(); t.onTranslationChange(); }
    }
  }

  private rfence(fid: number, a: (i: number) => bigint): [number, bigint] {
    if (fid > 2) return notSupported(); // the HFENCE functions need the H extension
    const t = this.targets(a(0), a(1));
    if (!t) return err(SBI_ERR.INVALID_PARAM);
    if (fid === 2 && a(4) > 0xffffn) return err(SBI_ERR.INVALID_PARAM); // ASIDs are at most 16 bits
    this.fence(t, fid === 0 ? 'i' : 'vma');
    return ok(0);
  }

  private hsm(h: Hart, fid: number, a: (i: number) => bigint): Ret {
    switch (fid) {
      case 0: { // hart_start(hartid, start_addr, opaque)
        const id = a(0);
        if (id >= BigInt(this.harts.length)) return err(SBI_ERR.INVALID_PARAM);
        const state = this.hartState(Number(id));
        if (state !== HART_STATE.STOPPED) return err(state === HART_STATE.START_PENDING ? SBI_ERR.ALREADY_STARTED : SBI_ERR.ALREADY_AVAILABLE);
        if (!this.executable(a(1))) return err(SBI_ERR.INVALID_ADDRESS);
        const t = this.harts[Number(id)];
        this.initHart(t);
        this.enterSupervisor(t, a(1), id, a(2));
        this.opts.onEvent({ kind: 'hart-started', hartid: Number(id) });
        return ok(0);
      }
      case 1: // hart_stop()
        this.park(h, HART_STATE.STOPPED);
        this.opts.onEvent({ kind: 'hart-stopped', hartid: h.mhartid });
        return NO_RETURN;
      case 2: { // hart_get_status(hartid)
        const id = a(0);
        if (id >= BigInt(this.harts.length)) return err(SBI_ERR.INVALID_PARAM);
        return ok(this.hartState(Number(id)));
      }
      case 3: { // hart_suspend(suspend_type, resume_addr, opaque)
        const type = Number(a(0) & 0xffffffffn);
        if (type === SUSPEND_RETENTIVE) {
          // Like WFI: return SUCCESS once an interrupt is pending (the machine clears `waiting` then).
          if ((readMip(h) & h.mie) === 0) {
            h.waiting = true;
            this.fw[h.mhartid].state = HART_STATE.SUSPENDED;
            this.fw[h.mhartid].suspended = true;
          }
          return ok(0);
        }
        if (type === SUSPEND_NON_RETENTIVE) {
          if (!this.executable(a(1))) return err(SBI_ERR.INVALID_ADDRESS);
          // Resume at resume_addr with the S-mode state the specification prescribes; the wait ends on any
          // pending enabled interrupt, which S-mode then sees with SIE clear.
          this.enterSupervisor(h, a(1), BigInt(h.mhartid), a(2));
          if ((readMip(h) & h.mie) === 0) {
            h.waiting = true;
            this.fw[h.mhartid].state = HART_STATE.SUSPENDED;
            this.fw[h.mhartid].suspended = true;
          }
          return NO_RETURN;
        }
        return err(SBI_ERR.INVALID_PARAM); // reserved, or platform-specific types we do not implement
      }
      default: return notSupported();
    }
  }

  /** Whether S-mode code could run at a physical address (it is in RAM). */
  private executable(addr: bigint): boolean {
    return addr <= BigInt(Number.MAX_SAFE_INTEGER) && this.bus.ramOffset(Number(addr), 4) >= 0 && (addr & 1n) === 0n;
  }

  private systemReset(typeArg: bigint, reasonArg: bigint): Ret {
    const type = Number(typeArg & 0xffffffffn), reason = Number(reasonArg & 0xffffffffn);
    if (type > RESET_WARM) return err(SBI_ERR.INVALID_PARAM);
    // Reasons: 0 none, 1 system failure, 0xE0000000.. implementation-specific, 0xF0000000.. vendor; the rest reserved.
    if (reason > 1 && reason < 0xe0000000) return err(SBI_ERR.INVALID_PARAM);
    for (const t of this.harts) this.park(t, HART_STATE.STOPPED);
    this.opts.onEvent(type === RESET_SHUTDOWN ? { kind: 'shutdown', reason } : { kind: 'reboot', warm: type === RESET_WARM, reason });
    return NO_RETURN;
  }

  /** A physical range [lo, lo+n) for the debug console, or null if it is not entirely RAM. */
  private dbcnRange(n: bigint, lo: bigint, hi: bigint): number | null {
    if (hi !== 0n || lo > BigInt(Number.MAX_SAFE_INTEGER) || n > BigInt(this.bus.ramSize)) return null;
    return this.bus.ramOffset(Number(lo), Number(n)) >= 0 ? Number(lo) : null;
  }

  private dbcn(fid: number, a: (i: number) => bigint): [number, bigint] {
    switch (fid) {
      case 0: { // console_write(num_bytes, base_addr_lo, base_addr_hi)
        const addr = this.dbcnRange(a(0), a(1), a(2));
        if (addr === null) return err(SBI_ERR.INVALID_PARAM);
        const n = Math.min(Number(a(0)), DBCN_MAX_WRITE);
        if (n > 0) this.opts.console.write(this.bus.readBytes(addr, n));
        return ok(n);
      }
      case 1: { // console_read(num_bytes, base_addr_lo, base_addr_hi)
        const addr = this.dbcnRange(a(0), a(1), a(2));
        if (addr === null) return err(SBI_ERR.INVALID_PARAM);
        const n = Number(a(0));
        const got = n > 0 ? this.opts.console.read(n).subarray(0, n) : new Uint8Array(0);
        if (got.length > 0) this.bus.writeBytes(addr, got);
        return ok(got.length);
      }
      case 2: // console_write_byte(byte)
        this.opts.console.write(Uint8Array.of(Number(a(0) & 0xffn)));
        return ok(0);
      default: return notSupported();
    }
  }

  // ---- Legacy extensions (SBI v0.1): the result is in a0 only ----

  private legacy(h: Hart, eid: number, a: (i: number) => bigint): void {
    let r: number;
    switch (eid) {
      case SBI_EXT.LEGACY_SET_TIMER: r = this.setTimer(h, a(0))[0]; break;
      case SBI_EXT.LEGACY_CONSOLE_PUTCHAR:
        this.opts.console.write(Uint8Array.of(Number(a(0) & 0xffn)));
        r = 0;
        break;
      case SBI_EXT.LEGACY_CONSOLE_GETCHAR: {
        const b = this.opts.console.read(1);
        r = b.length > 0 ? b[0] : -1;
        break;
      }
      case SBI_EXT.LEGACY_CLEAR_IPI:
        h.mipSw &= ~(1 << Irq.SSI);
        r = 0;
        break;
      case SBI_EXT.LEGACY_SEND_IPI:
      case SBI_EXT.LEGACY_REMOTE_FENCE_I:
      case SBI_EXT.LEGACY_REMOTE_SFENCE_VMA:
      case SBI_EXT.LEGACY_REMOTE_SFENCE_VMA_ASID: {
        const mask = this.legacyHartMask(h, a(0));
        if (mask === null) { r = SBI_ERR.INVALID_ADDRESS; break; }
        const t = this.targets(mask, 0n);
        if (!t) { r = SBI_ERR.INVALID_PARAM; break; }
        if (eid === SBI_EXT.LEGACY_SEND_IPI) this.ipi(t);
        else this.fence(t, eid === SBI_EXT.LEGACY_REMOTE_FENCE_I ? 'i' : 'vma');
        r = 0;
        break;
      }
      case SBI_EXT.LEGACY_SHUTDOWN:
        this.systemReset(BigInt(RESET_SHUTDOWN), 0n);
        return;
      default: r = SBI_ERR.NOT_SUPPORTED;
    }
    h.setX(10, BigInt(r));
  }

  /**
   * The hart mask of a legacy call: a pointer to an unsigned long in S-mode virtual memory, read with the
   * caller's translation and permissions. A null pointer means all harts. null if the read faults.
   */
  private legacyHartMask(h: Hart, va: bigint): bigint | null {
    if (va === 0n) return BigInt.asUintN(64, (1n << BigInt(this.harts.length)) - 1n);
    const saveCause = h.trapCause, saveTval = h.trapTval;
    try {
      const lo = load64(h, Number(va & 0xffffffffn) | 0, Number(va >> 32n) | 0);
      return (BigInt(out.hi >>> 0) << 32n) | BigInt(lo >>> 0);
    } catch (e) {
      if (e !== TRAP) throw e;
      return null;
    } finally {
      h.trapCause = saveCause; h.trapTval = saveTval;
    }
  }
}

const NO_RETURN = Symbol('no return');
/** (error, value), or NO_RETURN for calls that do not return to the caller. */
type Ret = [number, bigint] | typeof NO_RETURN;
const ok = (v: number | bigint): [number, bigint] => [SBI_ERR.SUCCESS, BigInt(v)];
const err = (e: number): [number, bigint] => [e, 0n];
const notSupported = (): [number, bigint] => err(SBI_ERR.NOT_SUPPORTED);

/** A machine-level CSR as M-mode would read it (the firmware runs "in M-mode" while the hart sits in S/U). */
function readMachineCsr(h: Hart, csr: number): bigint {
  const priv = h.priv;
  h.priv = Priv.M;
  try { return csrRead(h, csr, 0); } finally { h.priv = priv; }
}
