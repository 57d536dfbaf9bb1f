// Isolation fuzzing of the TSM. A machine boots Salus with a host "kernel" that is only `1: ecall; j 1b`; the
// fuzzer plays that host, loading a0..a7 before each ecall with random COVH calls (mostly plausible arguments,
// sometimes garbage). run_tvm_vcpu enters a real TVM whose measured image loops on ecall; the fuzzer plays the
// guest as well, loading random COVG calls (and loads, stores, WFI, forwarded ecalls) before each of its ecalls.
// After every COVH and COVG call the invariants are recomputed from the page map and from the G-stage tables
// as they are in memory (walked here, not through Salus's own walker):
//   1. every RAM page has one owner: the host, Salus, or one TVM (a confidential page is in one TVM's tables
//      once, as a table or as a leaf, and its page-map owner is that TVM);
//   2. the host's G-stage maps only pages in the host state, and nothing of Salus's memory;
//   3. a page that comes back to the host state is all zero at that moment;
//   4. a TVM's G-stage maps no page of Salus's memory or of another TVM; its shared mappings are host pages;
// and the host gets control back after each call with its registers intact, under its own G-stage, a TVM runs
// only under its own Sv39x4 tables, there is no Salus fatal error and no exception escapes to Node. Zero pages
// handed to a TVM are zero. The last tests break the TSM on purpose to show that the checks can fail.
//
// The hart is stepped one instruction (or trap) at a time; a clock that ticks per step drives the timers, so a
// seed replays exactly. Before each run_tvm_vcpu the host arms its timer, so a TVM that never gives the hart
// back is a failure. A failure prints the seed, the call number and the last calls.
// TSM_FUZZ_SEED and TSM_FUZZ_CALLS override the seed and the number of calls of the main run.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Machine, VIRT } from '../src/machine.js';
import { bootLinux } from '../src/boot.js';
import { EID, Tsm } from '../salus/tsm.js';
import { Salus, SALUS_RESERVED } from '../salus/hypervisor.js';
import { PAGE_STATE_NAMES } from '../salus/pages.js';
import { pendingInterrupt, takeTrap } from '../runtime/privilege.js';
import { Asm, enc } from './asm.js';

const MiB = 1 << 20;
const PAGE = 4096;
const ALL_ONES = 0xffffffffffffffffn;
const MEM = 32 * MiB;
const RAM = VIRT.ramBase;
const SALUS_BASE = RAM + MEM - SALUS_RESERVED;
/** Host memory the fuzzing host uses: its NACL area, a parameter page, the measured image, the donation pool. */
const SHMEM = RAM + 3 * MiB;
const PARAMS = SHMEM + 0x3000;
const IMAGE = SHMEM + 0x10000;
const IMAGE_PAGES = 8;
const POOL = RAM + 4 * MiB;
const POOL_PAGES = 1024;
/** A 2 MiB block the host converts and donates as one 2 MiB page. */
const HUGE = RAM + 8 * MiB;
/** Where every TVM's measured image starts. */
const GUEST = 0x80000000;
const GPA_LIMIT = 2 ** 41;
/** NACL shared-memory offsets (ABI digest 3.2). */
const SHM_A0 = 0x50, SHM_A1 = 0x58, SHM_HTVAL = 0x1a18;
const EID_TIME = 0x54494d45, EID_DBCN = 0x4442434e;
/** Ticks of the fuzzer's clock (one per instruction or trap) a TVM may run before the host's timer preempts it. */
const SLICE = 200n;
/** Page states (salus/pages.ts). */
const HOST = 0, HYP = 1, CONVERTING = 2, CONVERTED = 3, INTERNAL = 4, MAPPED = 5, BLOCKED = 6;
const V = 1;
const T0 = 5, T1 = 6, T2 = 7;

const hex = (v: number | bigint) => `0x${v.toString(16)}`;
const ECALL = 0x00000073, WFI = 0x10500073, SRET = 0x10200073, CSR_STVEC = 0x105, CSR_SEPC = 0x141;
const lw = (rd: number, rs1: number) => ((rs1 << 15) | (2 << 12) | (rd << 7) | 0x03) >>> 0;

/** The guest: set the trap vector (a handler that goes back to the loop), then loop on ecall. */
const guest = new Asm()
  .la(T0, 'handler').raw(enc.csrrw(0, CSR_STVEC, T0))
  .label('loop').raw(ECALL).jal(0, 'loop')
  .label('load').raw(enc.ld(T2, T1, 0)).jal(0, 'loop')
  .label('store').raw(enc.sd(T2, T1, 0)).jal(0, 'loop')
  .label('loadw').raw(lw(T2, T1)).jal(0, 'loop')
  .label('wfi').raw(WFI).jal(0, 'loop')
  .label('spin').jal(0, 'spin')
  .label('handler').la(T0, 'loop').raw(enc.csrrw(0, CSR_SEPC, T0)).raw(SRET);
const AT = Object.fromEntries(['loop', 'load', 'store', 'loadw', 'wfi', 'spin'].map((l) => [l, GUEST + guest.offsetOf(l)]));
const GUEST_CODE = guest.assemble(GUEST);

/** mulberry32: small, fast and seedable. */
class Rng {
  constructor(private s: number) {}
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number { return Math.floor(this.next() * n); }
  chance(p: number): boolean { return this.next() < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
  u32(): number { return (this.next() * 4294967296) >>> 0; }
  u64(): bigint { return (BigInt(this.u32()) << 32n) | BigInt(this.u32()); }
  weighted<T>(choices: [T, number][]): T {
    let total = 0;
    for (const [, w] of choices) total += w;
    let r = this.next() * total;
    for (const [c, w] of choices) if ((r -= w) < 0) return c;
    return choices[choices.length - 1][0];
  }
}

class Violation extends Error {}

interface Leaf { gpa: number; pa: number; size: number; flags: number }
interface Walk { tables: number[]; leaves: Leaf[]; bad: string[] }

interface Counter { calls: number; ok: number }
type Tvm = Tsm['tvms'] extends Map<number, infer T> ? T : never;

interface FuzzResult {
  covh: Map<number, Counter>;
  covg: Map<number, Counter>;
  total: number;
  tvmsCreated: number;
  runs: number;
  exits: Map<string, number>;
}

const hasGuestRegion = (t: Tvm) => t.regions.some((r) => r.gpa <= GUEST && GUEST < r.gpa + r.len);
/** A runnable TVM whose boot vCPU can still run. */
const healthy = (t: Tvm) => t.runnable && t.vcpus.get(0)?.dead === false;
/** An initializing TVM with its boot vCPU and the first image page: what a host would finalize. */
const readyToFinalize = (t: Tvm) => !t.runnable && t.vcpus.has(0) && t.gstage.leaf(GUEST) !== null;

/** How a test breaks the TSM on purpose (to see the checks fail). */
type Sabotage = (tsm: Tsm, salus: Salus) => void;

class Fuzzer {
  readonly m: Machine;
  readonly salus: Salus;
  readonly tsm: Tsm;
  private readonly rng: Rng;
  private readonly h: Machine['hart'];
  private readonly u32: Uint32Array;
  private readonly kernel: number;
  private readonly hostHgatp: bigint;
  private readonly pageCount: number;
  private readonly salusFirst: number;
  private clock = 0n;
  private fatal: string | null = null;
  // Invariant state: page states at the last check, and scratch arrays.
  private readonly prev: Uint8Array;
  private readonly owner: Int32Array;
  private readonly hostMapped: Uint8Array;
  /** Each TVM's leaves at the last check (what the host and the guest know of its memory). */
  private leavesOf = new Map<number, Leaf[]>();
  // The host's registers outside a0..a7, which no call may change.
  private readonly hostRegs: bigint[] = [];
  private readonly hostFp: Int32Array;
  // Statistics.
  readonly covh = new Map<number, Counter>();
  readonly covg = new Map<number, Counter>();
  total = 0;
  tvmsCreated = 0;
  runs = 0;
  readonly exits = new Map<string, number>();
  private readonly history: string[] = [];
  private lastExit = new Map<number, { cause: bigint; gpa: number }>();
  /** The host's NACL area, or -1. */
  private shmem = -1;

  /** firstTvmId stands in for a host that has created (and destroyed) that many TVMs already. */
  constructor(readonly seed: number, sabotage?: Sabotage, firstTvmId?: number) {
    this.rng = new Rng(seed);
    const tmp = mkdtempSync(path.join(tmpdir(), 'tsm-fuzz-'));
    const kernelFile = path.join(tmp, 'host.bin');
    writeFileSync(kernelFile, new Asm().label('l').raw(ECALL).jal(0, 'l').assemble(0));
    this.m = new Machine({ memBytes: MEM });
    this.h = this.m.hart;
    // A clock that advances with every step the fuzzer takes (instruction or trap): runs are reproducible, and a
    // TVM caught in a trap loop is still preempted by the host's timer.
    this.h.readTime = () => this.clock;
    const booted = bootLinux(this.m, {
      mode: 'salus', kernel: kernelFile, kernelFormat: 'raw', bios: 'builtin', append: '',
      onSalusFatal: (msg) => { this.fatal = msg; },
      onEvent: (e) => { this.fatal = `unexpected firmware event ${JSON.stringify(e)}`; },
    });
    rmSync(tmp, { recursive: true, force: true });
    if (!booted.salus || !booted.tsm) throw new Error('no Salus');
    this.salus = booted.salus;
    this.tsm = booted.tsm;
    this.kernel = booted.kernel;
    if (this.fatal) throw new Error(this.fatal);
    this.hostHgatp = this.salus.host.hgatp(0);
    this.u32 = new Uint32Array(this.m.bus.ram);
    this.pageCount = this.salus.pages.count;
    this.salusFirst = (SALUS_BASE - RAM) / PAGE;
    this.prev = this.salus.pages.state.slice();
    this.owner = new Int32Array(this.pageCount);
    this.hostMapped = new Uint8Array(this.pageCount);
    this.expectHost(this.kernel);
    // The host's memory: recognisable data everywhere it will donate from, the guest image, its registers.
    for (let k = 0; k < POOL_PAGES; k++) this.hostFill(POOL + k * PAGE);
    for (let k = 0; k < 512; k++) this.hostFill(HUGE + k * PAGE);
    for (let k = 1; k < IMAGE_PAGES; k++) this.hostFill(IMAGE + k * PAGE);
    this.m.bus.writeBytes(IMAGE, GUEST_CODE);
    for (let r = 1; r < 32; r++) {
      this.hostRegs[r] = (BigInt(r) * 0x0101010101010101n) ^ 0x5a5a000000000000n;
      if (r < 10 || r > 17) this.h.setX(r, this.hostRegs[r]);
    }
    for (let i = 0; i < 64; i++) this.h.fi[i] = 0x3c000000 + i;
    this.hostFp = this.h.fi.slice();
    if (firstTvmId !== undefined) (this.tsm as unknown as { nextTvmId: number }).nextTvmId = firstTvmId;
    sabotage?.(this.tsm, this.salus);
    if (this.setShmem(BigInt(SHMEM)) !== 0) throw new Error('NACL set_shmem failed');
  }

  // ---- Failure reporting ----

  private fail(what: string): never {
    throw new Violation(`seed ${this.seed}, call #${this.total}: ${what}\nlast calls:\n  ${this.history.slice(-12).join('\n  ')}`);
  }

  private note(s: string): void {
    this.history.push(`#${this.total} ${s}`);
    if (this.history.length > 64) this.history.splice(0, 32);
  }

  // ---- Driving the hart ----

  /** One instruction or trap, with interrupts taken as the machine's run loop would. */
  private step(): void {
    const h = this.h;
    this.clock++;
    if (h.waiting) {
      if (pendingInterrupt(h) < 0) this.fail('the hart waits for an interrupt while a call is in progress');
      h.waiting = false;
    }
    const irq = pendingInterrupt(h);
    if (irq >= 0) takeTrap(h, irq, 0n, true);
    else {
      h.stop = false;
      this.m.engine.run(1);
    }
    if (this.fatal) this.fail(`Salus fatal error: ${this.fatal}`);
    // A TVM whose trap handler faults at its own address spins until the host's timer preempts it (the emulator's
    // trap-loop detector knows the armed HS timer will): never a stuck machine.
    if (h.stuck) this.fail(`hart stuck: ${h.stuck}`);
  }

  private inHost(): boolean { return this.h.virt && this.h.priv === 1 && this.h.hyp.hgatp === this.hostHgatp; }
  private inTvm(): boolean { return this.h.virt && this.h.hyp.hgatp !== this.hostHgatp; }

  private expectHost(pc: number): void {
    const h = this.h;
    if (!this.inHost()) this.fail(`the host does not have the hart (virt ${h.virt}, priv ${h.priv}, hgatp ${hex(h.hyp.hgatp)})`);
    if (h.pc !== BigInt(pc)) this.fail(`the host is at ${hex(h.pc)}, not ${hex(pc)}`);
  }

  /** An SBI call by the host; returns error and value. COVH calls are counted and checked. */
  private hostCall(eid: number, fid: number, args: bigint[]): [number, bigint] {
    const h = this.h;
    this.expectHost(this.kernel);
    const a = args.slice(0, 6).map((v) => BigInt.asUintN(64, v));
    while (a.length < 6) a.push(this.rng.chance(0.5) ? 0n : this.rng.u64()); // unused argument registers: junk
    a.forEach((v, i) => h.setX(10 + i, v));
    h.setX(16, BigInt(fid));
    h.setX(17, BigInt(eid));
    const covh = eid === EID.COVH;
    if (covh) { this.total++; this.note(`COVH ${fid}(${args.map(hex).join(', ')})`); }
    this.step();
    if (this.inTvm()) this.playGuest();
    this.expectHost(this.kernel + 4);
    const r: [number, bigint] = [Number(BigInt.asIntN(64, h.getX(10))), h.getX(11)];
    // Only a0 and a1 carry results: nothing else of the host changes, and nothing of a TVM shows.
    for (let x = 1; x < 32; x++) {
      if (x === 10 || x === 11) continue;
      const expected = x < 10 || x > 17 ? this.hostRegs[x] : x === 16 ? BigInt(fid) : x === 17 ? BigInt(eid) : a[x - 10];
      if (h.getX(x) !== expected) this.fail(`host x${x} changed across the call: ${hex(h.getX(x))}, not ${hex(expected)}`);
    }
    for (let i = 0; i < 64; i++) if (h.fi[i] !== this.hostFp[i]) this.fail(`host f${i >> 1} changed across the call`);
    h.pc = BigInt(this.kernel);
    if (covh) {
      this.history[this.history.length - 1] += ` -> [${r[0]}, ${hex(r[1])}]`;
      const c = this.covh.get(fid) ?? { calls: 0, ok: 0 };
      c.calls++;
      if (r[0] === 0) c.ok++;
      this.covh.set(fid, c);
      this.check(`after COVH ${fid}`);
    }
    return r;
  }

  /** The hart is in a TVM: play the guest until the TSM gives the hart back to the host. */
  private playGuest(): void {
    const h = this.h;
    const root = Number(h.hyp.hgatp & 0xfffffffffffn) * PAGE;
    const tvm = [...this.tsm.tvms.values()].find((t) => t.gstage.root === root);
    // The hart must run the TVM under that TVM's own Sv39x4 tables.
    if (!tvm || h.hyp.hgatp >> 60n !== 8n) this.fail(`the hart runs a TVM with hgatp ${hex(h.hyp.hgatp)}`);
    this.runs++;
    if (h.pc === BigInt(AT.spin)) h.pc = BigInt(AT.loop); // the guest spun until preempted; now it goes on
    let actions = 1 + this.rng.int(6);
    const deadline = this.clock + SLICE + 64n;
    while (this.inTvm()) {
      if (this.clock > deadline) this.fail(`TVM ${tvm.id} still has the hart after the host's timer expired (pc ${hex(h.pc)})`);
      if (h.pc === BigInt(AT.loop) && h.priv === 1) {
        if (actions-- > 0) this.guestAction(tvm);
        else this.guestLeaves();
        continue;
      }
      this.step();
    }
  }

  /** One thing the guest does at its ecall loop: mostly a COVG call, sometimes a memory access. */
  private guestAction(t: Tvm): void {
    const h = this.h, rng = this.rng;
    const kind = rng.weighted<string>([['covg', 88], ['load', 4], ['store', 4], ['loadw', 2], ['base', 1], ['fault', 1]]);
    if (kind === 'covg' && this.loopIntact(t)) {
      const [fid, args] = this.covgCall(t);
      args.forEach((v, i) => h.setX(10 + i, BigInt.asUintN(64, v)));
      h.setX(16, BigInt(fid));
      h.setX(17, BigInt(EID.COVG));
      const ecalls = () => this.salus.stats.exits.get('e10') ?? 0;
      const before = ecalls();
      this.total++;
      this.note(`COVG ${fid}(${args.map(hex).join(', ')}) in TVM ${t.id}`);
      this.step();
      if (ecalls() !== before + 1) this.fail(`the guest's COVG ecall did not reach Salus`);
      // An error returns straight to the guest; success (and share/unshare, to be completed) exits to the host.
      const ok = !this.inTvm() || h.getX(10) === 0n;
      this.history[this.history.length - 1] += this.inTvm() ? ` -> [${Number(BigInt.asIntN(64, h.getX(10)))}]` : ' -> exit';
      const c = this.covg.get(fid) ?? { calls: 0, ok: 0 };
      c.calls++;
      if (ok) c.ok++;
      this.covg.set(fid, c);
      this.check(`after COVG ${fid}`);
      return;
    }
    if (kind === 'covg') { this.step(); return; } // the guest's code is gone: it runs what is there
    if (kind === 'base') {
      h.setX(10, BigInt(rng.pick([EID.COVG, EID.BASE, EID.COVH, 0])));
      h.setX(16, BigInt(rng.int(5)));
      h.setX(17, 0x10n);
      this.step();
      return;
    }
    if (kind === 'fault') { h.pc = BigInt(rng.pick([0, GPA_LIMIT - PAGE, GUEST + 4 * MiB, SALUS_BASE])); this.step(); return; }
    h.setX(T1, this.guestAddress(t));
    h.setX(T2, rng.u64());
    h.pc = BigInt(AT[kind]);
    this.step();
  }

  /** Whether the guest's loop still has its ecall (the host or the guest itself may have overwritten it). */
  private loopIntact(t: Tvm): boolean {
    const l = t.gstage.leaf(GUEST);
    if (!l || !(l.flags & V) || l.hpa < RAM || l.hpa >= RAM + MEM) return false;
    return this.u32[(l.hpa - RAM + AT.loop - GUEST) / 4] === ECALL;
  }

  /** The guest gives the hart back: a forwarded ecall, WFI, spinning until the host's timer, or its end. */
  private guestLeaves(): void {
    const h = this.h, rng = this.rng;
    const how = rng.weighted<string>([['ecall', 60], ['wfi', 15], ['spin', 6], ['srst', 2], ['hsm-stop', 1]]);
    switch (how) {
      case 'ecall':
        h.setX(17, BigInt(rng.pick([EID_DBCN, 1, 0x0a000000, EID.COVH, 0x48534d])));
        h.setX(16, BigInt(rng.int(3)));
        for (let r = 10; r < 16; r++) h.setX(r, rng.u64());
        break;
      case 'srst': h.setX(17, 0x53525354n); h.setX(16, 0n); break;
      case 'hsm-stop': h.setX(17, 0x48534dn); h.setX(16, 1n); break;
      default: h.pc = BigInt(AT[how]);
    }
    this.step();
  }

  /** A GPA for the guest's own loads and stores. */
  private guestAddress(t: Tvm): bigint {
    const rng = this.rng;
    const leaves = this.leavesOf.get(t.id) ?? [];
    if (leaves.length && rng.chance(0.5)) return BigInt(rng.pick(leaves).gpa + 8 * rng.int(PAGE / 8));
    if (t.regions.length && rng.chance(0.8)) {
      const r = rng.pick(t.regions);
      return BigInt(r.gpa + 8 * rng.int(Math.min(r.len, 64 * PAGE) / 8));
    }
    return BigInt(rng.pick([0, GUEST + 64 * MiB, SALUS_BASE, RAM + 8 * MiB, GPA_LIMIT - 8]));
  }

  // ---- The host's memory ----

  /** Host data in a host page (never zero, so a page that should have been scrubbed is easy to see). */
  private hostFill(pa: number): void {
    if (!this.salus.pages.hostOwns(pa, PAGE)) this.fail(`the test would write to ${hex(pa)}, which the host does not own`);
    const w = this.u32, o = (pa - RAM) / 4;
    for (let i = 0; i < PAGE / 4; i++) w[o + i] = (0xa5000000 | ((pa / PAGE) & 0xffff) << 8 | i) >>> 0;
    this.m.bus.onRamWrite?.(pa - RAM, PAGE);
  }

  /** The host writes its own memory (only where it may: a failed write just leaves the call to fail). */
  private hostWrite64(pa: number, v: bigint): boolean {
    if (!this.salus.pages.hostOwns(pa, 8)) return false;
    this.m.bus.ramView.setBigUint64(pa - RAM, BigInt.asUintN(64, v), true);
    this.m.bus.onRamWrite?.(pa - RAM, 8);
    return true;
  }

  private read64(pa: number): bigint { return this.m.bus.ramView.getBigUint64(pa - RAM, true); }

  // ---- Argument generators ----

  private pageIndex(pa: number): number { return (pa - RAM) / PAGE; }

  /** n contiguous pool pages in `state`, aligned to `align` pages, from a random start; else a random pool page. */
  private poolRun(state: number, n: number, align = 1): number {
    const st = this.salus.pages.state, first = this.pageIndex(POOL);
    const span = POOL_PAGES;
    if (n >= 1 && n <= POOL_PAGES) {
      const start = this.rng.int(span);
      for (let k = 0; k < span; k++) {
        const p = (start + k) % span;
        if (p % align !== 0 || p + n > POOL_PAGES) continue;
        let j = 0;
        while (j < n && st[first + p + j] === state) j++;
        if (j === n) return POOL + p * PAGE;
      }
    }
    return POOL + this.rng.int(POOL_PAGES) * PAGE;
  }

  /** A page of any TVM in one of the TVM states (another TVM's page, as an attacker would name it). */
  private tvmPage(): number {
    const st = this.salus.pages.state;
    const start = this.rng.int(this.pageCount);
    for (let k = 0; k < this.pageCount; k++) {
      const i = (start + k) % this.pageCount;
      if (st[i] >= INTERNAL) return RAM + i * PAGE;
    }
    return POOL;
  }

  private garbageAddr(near: bigint): bigint {
    const rng = this.rng;
    switch (rng.int(13)) {
      case 0: return 0n;
      case 1: return ALL_ONES;
      case 2: return BigInt(SALUS_BASE + rng.int(SALUS_RESERVED / PAGE) * PAGE); // Salus's memory
      case 3: return BigInt(RAM + MEM);
      case 4: return BigInt(RAM - PAGE);
      case 5: return near + BigInt(1 + rng.int(PAGE - 1)); // misaligned
      case 6: return rng.u64();
      case 7: return BigInt(rng.pick([VIRT.uart, VIRT.plic, VIRT.clint, VIRT.virtio]));
      case 8: return BigInt(this.tvmPage());
      case 9: return BigInt(PARAMS + PAGE - 8 * this.rng.int(4)); // crossing into the next page
      case 10: return BigInt(SHMEM + PAGE * rng.int(3));
      case 11: return near | (1n << 63n);
      default: return BigInt(this.salus.host.root + PAGE * rng.int(4)); // the host's G-stage root
    }
  }

  /** A plausible address most of the time, garbage sometimes. */
  private addr(plausible: number | bigint, p = 0.9): bigint {
    const v = BigInt(plausible);
    return this.rng.chance(p) ? v : this.garbageAddr(v);
  }

  /** A page to donate: mostly the converted one given, sometimes a page some TVM already holds, or garbage. */
  private donor(converted: number): bigint {
    return this.rng.chance(0.05) ? BigInt(this.tvmPage()) : this.addr(converted);
  }

  private count(max: number): bigint {
    if (this.rng.chance(0.92)) return BigInt(1 + this.rng.int(max));
    return this.rng.pick([0n, ALL_ONES, 1n << 32n, BigInt(this.pageCount), BigInt(this.pageCount + 1), 1n << 63n, 512n, 1n << 52n]);
  }

  /** A TVM id: mostly one that exists and passes `want`, sometimes any, sometimes none. */
  private tvmId(want?: (t: Tvm) => boolean): bigint {
    const all = [...this.tsm.tvms.values()];
    const good = want ? all.filter(want) : all;
    const r = this.rng.next();
    if (good.length && r < 0.88) return BigInt(this.rng.pick(good).id);
    if (all.length && r < 0.94) return BigInt(this.rng.pick(all).id);
    return this.rng.pick([0n, ALL_ONES, BigInt(this.tvmsCreated + 1), 1n << 32n, BigInt(Math.max(1, this.tvmsCreated)), 0x4000n]);
  }

  private tvmOf(id: bigint): Tvm | undefined {
    return id <= BigInt(Number.MAX_SAFE_INTEGER) ? this.tsm.tvms.get(Number(id)) : undefined;
  }

  /** A page-aligned GPA range: in one of the TVM's regions of `kind` (any kind when absent), or garbage. */
  private gpaIn(t: Tvm | undefined, kind?: string, maxPages = 8): { gpa: bigint; len: bigint; pages: number } {
    const rng = this.rng;
    const regions = (t?.regions ?? []).filter((r) => !kind || r.kind === kind);
    const pages = 1 + rng.int(maxPages);
    if (regions.length && rng.chance(0.9)) {
      const r = rng.pick(regions);
      const rp = r.len / PAGE;
      const n = Math.min(pages, rp);
      const k = rng.int(Math.max(1, Math.min(rp - n + 1, 1024)));
      return { gpa: BigInt(r.gpa + k * PAGE), len: BigInt(n * PAGE), pages: n };
    }
    const gpa = rng.weighted<bigint>([
      [BigInt(GUEST + rng.int(1024) * PAGE), 4], [BigInt(rng.int(GPA_LIMIT / PAGE) * PAGE), 2], [BigInt(GPA_LIMIT), 1],
      [BigInt(GPA_LIMIT - PAGE), 1], [ALL_ONES & ~0xfffn, 1], [BigInt(GUEST + 1 + rng.int(PAGE - 1)), 1], [0n, 1]]);
    return { gpa, len: BigInt(pages * PAGE), pages };
  }

  /** GPAs of the TVM's leaves, valid or blocked as asked. */
  private leafGpa(t: Tvm | undefined, valid: boolean | null, maxPages = 4): { gpa: bigint; len: bigint } {
    // Rarely the guest's code page: a host that takes it away leaves a guest that can only fault.
    const spareCode = this.rng.chance(0.97);
    const leaves = (t ? this.leavesOf.get(t.id) ?? [] : [])
      .filter((l) => (valid === null || ((l.flags & V) !== 0) === valid) && !(spareCode && l.gpa === GUEST));
    if (leaves.length && this.rng.chance(0.9)) {
      const l = this.rng.pick(leaves);
      // Mostly one page; sometimes a run, which may take in pages in another state (the call must then fail).
      const n = this.rng.chance(0.7) ? 1 : 1 + this.rng.int(maxPages);
      return { gpa: BigInt(l.gpa), len: BigInt(n * PAGE) };
    }
    const r = this.gpaIn(t);
    return { gpa: r.gpa, len: this.rng.chance(0.9) ? r.len : this.rng.pick([0n, 1n, ALL_ONES & ~0xfffn, 1n << 41n]) };
  }

  /** The GPA of the TVM's last page fault, when there is one. */
  private faultGpa(t: Tvm | undefined): bigint | null {
    const e = t && this.lastExit.get(t.id);
    return e && (e.cause === 20n || e.cause === 21n || e.cause === 23n) ? BigInt(e.gpa) : null;
  }

  /** The kind of region of the TVM's last page fault, if its last exit was one. */
  private faultRegion(t: Tvm): string | undefined {
    const g = this.faultGpa(t);
    if (g === null) return undefined;
    return t.regions.find((r) => g >= BigInt(r.gpa) && g < BigInt(r.gpa + r.len))?.kind;
  }

  // ---- COVH ----

  private pickCovhFid(): number {
    const st = this.salus.pages.state, first = this.pageIndex(POOL);
    let converted = 0, converting = 0;
    for (let k = 0; k < POOL_PAGES; k++) {
      if (st[first + k] === CONVERTED) converted++;
      else if (st[first + k] === CONVERTING) converting++;
    }
    const tvms = [...this.tsm.tvms.values()];
    const init = tvms.filter((t) => !t.runnable);
    const live = tvms.filter(healthy).length, dead = tvms.filter((t) => t.runnable && !healthy(t)).length;
    const ready = init.some(readyToFinalize);
    const building = init.some((t) => !readyToFinalize(t));
    const needRegion = init.some((t) => !hasGuestRegion(t)), needPt = init.some((t) => t.ptPool.length < 3);
    const needCode = init.some((t) => hasGuestRegion(t) && t.gstage.leaf(GUEST) === null);
    const needVcpu = init.some((t) => !t.vcpus.has(0));
    const faulted = (kind: string) => tvms.some((t) => healthy(t) && this.faultRegion(t) === kind);
    const w: [number, number][] = [
      [0, 1], [1, converted < 48 ? 14 : 3], [2, converted > 160 ? 8 : 2], [3, converting ? 8 : 1], [4, 1],
      [5, tvms.length < 2 ? 8 : tvms.length < 5 ? 2 : 0.3], [6, ready ? 8 : 0.8], [7, 0.5],
      [8, dead ? 6 : tvms.length > 4 ? 4 : 0.8], [9, needRegion ? 8 : building ? 2 : 0.8], [10, needPt ? 8 : 2],
      [11, needCode ? 12 : building ? 3 : 1], [12, faulted('confidential') ? 12 : live ? 4 : 1],
      [13, faulted('shared') ? 12 : live ? 4 : 1], [14, needVcpu ? 6 : 1], [15, live ? 55 : 2], [16, live ? 4 : 1],
      [17, live ? 4 : 1], [18, live ? 3 : 1], [19, live ? 4 : 1], [-1, 0.6],
    ];
    const fid = this.rng.weighted(w);
    if (fid >= 0) return fid;
    return this.rng.pick([20, 21, 100, 0xffff, 0x10000, 0x4000001, 0x8000003, 0xffffffff]);
  }

  private covhCall(): void {
    const rng = this.rng;
    const fid = this.pickCovhFid();
    let args: bigint[];
    const init = (t: Tvm) => !t.runnable, live = healthy;
    switch (fid) {
      case 0: {
        // The host does not have the TSM write over its own code or the guest's.
        const a = this.addr(PARAMS + 8 * rng.int(8));
        const mine = (p: number) => a > BigInt(p - PAGE) && a < BigInt(p + PAGE);
        args = [mine(this.kernel) || mine(IMAGE) ? BigInt(PARAMS) : a, rng.chance(0.9) ? 48n : this.count(64)];
        break;
      }
      case 1: {
        const huge = rng.chance(0.04); // the 2 MiB block, for 2 MiB pages
        const n = huge ? 512n : this.count(16);
        let base = this.addr(huge ? HUGE : this.poolRun(HOST, Number(n)));
        // The host does not pull its own kernel out from under itself.
        const k = BigInt(this.kernel);
        if (base <= k && k < base + n * BigInt(PAGE)) base = BigInt(POOL);
        args = [base, n];
        break;
      }
      case 2: {
        const huge = rng.chance(0.04);
        const n = huge ? 512n : this.count(16);
        args = [this.addr(huge ? HUGE : this.poolRun(CONVERTED, Number(n))), n];
        break;
      }
      case 5: {
        const root = this.poolRun(CONVERTED, 4, 4);
        let state = this.poolRun(CONVERTED, 1);
        for (let k = 0; k < 4 && state >= root && state < root + 4 * PAGE; k++) state = this.poolRun(CONVERTED, 1);
        this.hostWrite64(PARAMS, this.donor(root));
        this.hostWrite64(PARAMS + 8, this.donor(state));
        args = [this.addr(PARAMS), rng.chance(0.92) ? 16n : this.count(32)];
        break;
      }
      case 6: {
        this.hostWrite64(PARAMS + 64, rng.u64());
        const identity = rng.chance(0.5) ? 0n : this.addr(PARAMS + 64 * (1 + rng.int(3)));
        args = [this.tvmId(readyToFinalize), this.addr(GUEST, 0.95), rng.u64(), identity];
        break;
      }
      case 7: args = [this.addr(PARAMS), this.addr(0), BigInt(GUEST), 0n]; break;
      case 8: args = [this.tvmId(rng.chance(0.7) ? (t) => !healthy(t) && t.runnable : undefined)]; break;
      case 9: {
        const id = this.tvmId(rng.chance(0.8) ? (t) => init(t) && !hasGuestRegion(t) : init), t = this.tvmOf(id);
        if (!(t && hasGuestRegion(t)) && rng.chance(0.8)) args = [id, BigInt(GUEST), BigInt(4 * MiB)];
        else {
          const g = this.gpaIn(undefined, undefined, 64);
          args = [id, rng.chance(0.5) ? BigInt(rng.pick([0x10000000, 0x100000000, 0x40000000]) + rng.int(64) * PAGE) : g.gpa,
            rng.chance(0.9) ? g.len : this.count(1 << 20) * BigInt(rng.pick([1, PAGE]))];
        }
        break;
      }
      case 10: {
        const n = this.count(8);
        args = [this.tvmId(rng.chance(0.8) ? (t) => t.ptPool.length < 3 : undefined), this.donor(this.poolRun(CONVERTED, Number(n))), n];
        break;
      }
      case 11: {
        const id = this.tvmId(rng.chance(0.7) ? (t) => init(t) && hasGuestRegion(t) && t.gstage.leaf(GUEST) === null : init);
        const t = this.tvmOf(id);
        const n = Number(this.count(4));
        // The image in order from GUEST: the first page not yet mapped.
        const leaves = t ? this.leavesOf.get(t.id) ?? [] : [];
        let k = 0;
        while (k < IMAGE_PAGES && leaves.some((l) => l.gpa === GUEST + k * PAGE)) k++;
        if (k >= IMAGE_PAGES || rng.chance(0.1)) k = rng.int(IMAGE_PAGES);
        const np = Math.min(n, IMAGE_PAGES - k) || n;
        const gpa = rng.chance(0.9) ? BigInt(GUEST + k * PAGE) : this.gpaIn(t).gpa;
        args = [id, this.addr(IMAGE + k * PAGE), this.donor(this.poolRun(CONVERTED, np)), rng.chance(0.95) ? 0n : BigInt(rng.int(5)),
          rng.chance(0.9) ? BigInt(np) : this.count(8), gpa];
        break;
      }
      case 12: case 13: {
        const shared = fid === 13;
        const id = this.tvmId(rng.chance(0.8) ? (t) => live(t) && this.faultRegion(t) === (shared ? 'shared' : 'confidential') : live);
        const t = this.tvmOf(id);
        const fault = this.faultGpa(t);
        const g = fault !== null && rng.chance(0.6) ? { gpa: fault, pages: 1 } : this.gpaIn(t, shared ? 'shared' : 'confidential', 4);
        const n = rng.chance(0.9) ? g.pages : Number(this.count(8));
        if (rng.chance(0.08)) { // one 2 MiB page at a 2 MiB-aligned GPA
          const gpa = (g.gpa / BigInt(2 * MiB)) * BigInt(2 * MiB);
          args = [id, this.addr(HUGE), 1n, 1n, gpa];
          break;
        }
        args = [id, shared ? this.addr(this.poolRun(HOST, n)) : this.donor(this.poolRun(CONVERTED, n)), rng.chance(0.95) ? 0n : BigInt(rng.int(5)), BigInt(n), g.gpa];
        break;
      }
      case 14: {
        const id = this.tvmId(rng.chance(0.7) ? (t) => init(t) && !t.vcpus.has(0) : init), t = this.tvmOf(id);
        const vcpu = rng.chance(0.85) ? (t?.vcpus.has(0) ? BigInt(rng.int(5)) : 0n) : rng.pick([ALL_ONES, 1n << 32n, 4n, 100n]);
        args = [id, vcpu, this.donor(this.poolRun(CONVERTED, 1))];
        break;
      }
      case 15: {
        const id = this.tvmId(live);
        this.beforeRun(this.tvmOf(id));
        args = [id, rng.chance(0.9) ? 0n : rng.pick([1n, 2n, 4n, ALL_ONES])];
        break;
      }
      case 16: args = [this.tvmId()]; break;
      case 17: { const id = this.tvmId(live), g = this.leafGpa(this.tvmOf(id), true); args = [id, g.gpa, g.len]; break; }
      case 18: case 19: { const id = this.tvmId(live), g = this.leafGpa(this.tvmOf(id), false); args = [id, g.gpa, g.len]; break; }
      default: args = Array.from({ length: 6 }, () => rng.u64());
    }
    const [err] = this.hostCall(EID.COVH, fid, args);
    if (fid === 15 && err === -9) this.setShmem(BigInt(SHMEM)); // SBI_ERR_NO_SHMEM: register it again
    if (err !== 0) return;
    switch (fid) {
      case 2: // the host uses the pages it got back
        for (let k = 0; k < Number(args[1]); k++) this.hostFill(Number(args[0]) + k * PAGE);
        break;
      case 5: this.tvmsCreated++; break;
      case 12: { // fresh zero pages: nothing of an earlier owner in them
        for (let k = 0; k < Number(args[3]) * (args[2] === 1n ? 512 : 1); k++) {
          const pa = Number(args[1]) + k * PAGE, o = (pa - RAM) / 4;
          for (let i = 0; i < PAGE / 4; i++) if (this.u32[o + i] !== 0) this.fail(`zero page ${hex(pa)} added to TVM ${args[0]} is not zero`);
        }
        break;
      }
      case 15: { // an exit: what the host learns of it
        const id = Number(args[0]);
        const cause = this.h.hyp.vscause;
        const key = `${cause >> 63n ? 'irq' : 'exc'} ${cause & 0xffn}${this.h.getX(11) ? ' (vCPU dead)' : ''}`;
        this.exits.set(key, (this.exits.get(key) ?? 0) + 1);
        this.lastExit.set(id, { cause, gpa: Number((this.read64(this.shmem + SHM_HTVAL) << 2n) & 0xffffffffffffn) });
        break;
      }
    }
  }

  /** NACL set_shmem (all ones: unregister). */
  private setShmem(to: bigint, flags = 0n): number {
    const [e] = this.hostCall(EID.NACL, 1, [to, 0n, flags]);
    if (e === 0) this.shmem = to === ALL_ONES ? -1 : Number(to);
    return e;
  }

  /** The host's side of the last exit before it runs the vCPU again, and its timer. */
  private beforeRun(t: Tvm | undefined): void {
    const rng = this.rng;
    if (rng.chance(0.03)) { // now and then the NACL area goes away or moves (and comes back)
      const to = rng.chance(0.5) ? ALL_ONES : this.addr(SHMEM, 0.5);
      this.setShmem(to, rng.chance(0.9) ? 0n : 1n);
      if (rng.chance(0.8)) this.setShmem(BigInt(SHMEM));
    }
    const e = t && this.lastExit.get(t.id);
    const area = this.shmem;
    if (area < 0) {
      // No area: the run must fail.
    } else if (e && e.cause === 10n) {
      // A forwarded ecall gets some answer; a share/unshare request (a7 = COVG, a6 = 2 or 3) is mostly accepted
      // (a0 = 0), whether or not the host emptied the range first (the TSM must check).
      this.hostWrite64(area + SHM_A0, rng.chance(0.7) ? 0n : rng.u64());
      this.hostWrite64(area + SHM_A1, rng.u64());
    } else if (e) {
      this.hostWrite64(area + SHM_A0, rng.u64()); // an MMIO load's value
    }
    // The host's timer bounds the slice the TVM gets.
    this.hostCall(EID_TIME, 0, [this.clock + SLICE]);
  }

  // ---- COVG ----

  private covgCall(t: Tvm): [number, bigint[]] {
    const rng = this.rng;
    const fid = rng.weighted<number>([[0, 8], [1, 6], [2, 10], [3, 8], [4, 1], [5, 1], [6, 6], [7, 8], [8, 5], [9, 3], [10, 8], [-1, 1]]);
    // A confidential page of the guest's own (not its code page, which a buffer call would overwrite).
    const own = (): bigint => {
      const leaves = (this.leavesOf.get(t.id) ?? []).filter((l) => l.gpa !== GUEST && (l.flags & V));
      const conf = leaves.filter((l) => t.regions.some((r) => r.kind === 'confidential' && l.gpa >= r.gpa && l.gpa < r.gpa + r.len));
      if (conf.length && rng.chance(0.85)) return BigInt(rng.pick(conf).gpa);
      if (leaves.length && rng.chance(0.5)) return BigInt(rng.pick(leaves).gpa);
      const g = this.gpaIn(t).gpa;
      return (g === BigInt(GUEST) && rng.chance(0.95) ? g + BigInt(PAGE) : g) + (rng.chance(0.2) ? 8n : 0n);
    };
    switch (fid) {
      case 0: {
        const mmio = rng.chance(0.8) ? BigInt(rng.pick([0x10000000, 0x20000000, 0xc0000000]) + rng.int(16) * PAGE) : this.gpaIn(t).gpa;
        return [0, [mmio, BigInt((1 + rng.int(4)) * PAGE)]];
      }
      case 1: { const g = this.gpaIn(t, rng.chance(0.8) ? 'mmio' : undefined); return [1, [g.gpa, g.len]]; }
      case 2: case 3: {
        if (fid === 2 && rng.chance(0.1)) return [2, [BigInt(GUEST + 2 * MiB), BigInt(2 * MiB)]]; // room for a 2 MiB page
        const g = this.gpaIn(t, fid === 2 ? 'confidential' : 'shared', 8);
        // Not the image: sharing it would take away the guest's code.
        const gpa = g.gpa >= BigInt(GUEST) && g.gpa < BigInt(GUEST + IMAGE_PAGES * PAGE) && rng.chance(0.95) ? BigInt(GUEST + MiB) : g.gpa;
        return [fid, [gpa, rng.chance(0.95) ? g.len : rng.pick([0n, 8n, ALL_ONES])]];
      }
      case 6: return [6, [own(), rng.chance(0.9) ? BigInt(PAGE) : rng.pick([0n, 336n, ALL_ONES])]];
      case 7: return [7, [own(), rng.chance(0.9) ? 48n : 32n, BigInt(rng.chance(0.85) ? 4 + rng.int(4) : rng.int(10))]];
      case 8: return [8, [own(), BigInt(rng.chance(0.8) ? 32 + rng.int(200) : rng.pick([0, PAGE, PAGE + 1])), own(),
        rng.chance(0.9) ? 2n : BigInt(rng.int(4)), own(), rng.chance(0.9) ? BigInt(PAGE) : BigInt(rng.int(PAGE))]];
      case 9: return [9, [own(), BigInt(rng.chance(0.9) ? 64 : PAGE + 1)]];
      case 10: return [10, [own(), rng.chance(0.9) ? 48n : 8n, BigInt(rng.int(9))]];
      case -1: return [rng.pick([11, 12, 0xffff, 0x10000]), [rng.u64(), rng.u64()]];
      default: return [fid, [rng.u64(), rng.u64(), rng.u64()]];
    }
  }

  // ---- Invariants ----

  /** Walk Sv39x4 tables from the root as the MMU would, recording every table page and every non-zero leaf. */
  private walk(root: number): Walk {
    const w = this.u32;
    const out: Walk = { tables: [root, root + PAGE, root + 2 * PAGE, root + 3 * PAGE], leaves: [], bad: [] };
    const visit = (table: number, level: number, entries: number, base: number) => {
      const o = (table - RAM) / 4;
      const size = 2 ** (12 + 9 * level);
      for (let i = 0; i < entries; i++) {
        const lo = w[o + 2 * i], hi = w[o + 2 * i + 1];
        if (lo === 0 && hi === 0) continue;
        const flags = lo & 0x3ff;
        const pa = ((lo >>> 10) + (hi & 0x3fffff) * 0x400000) * PAGE;
        const gpa = base + i * size;
        if ((flags & 0xe) !== 0 || level === 0) { out.leaves.push({ gpa, pa, size, flags }); continue; }
        if (!(flags & V)) continue; // neither a leaf nor a pointer: the MMU ignores it
        if (pa < RAM || pa + PAGE > RAM + MEM) { out.bad.push(`table pointer for GPA ${hex(gpa)} to ${hex(pa)}, outside RAM`); continue; }
        out.tables.push(pa);
        visit(pa, level - 1, 512, gpa);
      }
    };
    visit(root, 2, 2048, 0);
    return out;
  }

  check(when: string): void {
    const { state, tag } = this.salus.pages;
    const n = this.pageCount, bad: string[] = [];
    const name = (i: number) => `page ${hex(RAM + i * PAGE)} (${PAGE_STATE_NAMES[state[i]] ?? state[i]}${state[i] >= INTERNAL ? ` of TVM ${tag[i]}` : ''})`;
    const say = (s: string) => { if (bad.length < 8) bad.push(s); };

    // Salus's memory is the top 8 MiB, all of it and only it.
    for (let i = 0; i < n; i++) if ((state[i] === HYP) !== (i >= this.salusFirst)) say(`${name(i)}: wrong side of Salus's boundary`);

    // 2. The host's G-stage: tables in Salus's memory; leaves only over host pages.
    const host = this.walk(this.salus.host.root);
    for (const s of host.bad) say(`host G-stage: ${s}`);
    for (const t of host.tables) {
      const i = this.pageIndex(t);
      if (state[i] !== HYP) say(`host G-stage table in ${name(i)}`);
    }
    const hm = this.hostMapped;
    hm.fill(0);
    for (const l of host.leaves) {
      if (!(l.flags & V)) continue;
      const lo = Math.max(l.pa, RAM), hi = Math.min(l.pa + l.size, RAM + MEM);
      for (let pa = lo; pa < hi; pa += PAGE) {
        const i = this.pageIndex(pa);
        if (i >= this.salusFirst) say(`host G-stage maps GPA ${hex(l.gpa + pa - l.pa)} to Salus's ${name(i)}`);
        else if (state[i] !== HOST) say(`host G-stage maps GPA ${hex(l.gpa + pa - l.pa)} to ${name(i)}`);
        hm[i]++;
      }
    }
    // (And the host keeps what is its own: every host page mapped, once.)
    for (let i = 0; i < this.salusFirst; i++) if (state[i] === HOST && hm[i] !== 1) say(`${name(i)} mapped ${hm[i]} times for the host`);

    // 1 and 4. TVM tables and leaves: each confidential page claimed once, by the TVM the page map names.
    const owner = this.owner;
    owner.fill(0);
    const claim = (i: number, id: number, role: string) => {
      if (owner[i] !== 0) say(`${name(i)} claimed twice: by TVM ${owner[i]} and as ${role} of TVM ${id}`);
      owner[i] = id;
    };
    this.leavesOf = new Map();
    for (const t of this.tsm.tvms.values()) {
      const w = this.walk(t.gstage.root);
      this.leavesOf.set(t.id, w.leaves);
      for (const s of w.bad) say(`TVM ${t.id} G-stage: ${s}`);
      for (const pa of w.tables) {
        const i = this.pageIndex(pa);
        if (state[i] !== INTERNAL || tag[i] !== t.id) say(`TVM ${t.id} G-stage table in ${name(i)}`);
        claim(i, t.id, 'table');
      }
      for (const l of w.leaves) {
        for (let pa = l.pa; pa < l.pa + l.size; pa += PAGE) {
          const at = `TVM ${t.id} maps GPA ${hex(l.gpa + pa - l.pa)}`;
          if (pa < RAM || pa >= RAM + MEM) { say(`${at} to ${hex(pa)}, outside RAM`); continue; }
          const i = this.pageIndex(pa);
          if (state[i] === HOST) continue; // a shared page (the host's)
          if (state[i] !== MAPPED && state[i] !== BLOCKED) { say(`${at} to ${name(i)}`); continue; }
          if (tag[i] !== t.id) say(`${at} to ${name(i)}`);
          if (((l.flags & V) !== 0) !== (state[i] === MAPPED)) say(`${at} with V=${l.flags & V} to ${name(i)}`);
          claim(i, t.id, 'mapped page');
        }
      }
    }
    for (let i = 0; i < n; i++) {
      const s = state[i];
      if (s < INTERNAL) continue;
      if (!this.tsm.tvms.has(tag[i])) say(`${name(i)}: no such TVM`);
      if ((s === MAPPED || s === BLOCKED) && owner[i] !== tag[i]) say(`${name(i)} is not in its TVM's tables`);
    }

    // 3. Pages back in the host's hands hold nothing.
    const prev = this.prev, w = this.u32;
    for (let i = 0; i < n; i++) {
      if (prev[i] === HOST || state[i] !== HOST) continue;
      const o = i * (PAGE / 4);
      for (let k = 0; k < PAGE / 4; k++) {
        if (w[o + k] !== 0) { say(`${name(i)} returned to the host (from ${PAGE_STATE_NAMES[prev[i]]}) without being scrubbed`); break; }
      }
    }
    prev.set(state);
    if (bad.length) this.fail(`${when}: isolation broken:\n    ${bad.join('\n    ')}`);
  }

  /** Drive `calls` COVH and COVG calls in all (COVG ones happen inside run_tvm_vcpu). */
  async run(calls: number): Promise<FuzzResult> {
    this.check('at boot');
    for (let n = 0; this.total < calls; n++) {
      this.covhCall();
      // Let the test runner's worker breathe (a long synchronous test trips its RPC timeouts on a busy machine).
      if (n % 256 === 255) await new Promise((resolve) => setImmediate(resolve));
    }
    return { covh: this.covh, covg: this.covg, total: this.total, tvmsCreated: this.tvmsCreated, runs: this.runs, exits: this.exits };
  }
}

function fuzz(seed: number, calls: number, sabotage?: Sabotage, firstTvmId?: number): Promise<FuzzResult> {
  return new Fuzzer(seed, sabotage, firstTvmId).run(calls);
}

const SEED = Number(process.env.TSM_FUZZ_SEED ?? 0x5a1a5);
const CALLS = Number(process.env.TSM_FUZZ_CALLS ?? 12_000);

describe('TSM isolation fuzzing', () => {
  it(`keeps pages isolated over ${CALLS} random COVH and COVG calls (seed ${SEED})`, async () => {
    const t0 = performance.now();
    const r = await fuzz(SEED, CALLS);
    const ms = performance.now() - t0;
    const table = (m: Map<number, Counter>) => [...m].sort((a, b) => a[0] - b[0]).map(([f, c]) => `${f}:${c.ok}/${c.calls}`).join(' ');
    console.log(`seed ${SEED}: ${r.total} calls in ${(ms / 1000).toFixed(1)} s, ${r.tvmsCreated} TVMs created, ${r.runs} runs\n` +
      `  COVH ok/calls ${table(r.covh)}\n  COVG ok/calls ${table(r.covg)}\n` +
      `  exits ${[...r.exits].map(([k, v]) => `${k}: ${v}`).join(', ')}`);
    expect(r.total).toBeGreaterThanOrEqual(10_000);
    for (let fid = 0; fid <= 19; fid++) expect(r.covh.get(fid)?.calls ?? 0, `COVH ${fid} calls`).toBeGreaterThan(0);
    for (let fid = 0; fid <= 10; fid++) expect(r.covg.get(fid)?.calls ?? 0, `COVG ${fid} calls`).toBeGreaterThan(0);
    // The state-changing calls got through often enough to reach deep states.
    for (const fid of [1, 2, 3, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]) {
      expect(r.covh.get(fid)!.ok, `COVH ${fid} successes`).toBeGreaterThanOrEqual(5);
    }
    for (const fid of [0, 1, 2, 3, 6, 7, 8, 10]) expect(r.covg.get(fid)!.ok, `COVG ${fid} successes`).toBeGreaterThanOrEqual(5);
    expect(r.tvmsCreated).toBeGreaterThanOrEqual(10);
  });

  it('keeps TVMs under their own G-stage when TVM ids outgrow the 14-bit VMID', async () => {
    // As if the host had created and destroyed 196,604 TVMs: ids from 0x30000 on once set hgatp.MODE to 11,
    // which the hart reads as Bare (no G-stage translation at all).
    const r = await fuzz(SEED, 3000, undefined, 0x2fffc);
    expect(r.tvmsCreated).toBeGreaterThan(4);
    expect(r.runs).toBeGreaterThan(100);
  });

  // The checks must be able to fail: each TSM below is broken on purpose in one way (with a fixed seed, whatever
  // TSM_FUZZ_SEED says: how soon a break shows depends on the calls).
  const broken: [string, RegExp, Sabotage][] = [
    ['reclaim_pages does not scrub', /without being scrubbed/, (tsm, salus) => {
      // The zeroing in reclaim_pages, and only there, does nothing.
      const t = tsm as unknown as { reclaim: (b: bigint, n: bigint) => unknown };
      const reclaim = t.reclaim, zero = salus.mem.zero;
      let inReclaim = false;
      salus.mem.zero = function (pa, len) { if (!inReclaim) zero.call(this, pa, len); };
      t.reclaim = function (b, n) { inReclaim = true; try { return reclaim.call(this, b, n); } finally { inReclaim = false; } };
    }],
    ['convert_pages leaves the page in the host G-stage', /host G-stage maps .* \((converting|converted|tvm)/, (tsm) => {
      // Pages come back into the host's G-stage, but never leave it.
      const t = tsm as unknown as { setHostMapping: (i: number, present: boolean) => void };
      const set = t.setHostMapping;
      t.setHostMapping = function (i, present) { if (present) set.call(this, i, present); };
    }],
    ['donation takes pages that are not converted', /isolation broken/, (tsm) => {
      // Where converted pages are wanted, pages of any TVM pass too.
      const t = tsm as unknown as { salus: Salus; pagesIn: (b: bigint, n: bigint, s: number, tvm?: number) => number[] | null };
      const pagesIn = t.pagesIn;
      t.pagesIn = function (b, n, s, tvm) {
        const idx = pagesIn.call(this, b, n, s, tvm);
        if (idx || s !== CONVERTED || b > BigInt(Number.MAX_SAFE_INTEGER) || n > 64n) return idx;
        const pages = t.salus.pages, any = pages.range(Number(b), Number(n));
        return any && any.every((i) => pages.state[i] >= INTERNAL) ? any : null;
      };
    }],
    ['a TVM gets a page of Salus mapped', /TVM \d+ maps GPA .* \(hypervisor\)/, (tsm) => {
      // add_tvm_zero_pages also maps a page of Salus's memory (once) 64 pages further on.
      const t = tsm as unknown as { addZero: (tv: Tvm, base: bigint, type: bigint, n: bigint, gpa: bigint) => unknown };
      const addZero = t.addZero;
      let done = false;
      t.addZero = function (tv, base, type, n, gpa) {
        const r = addZero.call(this, tv, base, type, n, gpa);
        if (!done) done = tv.gstage.map(Number(gpa) + 64 * PAGE, SALUS_BASE + 32 * PAGE, PAGE, 0xd7);
        return r;
      };
    }],
  ];
  for (const [what, expected, sabotage] of broken) {
    it(`fails when ${what}`, async () => {
      let error: unknown;
      try { await fuzz(0x5a1a5, 4000, sabotage); } catch (e) { error = e; }
      expect(error).toBeInstanceOf(Violation);
      expect((error as Error).message).toMatch(expected);
    });
  }
});
