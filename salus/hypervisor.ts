// Salus: the HS-mode micro-hypervisor. The firmware starts it in HS-mode with a0 = hart id and a1 = the machine's
// device tree; it builds the host VM (G-stage tables in its own memory, a device tree without the H extension)
// and enters the host kernel in VS-mode. From then on every trap that reaches HS-mode lands in trap(): host SBI
// calls, guest-page faults, virtual instructions and HS interrupts, and (through the TSM) everything about TVMs.
//
// Salus acts only through what HS-mode software has: the hart's registers and CSRs, sret, hfence, physical memory
// (translation is off in HS-mode), the devices on the bus, and SBI calls to the M-mode firmware.
import type { Hart } from '../runtime/hart.js';
import { CSR, csrRead, csrWrite } from '../runtime/csr.js';
import { takeTrap, trapReturn } from '../runtime/privilege.js';
import { hfence } from '../runtime/isa/hypervisor.js';
import { Cause, Irq } from '../runtime/trap.js';
import { SBI_ERR, SBI_EXT, SBI_SPEC_VERSION, SBI_IMPL_ID, SBI_IMPL_VERSION, HART_STATE } from '../runtime/firmware/sbi.js';
import { FdtBuilder, FdtNode } from '../src/devicetree.js';
import { DtNode, parseFdt } from './fdt.js';
import { GStage, PhysMem, PAGE, MEGAPAGE, ROOT_BYTES, LEAF_RWX, LEAF_RW } from './gstage.js';
import { Page, PageMap } from './pages.js';

const MiB = 1 << 20;
/** Salus's own memory: the top of RAM. The boot device tree sits at its start, the page pool after it. */
export const SALUS_RESERVED = 8 * MiB;
export const SALUS_FDT_MAX = 64 * 1024;

const ALL_ONES = 0xffffffffffffffffn;
const DBCN_CHUNK = 1n << 16n;
const INTERRUPT = 1n << 63n;
const SSTATUS_SIE = 1n << 1n, SSTATUS_SPIE = 1n << 5n, SSTATUS_SPP = 1n << 8n, SSTATUS_FS_DIRTY = 3n << 13n;
const HSTATUS_SPV = 1n << 7n, HSTATUS_VTW = 1n << 21n;
const HVIP_VSSIP = 1n << 2n, HVIP_VSEIP = 1n << 10n;
const SIE_SEIE = 1n << 9n;
const ENVCFG_STCE = 1n << 63n;
const WFI = 0x10500073;
/** PLIC layout: interrupt enables per context (0x80 bytes each) from 0x2000, per-context registers from 0x200000. */
const PLIC_ENABLES = 0x2000, PLIC_CONTEXTS = 0x200000;
/** Exceptions the host handles itself: misaligned, access faults, illegal instruction, breakpoint, U ecall, page faults. */
const HEDELEG = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) |
  (1 << 12) | (1 << 13) | (1 << 15);
/** VS-level software, timer and external interrupts go straight to the guest. */
const HIDELEG = (1 << Irq.VSSI) | (1 << Irq.VSTI) | (1 << Irq.VSEI);
/** A guest-page fault on a fetch, load or store becomes the corresponding access fault when injected. */
const ACCESS_FAULT: Record<number, number> = { 20: Cause.FetchAccess, 21: Cause.LoadAccess, 23: Cause.StoreAccess };

export const EXIT_NAMES: Record<string, string> = {
  e10: 'ecall', e20: 'fetch guest-page fault', e21: 'load guest-page fault', e23: 'store guest-page fault',
  e22: 'virtual instruction', i1: 'software interrupt', i5: 'timer interrupt', i9: 'external interrupt',
};

/** SBI result: error and value, or null when the call does not return to the caller. */
export type SbiResult = [number, bigint] | null;
export const sbiOk = (v: number | bigint = 0n): [number, bigint] => [SBI_ERR.SUCCESS, BigInt(v)];
export const sbiErr = (e: number): [number, bigint] => [e, 0n];

/** What Salus needs from the machine besides the hart: where to report that it had to stop. */
export interface SalusOptions {
  onFatal: (message: string) => void;
}

/** Handler for SBI extensions a component adds to Salus (the TSM's COVH, NACL and SUPD). */
export interface SbiExtension {
  readonly eids: readonly number[];
  call(eid: number, fid: number, args: bigint[]): SbiResult;
}

/** The host kernel and initrd the loader put in RAM, named in the boot device tree's /chosen. */
interface HostImages { kernelStart: number; kernelEnd: number; entry: number; initrd?: { start: number; end: number }; bootargs?: string }

export class Salus {
  readonly mem: PhysMem;
  pages!: PageMap;
  host!: GStage;
  readonly stats = { exits: new Map<string, number>(), ms: 0 };
  /** SBI extensions added by other components, by EID. */
  private readonly extensions = new Map<number, SbiExtension>();
  /** Handles traps while a TVM runs instead of the host path (set by the TSM). */
  guestTrapHandler: ((scause: bigint) => boolean) | null = null;
  private pool: number[] = [];
  private salusBase = 0;
  private hostFdt = 0;
  /** The PLIC and this hart's supervisor context number, when there is one: Salus forwards its interrupts. */
  private plic: { base: number; context: number } | null = null;

  constructor(readonly h: Hart, private readonly opts: SalusOptions) {
    this.mem = new PhysMem(h.bus);
    h.hypervisorTrapHandler = () => this.trap();
  }

  addExtension(ext: SbiExtension): void {
    for (const eid of ext.eids) this.extensions.set(eid, ext);
  }

  // ---- Architectural access ----

  csr(n: number): bigint { return csrRead(this.h, n, 0); }
  setCsr(n: number, v: bigint): void { csrWrite(this.h, n, v, 0); }
  /** hfence.gvma: after any change to G-stage tables. */
  fenceGuest(): void { hfence(this.h, 1, 0); }

  /** A zeroed page from Salus's pool, or null when it is exhausted. */
  allocPage(): number | null {
    const p = this.pool.pop();
    if (p === undefined) return null;
    this.mem.zero(p, PAGE);
    return p;
  }

  /** n contiguous zeroed pages aligned to `align` bytes, from the pool. */
  private allocContiguous(n: number, align: number): number {
    this.pool.sort((a, b) => b - a);
    const free = new Set(this.pool);
    for (const p of [...this.pool].reverse()) {
      if (p % align !== 0) continue;
      let k = 0;
      while (k < n && free.has(p + k * PAGE)) k++;
      if (k === n) {
        this.pool = this.pool.filter((q) => q < p || q >= p + n * PAGE);
        this.mem.zero(p, n * PAGE);
        return p;
      }
    }
    throw new Error('out of hypervisor memory');
  }

  // ---- Boot ----

  /** Start on a hart the firmware handed over in HS-mode (a0 = hart id, a1 = device tree). */
  start(): void {
    const h = this.h;
    try {
      if (!h.hext || h.priv !== 1 || h.virt) throw new Error('Salus must be started in HS-mode on a hart with the H extension');
      const fdtAddr = Number(h.getX(11));
      const header = this.mem.read(fdtAddr, 8);
      const size = new DataView(header.buffer).getUint32(4);
      if (size > SALUS_FDT_MAX) throw new Error(`boot device tree is ${size} bytes, more than ${SALUS_FDT_MAX}`);
      const root = parseFdt(this.mem.read(fdtAddr, size));
      const images = this.setUpMemory(root, fdtAddr);
      this.setUpHost(root, images);
    } catch (e) {
      this.fail(`boot failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private setUpMemory(root: DtNode, fdtAddr: number): HostImages {
    const memNode = root.childrenNamed('memory')[0];
    const ram = memNode?.reg()[0];
    if (!ram) throw new Error('no memory node in the device tree');
    const ramBase = Number(ram.address), ramEnd = Number(ram.address + ram.size);
    this.salusBase = ramEnd - SALUS_RESERVED;
    if (this.salusBase <= ramBase + 4 * MiB) throw new Error('RAM too small for Salus and a host');
    if (fdtAddr < this.salusBase || fdtAddr >= this.salusBase + SALUS_FDT_MAX) {
      throw new Error(`the boot device tree at 0x${fdtAddr.toString(16)} is not where Salus's memory begins`);
    }
    this.pages = new PageMap(ramBase, ramEnd - ramBase);
    for (let pa = this.salusBase; pa < ramEnd; pa += PAGE) {
      this.pages.set(this.pages.index(pa), Page.Hypervisor);
      if (pa >= this.salusBase + SALUS_FDT_MAX) this.pool.push(pa);
    }
    const chosen = root.child('chosen');
    const k = chosen?.numbers('salus,kernel', 2) ?? [];
    if (k.length !== 3) throw new Error('/chosen has no salus,kernel <start end entry>');
    const [start, end] = chosen!.numbers('linux,initrd-start', 2).concat(chosen!.numbers('linux,initrd-end', 2));
    const images: HostImages = {
      kernelStart: Number(k[0]), kernelEnd: Number(k[1]), entry: Number(k[2]), bootargs: chosen!.str('bootargs'),
      initrd: start !== undefined && end !== undefined ? { start: Number(start), end: Number(end) } : undefined,
    };
    const inHost = (a: number, b: number) => a >= ramBase && b <= this.salusBase && a <= b;
    if (!inHost(images.kernelStart, images.kernelEnd) || !inHost(images.entry, images.entry)) throw new Error('host kernel outside host RAM');
    if (images.initrd && !inHost(images.initrd.start, images.initrd.end)) throw new Error('initrd outside host RAM');
    return images;
  }

  private setUpHost(root: DtNode, images: HostImages): void {
    const h = this.h;
    // G-stage: host RAM at the same addresses (GPA = HPA), the devices the host may use, the PLIC minus the
    // supervisor context page of this hart, which Salus emulates to forward external interrupts.
    this.host = new GStage(this.mem, this.allocContiguous(ROOT_BYTES / PAGE, ROOT_BYTES), () => this.allocPage());
    const ramBase = this.pages.base;
    this.mapRange(this.host, ramBase, this.salusBase - ramBase, LEAF_RWX);
    const soc = root.child('soc');
    for (const dev of soc?.children ?? []) {
      if (dev.compatible('riscv,clint0')) continue; // machine-level timer and IPIs: Salus's and the firmware's
      if (dev.compatible('riscv,plic0')) {
        // Priorities and pending bits directly; the enable page and this hart's S-mode context through Salus,
        // which keeps the host to its own context; the other contexts (M-mode's) not at all.
        const base = Number(dev.reg()[0].address);
        this.mapRange(this.host, base, PLIC_ENABLES, LEAF_RW);
        const context = this.plicSupervisorContext(root, dev);
        if (context >= 0) this.plic = { base, context };
        continue;
      }
      for (const r of dev.reg()) this.mapRange(this.host, Number(r.address), Math.ceil(Number(r.size) / PAGE) * PAGE, LEAF_RW);
    }
    // Devices reach only host memory by DMA: never Salus's pages nor, later, confidential ones.
    this.h.bus.dmaAllowed = (pa, len) => this.pages.hostOwns(pa, len);

    // The host's device tree, where a loader would put it: the last 2 MiB-aligned slot of host RAM.
    const fdt = this.hostDeviceTree(root, ramBase);
    this.hostFdt = Math.floor((this.salusBase - SALUS_FDT_MAX) / (2 * MiB)) * 2 * MiB;
    const overlaps = (a: number, b: number) => a < this.hostFdt + fdt.length && this.hostFdt < b;
    if (overlaps(images.kernelStart, images.kernelEnd) || (images.initrd && overlaps(images.initrd.start, images.initrd.end))) {
      throw new Error('no room for the host device tree above the kernel and initrd');
    }
    this.mem.write(this.hostFdt, fdt);

    // Delegation and the host's view of the hart.
    this.setCsr(CSR.hedeleg, BigInt(HEDELEG));
    this.setCsr(CSR.hideleg, BigInt(HIDELEG));
    this.setCsr(CSR.hie, BigInt(HIDELEG));
    this.setCsr(CSR.hcounteren, 7n);
    this.setCsr(CSR.henvcfg, ENVCFG_STCE);
    this.setCsr(CSR.htimedelta, 0n);
    this.setCsr(CSR.vstimecmp, ALL_ONES);
    this.setCsr(CSR.hstatus, HSTATUS_VTW);
    this.setCsr(CSR.sie, SIE_SEIE);
    this.setCsr(CSR.stvec, BigInt(this.salusBase));
    this.setCsr(CSR.vsstatus, SSTATUS_FS_DIRTY);
    this.setCsr(CSR.vsatp, 0n);
    this.setCsr(CSR.hgatp, this.host.hgatp(0));
    this.fenceGuest();

    // Enter the host kernel in VS-mode: a0 = hart id, a1 = device tree.
    h.setX(10, BigInt(h.mhartid));
    h.setX(11, BigInt(this.hostFdt));
    this.enterGuest(BigInt(images.entry));
  }

  /** Map [gpa, gpa+len) at the same host addresses, with 2 MiB leaves where alignment allows. */
  mapRange(g: GStage, gpa: number, len: number, flags: number): void {
    for (let a = gpa; a < gpa + len;) {
      const size = a % MEGAPAGE === 0 && a + MEGAPAGE <= gpa + len ? MEGAPAGE : PAGE;
      if (!g.map(a, a, size, flags)) throw new Error('out of hypervisor memory for G-stage tables');
      a += size;
    }
  }

  /** The PLIC context of this hart's supervisor mode (its interrupts-extended entry with cause 9), or -1. */
  private plicSupervisorContext(root: DtNode, plic: DtNode): number {
    const cpu = root.child('cpus')?.childrenNamed('cpu').find((c) => c.u32('reg') === this.h.mhartid);
    const intc = cpu?.child('interrupt-controller')?.u32('phandle');
    const cells = plic.numbers('interrupts-extended', 1).map(Number);
    for (let ctx = 0; 2 * ctx + 1 < cells.length; ctx++) {
      if (cells[2 * ctx] === intc && cells[2 * ctx + 1] === Irq.SEI) return ctx;
    }
    return -1;
  }

  /** The machine's tree, minus what the host must not see: the H extension, Salus's memory, the CLINT. */
  private hostDeviceTree(root: DtNode, ramBase: number): Uint8Array {
    const fdt = new FdtBuilder();
    const copy = (from: DtNode, to: FdtNode) => {
      for (const [name, value] of from.props) {
        if (name.startsWith('salus,')) continue;
        to.set(name, value);
      }
      for (const c of from.children) {
        if (c.compatible('riscv,clint0')) continue;
        const n = to.node(c.name);
        copy(c, n);
        if (c.name.split('@')[0] === 'memory') n.u64('reg', ramBase, this.salusBase - ramBase);
        const isa = c.str('riscv,isa');
        if (isa !== undefined) n.str('riscv,isa', withoutH(isa));
      }
    };
    copy(root, fdt.root);
    return fdt.build();
  }

  // ---- Entering and leaving guests ----

  /** sret into VS-mode at pc (the caller set up hgatp and the guest's registers). */
  enterGuest(pc: bigint): void {
    this.setCsr(CSR.sepc, pc);
    this.setCsr(CSR.sstatus, this.csr(CSR.sstatus) | SSTATUS_SPP);
    this.setCsr(CSR.hstatus, this.csr(CSR.hstatus) | HSTATUS_SPV);
    trapReturn(this.h, false);
    this.h.stop = true;
  }

  /** Deliver an exception to the guest's own (VS-mode) trap handler, as if it had been delegated. */
  inject(cause: number, tval: bigint): void {
    const s = this.csr(CSR.sstatus), vs = this.csr(CSR.vsstatus);
    if (this.csr(CSR.sepc) === (this.csr(CSR.vstvec) & ~3n)) {
      // The trap handler itself faults: it would loop here forever (the TSM ends a TVM vCPU before this).
      this.fail(`the host faults in its own trap handler at 0x${this.csr(CSR.sepc).toString(16)} (cause ${cause}, tval 0x${tval.toString(16)})`);
      return;
    }
    this.setCsr(CSR.vsepc, this.csr(CSR.sepc));
    this.setCsr(CSR.vscause, BigInt(cause));
    this.setCsr(CSR.vstval, tval);
    let next = vs & ~(SSTATUS_SPP | SSTATUS_SPIE | SSTATUS_SIE);
    if (vs & SSTATUS_SIE) next |= SSTATUS_SPIE;
    if (s & SSTATUS_SPP) next |= SSTATUS_SPP;
    this.setCsr(CSR.vsstatus, next);
    this.enterGuest(this.csr(CSR.vstvec) & ~3n);
  }

  private fail(message: string): void {
    this.h.mie = 0;
    this.h.waiting = true;
    this.h.stop = true;
    this.opts.onFatal(`salus: ${message}`);
  }

  // ---- Trap handling ----

  private trap(): void {
    const t0 = performance.now();
    try {
      const scause = this.csr(CSR.scause);
      const key = (scause & INTERRUPT ? 'i' : 'e') + Number(scause & 0xffn);
      this.stats.exits.set(key, (this.stats.exits.get(key) ?? 0) + 1);
      if (this.guestTrapHandler?.(scause)) return;
      if (scause & INTERRUPT) this.hostInterrupt(Number(scause & 0xffn));
      else this.hostException(Number(scause));
    } catch (e) {
      this.fail(`internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    } finally {
      this.stats.ms += performance.now() - t0;
    }
  }

  /** Return to the interrupted guest instruction (sepc unchanged). */
  private resume(): void { this.enterGuest(this.csr(CSR.sepc)); }

  private hostInterrupt(irq: number): void {
    if (irq === Irq.SEI) this.syncExternalInterrupt();
    else if (irq === Irq.STI) this.setCsr(CSR.stimecmp, ALL_ONES); // Salus arms no timer of its own
    else if (irq === Irq.SSI) this.setCsr(CSR.sip, this.csr(CSR.sip) & ~2n);
    this.resume();
  }

  /**
   * The host sees the PLIC's supervisor interrupt as its VS external interrupt. While it is injected, Salus masks
   * its own SEIE (the line stays high until the host claims); every claim or complete it emulates re-syncs both.
   */
  syncExternalInterrupt(): void {
    const pending = (this.csr(CSR.sip) & SIE_SEIE) !== 0n;
    const hvip = this.csr(CSR.hvip);
    this.setCsr(CSR.hvip, pending ? hvip | HVIP_VSEIP : hvip & ~HVIP_VSEIP);
    const sie = this.csr(CSR.sie);
    this.setCsr(CSR.sie, pending ? sie & ~SIE_SEIE : sie | SIE_SEIE);
  }

  private hostException(cause: number): void {
    switch (cause) {
      case Cause.EcallVS: this.hostEcall(); return;
      case 20: case 21: case 23: this.hostGuestPageFault(cause); return;
      case Cause.VirtualInstruction: this.virtualInstruction(); return;
      default: this.inject(cause, this.csr(CSR.stval));
    }
  }

  /** Faulting guest physical address of a guest-page fault. */
  faultGpa(): number {
    return Number((this.csr(CSR.htval) << 2n) | (this.csr(CSR.stval) & 3n));
  }

  private hostGuestPageFault(cause: number): void {
    const gpa = this.faultGpa();
    const p = this.plic;
    if (p) {
      const within = (start: number, len: number) => gpa >= start && gpa < start + len;
      const enablePage = within(p.base + PLIC_ENABLES, PAGE);
      if (enablePage || within(p.base + PLIC_CONTEXTS + p.context * PAGE, PAGE)) {
        // Other contexts' enable words read as zero and ignore writes.
        const next = this.emulateMmio(gpa, !enablePage || within(p.base + PLIC_ENABLES + 0x80 * p.context, 0x80));
        if (next !== null) { this.syncExternalInterrupt(); this.enterGuest(next); return; }
      }
    }
    // Outside what the host may use (Salus's memory, confidential pages, holes): an access fault for the host.
    this.inject(ACCESS_FAULT[cause], this.csr(CSR.stval));
  }

  /**
   * Perform a trapped load or store on the real device, decoding htinst (the transformed instruction). Returns
   * the pc after the instruction, or null if the access cannot be emulated.
   */
  private emulateMmio(gpa: number, allowed: boolean): bigint | null {
    const tinst = Number(this.csr(CSR.htinst));
    // Bit 1 is clear when the trapping instruction was compressed (the spec's transformed-instruction encoding).
    const opcode = (tinst | 2) & 0x7f, funct3 = (tinst >>> 12) & 7, width = 1 << (funct3 & 3);
    const dev = this.h.bus.device(gpa);
    if (!dev || (opcode !== 0x03 && opcode !== 0x23) || width > 4 || gpa % width !== 0) return null;
    const h = this.h;
    if (opcode === 0x03) {
      h.setX((tinst >>> 7) & 31, loadResult(funct3, BigInt(allowed ? dev.read(gpa - dev.base, width) : 0)));
    } else if (allowed) {
      dev.write(gpa - dev.base, width, Number(h.getX((tinst >>> 20) & 31) & 0xffffffffn) | 0);
    }
    return this.csr(CSR.sepc) + ((tinst & 2) ? 4n : 2n);
  }

  private virtualInstruction(): void {
    const insn = Number(this.csr(CSR.stval) & 0xffffffffn);
    if (insn !== WFI) { this.inject(Cause.IllegalInstruction, BigInt(insn)); return; }
    // WFI: the hart idles until an interrupt is pending, then the host continues after the wfi.
    this.enterGuest(this.csr(CSR.sepc) + 4n);
    this.h.waiting = true;
  }

  // ---- SBI for the host ----

  private hostEcall(): void {
    const { eid, fid, args } = sbiCallOf(this.h);
    this.setCsr(CSR.sepc, this.csr(CSR.sepc) + 4n);
    const r = this.hostSbi(eid, fid, args);
    if (r === null) return; // the call did not return (hart stopped, system reset): the hart is parked
    setSbiResult(this.h, r, eid <= SBI_EXT.LEGACY_SHUTDOWN);
    this.resume();
  }

  private hostSbi(eid: number, fid: number, a: bigint[]): SbiResult {
    const ext = this.extensions.get(eid);
    if (ext) return ext.call(eid, fid, a);
    switch (eid) {
      case SBI_EXT.LEGACY_SET_TIMER: return this.setTimer(a[0]);
      case SBI_EXT.LEGACY_CONSOLE_PUTCHAR: case SBI_EXT.LEGACY_CONSOLE_GETCHAR: case SBI_EXT.LEGACY_SHUTDOWN:
        return this.firmware(eid, fid, a);
      case SBI_EXT.LEGACY_CLEAR_IPI:
        this.setCsr(CSR.hvip, this.csr(CSR.hvip) & ~HVIP_VSSIP);
        return sbiOk();
      case SBI_EXT.BASE: return this.base(fid, a[0]);
      case SBI_EXT.TIME: return fid === 0 ? this.setTimer(a[0]) : sbiErr(SBI_ERR.NOT_SUPPORTED);
      case SBI_EXT.IPI:
        if (fid !== 0) return sbiErr(SBI_ERR.NOT_SUPPORTED);
        if (!this.targetsThisHart(a[0], a[1])) return sbiErr(SBI_ERR.INVALID_PARAM);
        if (a[0] !== 0n || a[1] === ALL_ONES) this.setCsr(CSR.hvip, this.csr(CSR.hvip) | HVIP_VSSIP);
        return sbiOk();
      case SBI_EXT.RFENCE:
        if (fid > 2) return sbiErr(SBI_ERR.NOT_SUPPORTED); // HFENCE calls: the host has no H extension
        if (!this.targetsThisHart(a[0], a[1])) return sbiErr(SBI_ERR.INVALID_PARAM);
        if (fid === 0) this.h.onFenceI();
        else hfence(this.h, 0, 0); // the host's sfence.vma is an hfence.vvma here
        return sbiOk();
      case SBI_EXT.HSM: return this.hsm(fid, a);
      case SBI_EXT.SRST: return this.firmware(eid, fid, a);
      case SBI_EXT.DBCN: {
        if (fid === 0 || fid === 1) {
          // The firmware reads or writes the buffer at its physical address: only host memory may be named. A
          // long call moves at most DBCN_CHUNK bytes (the caller sees how many and goes on).
          const n = a[0] < DBCN_CHUNK ? Number(a[0]) : Number(DBCN_CHUNK);
          if (a[2] !== 0n || a[1] > BigInt(Number.MAX_SAFE_INTEGER) || !this.pages.hostOwns(Number(a[1]), n)) return sbiErr(SBI_ERR.INVALID_PARAM);
          return this.firmware(eid, fid, [BigInt(n), a[1], a[2]]);
        }
        return this.firmware(eid, fid, a);
      }
      default: return sbiErr(SBI_ERR.NOT_SUPPORTED);
    }
  }

  private base(fid: number, arg: bigint): SbiResult {
    switch (fid) {
      case 0: return sbiOk(SBI_SPEC_VERSION);
      case 1: return sbiOk(SBI_IMPL_ID);
      case 2: return sbiOk(SBI_IMPL_VERSION);
      case 3: {
        const eid = Number(arg & 0xffffffffn);
        const own: number[] = [SBI_EXT.BASE, SBI_EXT.TIME, SBI_EXT.IPI, SBI_EXT.RFENCE, SBI_EXT.HSM, SBI_EXT.SRST, SBI_EXT.DBCN, 0, 1, 2, 3, 8];
        return sbiOk(own.includes(eid) || this.extensions.has(eid) ? 1 : 0);
      }
      default: return this.firmware(SBI_EXT.BASE, fid, [arg]); // machine IDs: only M-mode can read them
    }
  }

  private setTimer(when: bigint): SbiResult {
    this.setCsr(CSR.vstimecmp, when);
    return sbiOk();
  }

  /** Whether (hart_mask, hart_mask_base) names only harts that exist (this one). */
  private targetsThisHart(mask: bigint, base: bigint): boolean {
    if (base === ALL_ONES) return true;
    const id = BigInt(this.h.mhartid);
    if (mask === 0n) return true;
    return base <= id && (mask >> (id - base)) === 1n;
  }

  private hsm(fid: number, a: bigint[]): SbiResult {
    const self = BigInt(this.h.mhartid);
    switch (fid) {
      case 0: return sbiErr(a[0] === self ? SBI_ERR.ALREADY_AVAILABLE : SBI_ERR.INVALID_PARAM);
      case 1: return this.firmware(SBI_EXT.HSM, 1, a);
      case 2: return a[0] === self ? sbiOk(HART_STATE.STARTED) : sbiErr(SBI_ERR.INVALID_PARAM);
      case 3: {
        const type = a[0] & 0xffffffffn;
        if (type === 0x80000000n) return sbiErr(SBI_ERR.NOT_SUPPORTED); // default non-retentive: not offered
        if (type !== 0n) return sbiErr(SBI_ERR.INVALID_PARAM);
        this.h.waiting = true; // default retentive: like WFI
        return sbiOk();
      }
      default: return sbiErr(SBI_ERR.NOT_SUPPORTED);
    }
  }

  /**
   * An SBI call from Salus to the M-mode firmware: an ecall from HS-mode with the arguments in a0..a7, and the
   * guest's registers restored afterwards.
   */
  firmware(eid: number, fid: number, args: bigint[]): SbiResult {
    const h = this.h;
    const saved = [10, 11, 12, 13, 14, 15, 16, 17].map((r) => h.getX(r));
    const pc = h.pc;
    args.slice(0, 6).forEach((v, i) => h.setX(10 + i, v));
    h.setX(16, BigInt(fid));
    h.setX(17, BigInt(eid));
    takeTrap(h, Cause.EcallS, 0n, false);
    const parked = h.waiting && h.mie === 0;
    const r: [number, bigint] = [Number(BigInt.asIntN(64, h.getX(10))), h.getX(11)];
    saved.forEach((v, i) => h.setX(10 + i, v));
    h.pc = pc;
    return parked ? null : r;
  }

  /** Lines for --stats: exits by cause and the time spent in Salus. */
  statsReport(): string {
    const exits = [...this.stats.exits].sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${EXIT_NAMES[k] ?? k} ${n}`).join(', ');
    const total = [...this.stats.exits.values()].reduce((s, n) => s + n, 0);
    return `salus exits ${total}${exits ? ` (${exits})` : ''}, salus ms ${this.stats.ms.toFixed(1)}`;
  }
}

/** The SBI call an ecall makes: extension and function IDs (a7, a6: 32 bits) and the arguments a0..a5. */
export function sbiCallOf(h: Hart): { eid: number; fid: number; args: bigint[] } {
  return {
    eid: Number(h.getX(17) & 0xffffffffn), fid: Number(h.getX(16) & 0xffffffffn),
    args: [10, 11, 12, 13, 14, 15].map((r) => h.getX(r)),
  };
}

/** Return an SBI result in a0 (error) and a1 (value); legacy calls return a0 only. */
export function setSbiResult(h: Hart, r: [number, bigint], legacy = false): void {
  h.setX(10, BigInt.asUintN(64, BigInt(r[0])));
  if (!legacy) h.setX(11, r[1]);
}

/** A load's result as it lands in rd: `raw` sign-extended (funct3 0-2) or zero-extended (4-6) from its width. */
export function loadResult(funct3: number, raw: bigint): bigint {
  const bits = 8 << (funct3 & 3);
  return BigInt.asUintN(64, funct3 < 4 ? BigInt.asIntN(bits, raw) : BigInt.asUintN(bits, raw));
}

/** An ISA string without the H extension (single letter h before the first multi-letter extension). */
export function withoutH(isa: string): string {
  const [base, ...rest] = isa.split('_');
  return [base.slice(0, 4) + base.slice(4).replace('h', ''), ...rest].join('_');
}
