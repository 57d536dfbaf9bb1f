// The TSM: Salus's implementation of the CoVE ABI (riscv-ap-tee sbi_cove.adoc, numbering of c71310c). COVH lets
// the host convert memory, build TVMs from pages it donates and run their vCPUs; COVG serves the TVMs; NACL
// registers the shared area through which exits are reported. Every host-supplied address is checked against
// the page map, so the host only ever names its own memory, and confidential pages leave its G-stage.
// Choices where the spec is silent are listed in docs/salus.md.
import { CSR } from '../runtime/csr.js';
import { Cause, Irq } from '../runtime/trap.js';
import { SBI_ERR } from '../runtime/firmware/sbi.js';
import { Salus, SbiExtension, SbiResult, sbiOk, sbiErr, sbiCallOf, setSbiResult, loadResult } from './hypervisor.js';
import { GStage, PAGE, ROOT_BYTES, GPA_LIMIT, LEAF_RWX, LEAF_RW, PTE } from './gstage.js';
import { Page } from './pages.js';
import { AttestationKey, Measurements, attestationCapabilities, CAPS_SIZE, CERT_FORMAT_X509, HASH_SIZE, CHALLENGE_SIZE } from './attestation.js';

export const EID = { COVH: 0x434f5648, COVG: 0x434f5647, COVI: 0x434f5649, NACL: 0x4e41434c, SUPD: 0x53555044, SRST: 0x53525354, HSM: 0x48534d, BASE: 0x10 } as const;
/** CoVE-only error codes have no numbers in the spec; these are ours (docs/salus.md). */
export const COVE_ERR = { AUTH: -100, OUT_OF_MEMORY: -101, OUT_OF_PTPAGES: -102, BUSY: -103 } as const;
const E = SBI_ERR;

export const TSM_INFO = {
  SIZE: 48, STATE_READY: 2, IMPL_SALUS: 1, VERSION: 1,
  /** MEMORY_ALLOCATION (bit 5) and ATTESTATION_REMOTE (bit 2): no promote, no local attestation, no AIA. */
  CAPS: (1n << 5n) | (1n << 2n),
  TVM_STATE_PAGES: 1, MAX_VCPUS: 4, VCPU_STATE_PAGES: 1,
} as const;
/** NACL shared memory: 12 KiB; guest GPRs at 8*i; CSR slots at 0x1000 + 8 * ((csr >> 10 & 3) << 8 | csr & 0xff). */
export const SHMEM_BYTES = 0x3000;
const shmemGpr = (r: number) => 8 * r;
const shmemCsr = (csr: number) => 0x1000 + 8 * ((((csr >> 10) & 3) << 8) | (csr & 0xff));

const INTERRUPT = 1n << 63n;
const ALL_ONES = 0xffffffffffffffffn;
const SSTATUS_SPP = 1n << 8n;
const SIE_STIE = 1n << 5n, SIE_SEIE = 1n << 9n;
const WFI = 0x10500073;

type RegionKind = 'confidential' | 'shared' | 'mmio';
interface Region { gpa: number; len: number; kind: RegionKind }

/** What the next run_tvm_vcpu completes for a vCPU that exited. */
type Pending =
  | { kind: 'none' }
  | { kind: 'ecall'; legacy: boolean }
  | { kind: 'mmio-load'; rd: number; funct3: number; len: number }
  | { kind: 'mmio-store'; len: number }
  | { kind: 'share'; gpa: number; len: number; to: RegionKind };

interface Vcpu { id: number; page: number; runnable: boolean; dead: boolean; pending: Pending }

interface Tvm {
  id: number;
  runnable: boolean;
  gstage: GStage;
  /** Donated page-table pages not yet used. */
  ptPool: number[];
  /** Every confidential page the TVM holds (internal and mapped), by RAM page index. */
  pages: Set<number>;
  /** Host pages mapped into the TVM as shared, by RAM page index. */
  shared: Set<number>;
  regions: Region[];
  vcpus: Map<number, Vcpu>;
  msmt: Measurements;
  identity?: Uint8Array;
  /** TVM TLB version: bumped by tvm_fence; blocked pages record the version at invalidation. */
  fenceVersion: number;
  blocked: Map<number, number>;
}

// vCPU state page layout (Salus-private): x1..x31, f0..f31, fcsr, pc, previous privilege, then VS CSRs.
const VCPU_CSRS = [CSR.vsstatus, CSR.vsie, CSR.vstvec, CSR.vsscratch, CSR.vsepc, CSR.vscause, CSR.vstval, CSR.vsatp,
  CSR.vstimecmp, CSR.hvip, CSR.htimedelta];
const VS_FCSR = 0x200, VS_PC = 0x208, VS_PRIV = 0x210, VS_CSRS = 0x218;

const aligned = (v: bigint, a: number) => v % BigInt(a) === 0n;
const small = (v: bigint) => v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : -1;

export class Tsm implements SbiExtension {
  readonly eids = [EID.COVH, EID.NACL, EID.SUPD];
  readonly tvms = new Map<number, Tvm>();
  private nextTvmId = 1;
  /** The host TLB version: converting pages record it, and a completed global fence round moves past it. */
  private tlbVersion = 0;
  /** Registered NACL area of this hart, or -1. */
  private shmem = -1;
  /** Salus's page for the host's registers while a TVM runs (taken at the first run). */
  private hostPage = -1;
  private running: { tvm: Tvm; vcpu: Vcpu } | null = null;
  /** Pages each TVM-shared host page is mapped into (a host page may be shared with several TVMs). */
  private readonly sharedRefs = new Map<number, number>();
  /** Call counts by extension and function, for the tellus summary and tests. */
  readonly calls = new Map<string, number>();

  constructor(readonly salus: Salus, private readonly key: AttestationKey) {
    salus.addExtension(this);
    salus.guestTrapHandler = (scause) => this.running !== null && (this.tvmTrap(scause), true);
  }

  private get pages() { return this.salus.pages; }
  private get mem() { return this.salus.mem; }

  call(eid: number, fid: number, a: bigint[]): SbiResult {
    this.count(eid, fid & 0xffff);
    if (eid === EID.SUPD) return fid === 0 ? sbiOk(0b11) : sbiErr(E.NOT_SUPPORTED);
    if (eid === EID.NACL) return this.nacl(fid, a);
    // a6[31:26] names the supervisor domain: 0 (the host's view) or 1 (this TSM, as SUPD reports); a6[25:16] are
    // reserved.
    if (fid > 0xffffffff || ((fid >>> 16) & 0x3ff) !== 0 || fid >>> 26 > 1) return sbiErr(E.NOT_SUPPORTED);
    switch (fid & 0xffff) {
      case 0: return this.tsmInfo(a[0], a[1]);
      case 1: return this.convert(a[0], a[1]);
      case 2: return this.reclaim(a[0], a[1]);
      case 3: return this.globalFence();
      case 4: return sbiOk(); // one hart: no round ever waits for this hart's local fence
      case 5: return this.createTvm(a[0], a[1]);
      case 6: return this.finalize(a[0], a[1], a[2], a[3]);
      case 7: return sbiErr(E.NOT_SUPPORTED); // promote_to_tvm: capability bit 0 is clear
      case 8: return this.destroy(a[0]);
      case 9: return this.withTvm(a[0], (t) => this.addRegion(t, a[1], a[2]));
      case 10: return this.withTvm(a[0], (t) => this.addPtPages(t, a[1], a[2]));
      case 11: return this.withTvm(a[0], (t) => this.addMeasured(t, a[1], a[2], a[3], a[4], a[5]));
      case 12: return this.withTvm(a[0], (t) => this.addZero(t, a[1], a[2], a[3], a[4]));
      case 13: return this.withTvm(a[0], (t) => this.addShared(t, a[1], a[2], a[3], a[4]));
      case 14: return this.withTvm(a[0], (t) => this.createVcpu(t, a[1], a[2]));
      case 15: return this.withTvm(a[0], (t) => this.run(t, a[1]));
      case 16: return this.withTvm(a[0], (t) => { t.fenceVersion++; return sbiOk(); });
      case 17: return this.withTvm(a[0], (t) => this.invalidate(t, a[1], a[2]));
      case 18: return this.withTvm(a[0], (t) => this.validate(t, a[1], a[2]));
      case 19: return this.withTvm(a[0], (t) => this.remove(t, a[1], a[2]));
      default: return sbiErr(E.NOT_SUPPORTED);
    }
  }

  private count(eid: number, fid: number): void {
    const key = `${eid.toString(16)}:${fid}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
  }

  private withTvm(id: bigint, f: (t: Tvm) => SbiResult): SbiResult {
    const t = this.tvms.get(small(id));
    return t ? f(t) : sbiErr(E.INVALID_PARAM);
  }

  // ---- Host memory checks ----

  /** RAM page indices of n pages at base, all in `state` (and owned by `tvm` when given), or null. */
  private pagesIn(base: bigint, n: bigint, state: Page, tvm?: number): number[] | null {
    const idx = this.pages.range(small(base), small(n));
    if (!idx) return null;
    for (const i of idx) if (this.pages.state[i] !== state || (tvm !== undefined && this.pages.tag[i] !== tvm)) return null;
    return idx;
  }

  private hostBuffer(addr: bigint, len: number): number {
    const a = small(addr);
    return a >= 0 && this.pages.hostOwns(a, len) ? a : -1;
  }

  private isShmem(i: number): boolean {
    return this.shmem >= 0 && i >= this.pages.index(this.shmem) && i < this.pages.index(this.shmem) + SHMEM_BYTES / PAGE;
  }

  private setHostMapping(i: number, present: boolean): void {
    const pa = this.pages.addr(i), host = this.salus.host;
    const ok = present ? host.map(pa, pa, PAGE, LEAF_RWX) : host.page(pa) !== null;
    if (!ok) throw new Error('out of hypervisor memory for host G-stage tables');
    if (!present) host.setFlags(host.page(pa)!, 0);
  }

  // ---- COVH ----

  private tsmInfo(addr: bigint, len: bigint): SbiResult {
    if (!aligned(addr, 4)) return sbiErr(E.INVALID_ADDRESS);
    if (len < BigInt(TSM_INFO.SIZE)) return sbiErr(E.INVALID_PARAM);
    const a = this.hostBuffer(addr, TSM_INFO.SIZE);
    if (a < 0) return sbiErr(E.INVALID_ADDRESS);
    const b = new DataView(new ArrayBuffer(TSM_INFO.SIZE));
    b.setUint32(0, TSM_INFO.STATE_READY, true);
    b.setUint32(4, TSM_INFO.IMPL_SALUS, true);
    b.setUint32(8, TSM_INFO.VERSION, true);
    b.setBigUint64(16, TSM_INFO.CAPS, true);
    b.setBigUint64(24, BigInt(TSM_INFO.TVM_STATE_PAGES), true);
    b.setBigUint64(32, BigInt(TSM_INFO.MAX_VCPUS), true);
    b.setBigUint64(40, BigInt(TSM_INFO.VCPU_STATE_PAGES), true);
    this.mem.write(a, new Uint8Array(b.buffer));
    return sbiOk(TSM_INFO.SIZE);
  }

  private convert(base: bigint, n: bigint): SbiResult {
    if (n <= 0n || n > BigInt(this.pages.count)) return sbiErr(E.INVALID_PARAM);
    const idx = this.pagesIn(base, n, Page.Host);
    // Not host RAM, already confidential, the NACL area, or a page some TVM maps as shared.
    if (!idx || idx.some((i) => this.isShmem(i) || this.sharedRefs.has(i))) return sbiErr(E.INVALID_ADDRESS);
    for (const i of idx) {
      this.setHostMapping(i, false);
      this.pages.set(i, Page.Converting, this.tlbVersion);
    }
    this.salus.fenceGuest();
    return sbiOk();
  }

  /**
   * A fence round over every page converted since the last one. It completes when every other hart has run
   * local_fence: with one hart, at once (the caller's own TLB was fenced by convert_pages).
   */
  private globalFence(): SbiResult {
    const round = this.tlbVersion++;
    for (let i = 0; i < this.pages.count; i++) {
      if (this.pages.state[i] === Page.Converting && this.pages.tag[i] <= round) this.pages.set(i, Page.Converted);
    }
    return sbiOk();
  }

  private reclaim(base: bigint, n: bigint): SbiResult {
    if (n <= 0n || n > BigInt(this.pages.count)) return sbiErr(E.INVALID_PARAM);
    const idx = this.pagesIn(base, n, Page.Converted);
    if (!idx) return sbiErr(E.INVALID_ADDRESS);
    for (const i of idx) {
      this.mem.zero(this.pages.addr(i), PAGE);
      this.pages.set(i, Page.Host);
      this.setHostMapping(i, true);
    }
    this.salus.fenceGuest();
    return sbiOk();
  }

  /** Assign converted pages to a TVM; every caller zeroes or overwrites them before the TVM can see them. */
  private take(t: Tvm, idx: number[], state: Page.TvmInternal | Page.TvmMapped): void {
    for (const i of idx) {
      this.pages.set(i, state, t.id);
      t.pages.add(i);
    }
  }

  private createTvm(addr: bigint, len: bigint): SbiResult {
    const a = this.hostBuffer(addr, 16);
    if (a < 0) return sbiErr(E.INVALID_ADDRESS);
    if (len < 16n) return sbiErr(E.INVALID_PARAM);
    const pgdir = this.mem.read64(a), state = this.mem.read64(a + 8);
    const root = aligned(pgdir, ROOT_BYTES) ? this.pagesIn(pgdir, BigInt(ROOT_BYTES / PAGE), Page.Converted) : null;
    const st = aligned(state, PAGE) ? this.pagesIn(state, BigInt(TSM_INFO.TVM_STATE_PAGES), Page.Converted) : null;
    if (!root || !st || root.some((i) => st.includes(i))) return sbiErr(E.INVALID_ADDRESS);
    const id = this.nextTvmId++;
    const t: Tvm = {
      id, runnable: false, ptPool: [], pages: new Set(), shared: new Set(), regions: [], vcpus: new Map(),
      msmt: new Measurements(), fenceVersion: 0, blocked: new Map(),
      gstage: null as unknown as GStage,
    };
    this.take(t, [...root, ...st], Page.TvmInternal);
    for (const i of [...root, ...st]) this.mem.zero(this.pages.addr(i), PAGE);
    t.gstage = new GStage(this.mem, Number(pgdir), () => {
      const p = t.ptPool.pop();
      if (p === undefined) return null;
      this.mem.zero(p, PAGE);
      return p;
    });
    this.tvms.set(id, t);
    return sbiOk(id);
  }

  private finalize(id: bigint, entry: bigint, arg: bigint, identity: bigint): SbiResult {
    const t = this.tvms.get(small(id));
    if (!t || t.runnable) return sbiErr(E.INVALID_PARAM);
    const boot = t.vcpus.get(0);
    if (!boot) return sbiErr(E.INVALID_PARAM);
    if (identity !== 0n) {
      const a = this.hostBuffer(identity, 64);
      if (a < 0 || !aligned(identity, 64)) return sbiErr(E.INVALID_PARAM);
      t.identity = this.mem.read(a, 64);
    }
    t.msmt.finalize(entry, arg);
    this.writeVcpuField(boot, VS_PC, entry);
    this.writeVcpuField(boot, 8 * 10, 0n); // a0 = vCPU id
    this.writeVcpuField(boot, 8 * 11, arg);
    boot.runnable = true;
    t.runnable = true;
    return sbiOk();
  }

  private destroy(id: bigint): SbiResult {
    const t = this.tvms.get(small(id));
    if (!t) return sbiErr(E.INVALID_PARAM);
    if (this.running?.tvm === t) return sbiErr(E.FAILED);
    // Everything the TVM held becomes converted again, scrubbed now so no later owner sees its data.
    for (const i of t.pages) {
      this.mem.zero(this.pages.addr(i), PAGE);
      this.pages.set(i, Page.Converted);
    }
    for (const i of t.shared) this.unshareHostPage(i);
    this.tvms.delete(t.id);
    this.salus.fenceGuest();
    return sbiOk();
  }

  private unshareHostPage(i: number): void {
    const n = (this.sharedRefs.get(i) ?? 1) - 1;
    if (n > 0) this.sharedRefs.set(i, n); else this.sharedRefs.delete(i);
  }

  private regionAt(t: Tvm, gpa: number, len = 1): Region | undefined {
    return t.regions.find((r) => gpa >= r.gpa && gpa + len <= r.gpa + r.len);
  }

  private overlaps(t: Tvm, gpa: number, len: number): boolean {
    return t.regions.some((r) => gpa < r.gpa + r.len && r.gpa < gpa + len);
  }

  /** A GPA range argument: page-aligned start, a non-zero whole number of pages, inside the GPA space. */
  private gpaRange(gpa: bigint, len: bigint): { gpa: number; len: number } | number {
    if (!aligned(gpa, PAGE) || gpa < 0n || gpa >= BigInt(GPA_LIMIT)) return E.INVALID_ADDRESS;
    if (len <= 0n || !aligned(len, PAGE) || gpa + len > BigInt(GPA_LIMIT)) return E.INVALID_PARAM;
    return { gpa: Number(gpa), len: Number(len) };
  }

  private addRegion(t: Tvm, gpa: bigint, len: bigint): SbiResult {
    if (t.runnable) return sbiErr(E.INVALID_PARAM);
    const r = this.gpaRange(gpa, len);
    if (typeof r === 'number') return sbiErr(r);
    if (this.overlaps(t, r.gpa, r.len)) return sbiErr(E.INVALID_ADDRESS);
    t.regions.push({ ...r, kind: 'confidential' });
    return sbiOk();
  }

  private addPtPages(t: Tvm, base: bigint, n: bigint): SbiResult {
    if (n <= 0n) return sbiErr(E.INVALID_PARAM);
    const idx = this.pagesIn(base, n, Page.Converted);
    if (!idx) return sbiErr(E.INVALID_ADDRESS);
    this.take(t, idx, Page.TvmInternal);
    t.ptPool.push(...idx.map((i) => this.pages.addr(i)));
    return sbiOk();
  }

  /**
   * Checks shared by the page-adding calls: the page type (4 KiB, 2 MiB or 1 GiB; base and gpa aligned to it),
   * converted destination pages (or, for shared pages, host pages), and unmapped GPAs inside a region of the
   * wanted kind. Returns the 4 KiB page indices and the first GPA; larger pages are mapped as 4 KiB leaves.
   */
  private placement(t: Tvm, base: bigint, type: bigint, n: bigint, gpa: bigint, kind: RegionKind, from: Page):
    { idx: number[]; gpa: number } | number {
    if (type < 0n || type > 2n) return E.INVALID_PARAM;
    const per = 512n ** type, size = BigInt(PAGE) * per;
    if (n <= 0n || n * per > BigInt(this.pages.count)) return E.INVALID_PARAM;
    if (!aligned(base, Number(size))) return E.INVALID_ADDRESS;
    const idx = this.pagesIn(base, n * per, from);
    if (!idx || (from === Page.Host && idx.some((i) => this.isShmem(i)))) return E.INVALID_ADDRESS;
    if (!aligned(gpa, Number(size))) return E.INVALID_ADDRESS;
    const g = this.gpaRange(gpa, n * size);
    if (typeof g === 'number') return E.INVALID_ADDRESS;
    const region = this.regionAt(t, g.gpa, g.len);
    if (!region || region.kind !== kind) return E.INVALID_ADDRESS;
    for (let k = 0; k < idx.length; k++) if (t.gstage.leaf(g.gpa + k * PAGE)) return E.INVALID_ADDRESS;
    if (t.ptPool.length < this.tablesNeeded(t, g.gpa, g.len)) return COVE_ERR.OUT_OF_PTPAGES;
    return { idx, gpa: g.gpa };
  }

  /** Page-table pages a mapping of [gpa, gpa+len) still needs (generous: one per missing level per 2 MiB). */
  private tablesNeeded(t: Tvm, gpa: number, len: number): number {
    let n = 0;
    for (let a = gpa - (gpa % (2 << 20)); a < gpa + len; a += 2 << 20) {
      if (!t.gstage.hasTableFor(a)) n += 2;
    }
    return n;
  }

  private mapPages(t: Tvm, idx: number[], gpa: number, flags: number): void {
    idx.forEach((i, k) => {
      if (!t.gstage.map(gpa + k * PAGE, this.pages.addr(i), PAGE, flags)) throw new Error('page-table pool ran out after the check');
    });
    this.salus.fenceGuest();
  }

  private addMeasured(t: Tvm, src: bigint, dst: bigint, type: bigint, n: bigint, gpa: bigint): SbiResult {
    if (t.runnable) return sbiErr(E.INVALID_PARAM);
    const p = this.placement(t, dst, type, n, gpa, 'confidential', Page.Converted);
    if (typeof p === 'number') return sbiErr(p);
    const s = this.hostBuffer(src, p.idx.length * PAGE);
    if (s < 0) return sbiErr(E.INVALID_ADDRESS); // any alignment: the TSM copies it
    p.idx.forEach((i, k) => {
      const bytes = this.mem.read(s + k * PAGE, PAGE);
      this.mem.write(this.pages.addr(i), bytes);
      t.msmt.extendPage(BigInt(p.gpa + k * PAGE), bytes);
    });
    this.take(t, p.idx, Page.TvmMapped);
    this.mapPages(t, p.idx, p.gpa, LEAF_RWX);
    return sbiOk();
  }

  private addZero(t: Tvm, base: bigint, type: bigint, n: bigint, gpa: bigint): SbiResult {
    if (!t.runnable) return sbiErr(E.INVALID_PARAM);
    const p = this.placement(t, base, type, n, gpa, 'confidential', Page.Converted);
    if (typeof p === 'number') return sbiErr(p);
    for (const i of p.idx) this.mem.zero(this.pages.addr(i), PAGE);
    this.take(t, p.idx, Page.TvmMapped);
    this.mapPages(t, p.idx, p.gpa, LEAF_RWX);
    return sbiOk();
  }

  private addShared(t: Tvm, base: bigint, type: bigint, n: bigint, gpa: bigint): SbiResult {
    if (!t.runnable) return sbiErr(E.INVALID_PARAM);
    const p = this.placement(t, base, type, n, gpa, 'shared', Page.Host);
    if (typeof p === 'number') return sbiErr(p);
    if (p.idx.some((i) => t.shared.has(i))) return sbiErr(E.INVALID_ADDRESS); // one GPA per shared page and TVM
    for (const i of p.idx) {
      t.shared.add(i);
      this.sharedRefs.set(i, (this.sharedRefs.get(i) ?? 0) + 1);
    }
    this.mapPages(t, p.idx, p.gpa, LEAF_RW);
    return sbiOk();
  }

  private createVcpu(t: Tvm, vcpuId: bigint, page: bigint): SbiResult {
    if (t.runnable || vcpuId < 0n || vcpuId >= BigInt(TSM_INFO.MAX_VCPUS) || t.vcpus.has(Number(vcpuId))) return sbiErr(E.INVALID_PARAM);
    const idx = aligned(page, PAGE) ? this.pagesIn(page, BigInt(TSM_INFO.VCPU_STATE_PAGES), Page.Converted) : null;
    if (!idx) return sbiErr(E.INVALID_ADDRESS);
    this.take(t, idx, Page.TvmInternal);
    const p = this.pages.addr(idx[0]);
    this.mem.zero(p, PAGE);
    this.mem.write64(p + VS_PRIV, 1n); // VS-mode
    this.mem.write64(p + VS_CSRS + 8 * VCPU_CSRS.indexOf(CSR.vstimecmp), ALL_ONES);
    const id = Number(vcpuId);
    t.vcpus.set(id, { id, page: p, runnable: false, dead: false, pending: { kind: 'none' } });
    return sbiOk();
  }

  /** Each page of [gpa, gpa+len) as its G-stage leaf, or an error code. */
  private leaves(t: Tvm, gpa: bigint, len: bigint) {
    const r = this.gpaRange(gpa, len);
    if (typeof r === 'number') return r;
    const out = [];
    for (let a = r.gpa; a < r.gpa + r.len; a += PAGE) {
      const leaf = t.gstage.leaf(a);
      if (!leaf) return E.INVALID_ADDRESS;
      out.push(leaf);
    }
    return out;
  }

  private invalidate(t: Tvm, gpa: bigint, len: bigint): SbiResult {
    if (!t.runnable) return sbiErr(E.INVALID_PARAM);
    const ls = this.leaves(t, gpa, len);
    if (typeof ls === 'number') return sbiErr(ls);
    if (ls.some((l) => !(l.flags & PTE.V))) return sbiErr(E.INVALID_ADDRESS);
    for (const l of ls) {
      t.gstage.setFlags(l, l.flags & ~PTE.V);
      t.blocked.set(l.gpa, t.fenceVersion);
      const i = this.pages.index(l.hpa);
      if (this.pages.state[i] === Page.TvmMapped) this.pages.set(i, Page.TvmBlocked, t.id);
    }
    this.salus.fenceGuest();
    return sbiOk();
  }

  private validate(t: Tvm, gpa: bigint, len: bigint): SbiResult {
    if (!t.runnable) return sbiErr(E.INVALID_PARAM);
    const ls = this.leaves(t, gpa, len);
    if (typeof ls === 'number') return sbiErr(ls);
    if (ls.some((l) => !t.blocked.has(l.gpa))) return sbiErr(E.INVALID_ADDRESS);
    for (const l of ls) {
      t.gstage.setFlags(l, l.flags | PTE.V);
      t.blocked.delete(l.gpa);
      const i = this.pages.index(l.hpa);
      if (this.pages.state[i] === Page.TvmBlocked) this.pages.set(i, Page.TvmMapped, t.id);
    }
    this.salus.fenceGuest();
    return sbiOk();
  }

  private remove(t: Tvm, gpa: bigint, len: bigint): SbiResult {
    if (!t.runnable) return sbiErr(E.INVALID_PARAM);
    const ls = this.leaves(t, gpa, len);
    if (typeof ls === 'number') return sbiErr(ls);
    // Every page must be blocked, and a tvm_fence must have started since (single hart: it is complete).
    if (ls.some((l) => (t.blocked.get(l.gpa) ?? t.fenceVersion) >= t.fenceVersion)) return sbiErr(E.INVALID_ADDRESS);
    for (const l of ls) {
      t.gstage.setFlags(l, 0);
      t.blocked.delete(l.gpa);
      const i = this.pages.index(l.hpa);
      if (t.shared.delete(i)) this.unshareHostPage(i);
      else if (t.pages.delete(i)) this.pages.set(i, Page.Converted);
    }
    this.salus.fenceGuest();
    return sbiOk();
  }

  // ---- NACL ----

  private nacl(fid: number, a: bigint[]): SbiResult {
    if (fid === 0) return sbiOk(0); // CoVE needs none of the nested-acceleration features
    if (fid !== 1) return sbiErr(E.NOT_SUPPORTED);
    if (a[0] === ALL_ONES) { this.shmem = -1; return sbiOk(); }
    if (a[2] !== 0n || !aligned(a[0], PAGE)) return sbiErr(E.INVALID_PARAM);
    const p = a[1] === 0n ? this.hostBuffer(a[0], SHMEM_BYTES) : -1;
    if (p < 0) return sbiErr(E.INVALID_ADDRESS);
    this.shmem = p;
    return sbiOk();
  }

  // ---- Running a vCPU ----

  private vcpuField(v: Vcpu, off: number): bigint { return this.mem.read64(v.page + off); }
  private writeVcpuField(v: Vcpu, off: number, value: bigint): void { this.mem.write64(v.page + off, value); }

  /** Save the hart's guest state (registers, FP, VS CSRs, pc = sepc, previous privilege) to a state page. */
  private saveHart(page: number, pc: bigint): void {
    const h = this.salus.h;
    for (let r = 1; r < 32; r++) this.mem.write64(page + 8 * r, h.getX(r));
    for (let r = 0; r < 32; r++) this.mem.write64(page + 0x100 + 8 * r, BigInt.asUintN(64, (BigInt(h.fi[2 * r + 1]) << 32n) | BigInt(h.fi[2 * r] >>> 0)));
    this.mem.write64(page + VS_FCSR, BigInt((h.frm << 5) | h.fflags));
    this.mem.write64(page + VS_PC, pc);
    this.mem.write64(page + VS_PRIV, this.salus.csr(CSR.sstatus) & SSTATUS_SPP ? 1n : 0n);
    VCPU_CSRS.forEach((c, k) => this.mem.write64(page + VS_CSRS + 8 * k, this.salus.csr(c)));
  }

  /** Load guest state from a state page; returns its pc. */
  private loadHart(page: number): bigint {
    const h = this.salus.h;
    for (let r = 1; r < 32; r++) h.setX(r, this.mem.read64(page + 8 * r));
    for (let r = 0; r < 32; r++) {
      const v = this.mem.read64(page + 0x100 + 8 * r);
      h.fi[2 * r] = Number(v & 0xffffffffn) | 0;
      h.fi[2 * r + 1] = Number(v >> 32n) | 0;
    }
    const fcsr = Number(this.mem.read64(page + VS_FCSR));
    h.fflags = fcsr & 31; h.frm = (fcsr >> 5) & 7;
    VCPU_CSRS.forEach((c, k) => this.salus.setCsr(c, this.mem.read64(page + VS_CSRS + 8 * k)));
    const s = this.salus.csr(CSR.sstatus);
    this.salus.setCsr(CSR.sstatus, this.mem.read64(page + VS_PRIV) ? s | SSTATUS_SPP : s & ~SSTATUS_SPP);
    return this.mem.read64(page + VS_PC);
  }

  private run(t: Tvm, vcpuId: bigint): SbiResult {
    const v = t.vcpus.get(small(vcpuId));
    if (!t.runnable || !v || !v.runnable || v.dead) return sbiErr(E.INVALID_PARAM);
    if (this.shmem < 0) return sbiErr(E.NO_SHMEM);
    if (v.pending.kind === 'share' && !this.completeShare(t, v.pending)) return sbiErr(E.INVALID_PARAM);
    const s = this.salus;
    if (this.hostPage < 0) this.hostPage = s.allocPage() ?? -1;
    if (this.hostPage < 0) return sbiErr(E.FAILED);
    // The host's state (its pc is already past the ecall) goes to Salus's page; the TVM's comes in.
    this.saveHart(this.hostPage, s.csr(CSR.sepc));
    const hostTimer = s.csr(CSR.vstimecmp);
    const pc = this.loadHart(v.page);
    s.setCsr(CSR.hgatp, t.gstage.hgatp(t.id & 0x3fff)); // 14-bit VMID: larger ids would spill into MODE (every switch fences)
    s.fenceGuest();
    // The host's timer and external interrupts preempt the TVM: Salus's own timer stands in for the host's.
    s.setCsr(CSR.stimecmp, hostTimer);
    s.setCsr(CSR.sie, s.csr(CSR.sie) | SIE_STIE | SIE_SEIE);
    this.running = { tvm: t, vcpu: v };
    s.enterGuest(this.complete(v, pc));
    return null;
  }

  /** Finish what the last exit left pending, with the host's answer from the shared area; the resume pc. */
  private complete(v: Vcpu, pc: bigint): bigint {
    const h = this.salus.h;
    const p = v.pending;
    v.pending = { kind: 'none' };
    const shm = (r: number) => this.mem.read64(this.shmem + shmemGpr(r));
    switch (p.kind) {
      case 'ecall':
        h.setX(10, shm(10));
        if (!p.legacy) h.setX(11, shm(11));
        return pc + 4n;
      case 'mmio-load': {
        h.setX(p.rd, loadResult(p.funct3, shm(10)));
        return pc + BigInt(p.len);
      }
      case 'mmio-store': return pc + BigInt(p.len);
      case 'share': // the host accepted (a0 = 0) or refused the conversion
        h.setX(10, shm(10) === 0n ? 0n : BigInt.asUintN(64, BigInt(E.DENIED)));
        h.setX(11, 0n);
        return pc + 4n;
      default: return pc;
    }
  }

  /** The host accepted (shmem a0 = 0) a share/unshare: the range must hold no mappings any more. */
  private completeShare(t: Tvm, p: { gpa: number; len: number; to: RegionKind }): boolean {
    if (this.mem.read64(this.shmem + shmemGpr(10)) !== 0n) return true; // refused: the guest gets DENIED
    for (let a = p.gpa; a < p.gpa + p.len; a += PAGE) if (t.gstage.leaf(a)?.flags) return false;
    const r = this.regionAt(t, p.gpa, p.len)!;
    // Split the region around the converted range.
    t.regions = t.regions.filter((x) => x !== r);
    if (p.gpa > r.gpa) t.regions.push({ gpa: r.gpa, len: p.gpa - r.gpa, kind: r.kind });
    if (p.gpa + p.len < r.gpa + r.len) t.regions.push({ gpa: p.gpa + p.len, len: r.gpa + r.len - p.gpa - p.len, kind: r.kind });
    t.regions.push({ gpa: p.gpa, len: p.len, kind: p.to });
    return true;
  }

  // ---- Traps while a TVM runs ----

  private tvmTrap(scause: bigint): void {
    const s = this.salus;
    const { tvm, vcpu } = this.running!;
    const code = Number(scause & 0xffn);
    if (scause & INTERRUPT) {
      // A host interrupt (its timer via Salus's stimecmp, the PLIC, an IPI): back to the host to handle it.
      this.exit(tvm, vcpu, s.csr(CSR.sepc), scause, 0n, 0n, {});
      return;
    }
    const sepc = s.csr(CSR.sepc);
    switch (code) {
      case Cause.EcallVS: this.tvmEcall(tvm, vcpu, sepc); return;
      case 20: case 21: case 23: this.tvmGuestPageFault(tvm, vcpu, sepc, code); return;
      case Cause.VirtualInstruction: {
        const insn = s.csr(CSR.stval) & 0xffffffffn;
        if (insn === BigInt(WFI)) { this.exit(tvm, vcpu, sepc + 4n, BigInt(code), insn, insn, {}); return; }
        this.injectOrEnd(tvm, vcpu, sepc, Cause.IllegalInstruction, insn);
        return;
      }
      default: this.injectOrEnd(tvm, vcpu, sepc, code, s.csr(CSR.stval));
    }
  }

  /** Deliver a fault to the TVM, unless its trap handler is what faulted: then the vCPU cannot go on. */
  private injectOrEnd(t: Tvm, v: Vcpu, sepc: bigint, cause: number, tval: bigint): void {
    const s = this.salus;
    if (sepc === (s.csr(CSR.vstvec) & ~3n)) this.exit(t, v, sepc, BigInt(cause), tval, 0n, { dead: true });
    else s.inject(cause, tval);
  }

  /**
   * Leave the TVM for the host: save the vCPU (resuming at pc), restore the host, report the exit in the host's
   * scause/stval and the shared area, and return from the host's run_tvm_vcpu with value = 1 if the vCPU is dead.
   */
  private exit(t: Tvm, v: Vcpu, pc: bigint, cause: bigint, stval: bigint, htinst: bigint,
    o: { gprs?: Map<number, bigint>; htval?: bigint; dead?: boolean }): void {
    const s = this.salus, h = s.h;
    this.saveHart(v.page, pc);
    this.running = null;
    if (o.dead) v.dead = true;
    const hostPc = this.loadHart(this.hostPage);
    s.setCsr(CSR.stimecmp, ALL_ONES);
    s.setCsr(CSR.sie, s.csr(CSR.sie) & ~SIE_STIE);
    s.setCsr(CSR.hgatp, s.host.hgatp(0));
    s.fenceGuest();
    for (const [r, val] of o.gprs ?? []) this.mem.write64(this.shmem + shmemGpr(r), val);
    this.mem.write64(this.shmem + shmemCsr(CSR.htval), o.htval ?? 0n);
    this.mem.write64(this.shmem + shmemCsr(CSR.htinst), htinst);
    this.mem.write64(this.shmem + shmemCsr(CSR.vstimecmp), this.vcpuField(v, VS_CSRS + 8 * VCPU_CSRS.indexOf(CSR.vstimecmp)));
    this.mem.write64(this.shmem + shmemCsr(CSR.vsie), this.vcpuField(v, VS_CSRS + 8 * VCPU_CSRS.indexOf(CSR.vsie)));
    s.setCsr(CSR.vscause, cause);
    s.setCsr(CSR.vstval, stval);
    h.setX(10, 0n);
    h.setX(11, v.dead ? 1n : 0n);
    s.syncExternalInterrupt();
    s.enterGuest(hostPc);
  }

  private tvmGuestPageFault(t: Tvm, v: Vcpu, sepc: bigint, code: number): void {
    const s = this.salus;
    const gpa = s.faultGpa();
    const region = this.regionAt(t, gpa);
    if (region?.kind === 'mmio') {
      const tinst = Number(s.csr(CSR.htinst));
      const opcode = (tinst | 2) & 0x7f, funct3 = (tinst >>> 12) & 7, len = tinst & 2 ? 4 : 2;
      const width = 1 << (funct3 & 3);
      if ((opcode === 0x03 && funct3 !== 7) || (opcode === 0x23 && funct3 < 4)) {
        if (opcode === 0x03) {
          v.pending = { kind: 'mmio-load', rd: (tinst >>> 7) & 31, funct3, len };
          this.exit(t, v, sepc, BigInt(code), BigInt(gpa), BigInt(0x03 | (funct3 << 12) | (10 << 7)), { htval: BigInt(gpa) >> 2n });
        } else {
          const value = BigInt.asUintN(8 * width, s.h.getX((tinst >>> 20) & 31));
          v.pending = { kind: 'mmio-store', len };
          this.exit(t, v, sepc, BigInt(code), BigInt(gpa), BigInt(0x23 | (funct3 << 12) | (10 << 20)),
            { htval: BigInt(gpa) >> 2n, gprs: new Map([[10, value]]) });
        }
        return;
      }
    } else if (region) {
      // An unpopulated page of a confidential or shared region: the host populates it and runs the vCPU again.
      const page = gpa - (gpa % PAGE);
      const leaf = t.gstage.leaf(page);
      if (!leaf || !(leaf.flags & PTE.V)) {
        this.exit(t, v, sepc, BigInt(code), BigInt(page), 0n, { htval: BigInt(page) >> 2n });
        return;
      }
    }
    // Outside every region (or an access the host cannot emulate): the guest gets an access fault.
    this.injectOrEnd(t, v, sepc, code === 20 ? Cause.FetchAccess : code === 21 ? Cause.LoadAccess : Cause.StoreAccess, s.csr(CSR.stval));
  }

  // ---- COVG and other guest ecalls ----

  private tvmEcall(t: Tvm, v: Vcpu, sepc: bigint): void {
    const h = this.salus.h;
    const { eid, fid, args: a } = sbiCallOf(h);
    const gprs = new Map([10, 11, 12, 13, 14, 15, 16, 17].map((r) => [r, h.getX(r)] as [number, bigint]));
    this.count(eid, fid);
    const answer = (r: [number, bigint]) => {
      setSbiResult(h, r);
      this.salus.enterGuest(sepc + 4n);
    };
    if (eid === EID.BASE) {
      if (fid === 3) { answer(sbiOk(a[0] === BigInt(EID.COVG) || a[0] === BigInt(EID.BASE) ? 1 : 0)); return; }
      if (fid <= 2) { answer(sbiOk([0x02000000, 0x53414c55, 1][fid])); return; }
    }
    if (eid === EID.SRST || (eid === EID.HSM && fid === 1)) {
      // Shutdown or hart_stop: the vCPU is done; the host learns of it as a fatal ecall exit.
      this.exit(t, v, sepc, BigInt(Cause.EcallVS), 0n, 0n, { gprs, dead: true });
      return;
    }
    if (eid !== EID.COVG) {
      // Everything else (console, the host's own protocols) is the host's to answer.
      v.pending = { kind: 'ecall', legacy: eid < 0x10 };
      this.exit(t, v, sepc, BigInt(Cause.EcallVS), 0n, 0n, { gprs });
      return;
    }
    const r = this.covg(t, v, fid, a);
    if (r === 'share') { this.exit(t, v, sepc, BigInt(Cause.EcallVS), 0n, 0n, { gprs }); return; }
    setSbiResult(h, r);
    // Errors go straight back; a successful call is also reported to the host, for information.
    if (r[0] === E.SUCCESS) this.exit(t, v, sepc + 4n, BigInt(Cause.EcallVS), 0n, 0n, { gprs });
    else this.salus.enterGuest(sepc + 4n);
  }

  /** A confidential, mapped page-aligned buffer of the TVM: its host physical address, or -1. */
  private guestBuffer(t: Tvm, gpa: bigint, len: number): number {
    if (!aligned(gpa, PAGE) || len <= 0 || len > PAGE) return -1;
    const g = small(gpa);
    const region = this.regionAt(t, g, len);
    const leaf = region?.kind === 'confidential' ? t.gstage.leaf(g) : null;
    if (!leaf || !(leaf.flags & PTE.V)) return -1;
    const i = this.pages.index(leaf.hpa);
    return this.pages.state[i] === Page.TvmMapped && this.pages.tag[i] === t.id ? leaf.hpa : -1;
  }

  private covg(t: Tvm, v: Vcpu, fid: number, a: bigint[]): [number, bigint] | 'share' {
    switch (fid) {
      case 0: { // add_mmio_region
        const r = this.gpaRange(a[0], a[1]);
        if (typeof r === 'number') return sbiErr(E.INVALID_ADDRESS);
        if (this.overlaps(t, r.gpa, r.len)) return sbiErr(E.INVALID_ADDRESS);
        t.regions.push({ ...r, kind: 'mmio' });
        return sbiOk();
      }
      case 1: { // remove_mmio_region: every MMIO region overlapping the range
        const r = this.gpaRange(a[0], a[1]);
        if (typeof r === 'number') return sbiErr(E.INVALID_ADDRESS);
        t.regions = t.regions.filter((x) => x.kind !== 'mmio' || !(r.gpa < x.gpa + x.len && x.gpa < r.gpa + r.len));
        return sbiOk();
      }
      case 2: case 3: { // share / unshare: the host must first remove what is mapped there
        const r = this.gpaRange(a[0], a[1]);
        if (typeof r === 'number') return sbiErr(r);
        const region = this.regionAt(t, r.gpa, r.len);
        if (!region) return sbiErr(E.INVALID_ADDRESS);
        if (region.kind !== (fid === 2 ? 'confidential' : 'shared')) return sbiErr(E.INVALID_PARAM);
        v.pending = { kind: 'share', gpa: r.gpa, len: r.len, to: fid === 2 ? 'shared' : 'confidential' };
        return 'share';
      }
      case 4: case 5: return sbiErr(E.NOT_SUPPORTED); // external interrupts for TVMs: not implemented
      case 6: { // get_attcaps
        if (!aligned(a[1], PAGE) || a[1] === 0n) return sbiErr(E.INVALID_PARAM);
        const p = this.guestBuffer(t, a[0], CAPS_SIZE);
        if (p < 0) return sbiErr(E.INVALID_ADDRESS);
        this.mem.write(p, attestationCapabilities());
        return sbiOk();
      }
      case 7: { // extend_measurement
        const p = this.guestBuffer(t, a[0], HASH_SIZE);
        if (p < 0) return sbiErr(E.INVALID_ADDRESS);
        if (a[1] !== BigInt(HASH_SIZE)) return sbiErr(E.INVALID_PARAM);
        return t.msmt.extendRuntime(small(a[2]), this.mem.read(p, HASH_SIZE)) ? sbiOk() : sbiErr(E.INVALID_PARAM);
      }
      case 8: { // get_evidence
        if (a[3] !== BigInt(CERT_FORMAT_X509)) return sbiErr(E.INVALID_PARAM);
        const keyLen = small(a[1]);
        const key = keyLen > 0 && keyLen <= PAGE ? this.guestBuffer(t, a[0], keyLen) : -1;
        const nonce = this.guestBuffer(t, a[2], CHALLENGE_SIZE);
        const out = this.guestBuffer(t, a[4], 1);
        if (key < 0 || nonce < 0 || out < 0) return sbiErr(E.INVALID_ADDRESS);
        const cert = this.key.evidence({
          measurements: t.msmt, challenge: this.mem.read(nonce, CHALLENGE_SIZE), publicKey: this.mem.read(key, keyLen),
          identity: t.identity, tvmId: t.id,
        });
        if (BigInt(cert.length) > a[5] || cert.length > PAGE) return sbiErr(E.INVALID_PARAM);
        this.mem.write(out, cert);
        return sbiOk(cert.length);
      }
      case 9: { // retrieve_secret: there is none without local attestation
        if (a[1] > BigInt(PAGE)) return sbiErr(E.INVALID_PARAM);
        if (this.guestBuffer(t, a[0], 1) < 0) return sbiErr(E.INVALID_ADDRESS);
        return sbiErr(COVE_ERR.AUTH);
      }
      case 10: { // read_measurement
        const p = this.guestBuffer(t, a[0], HASH_SIZE);
        if (p < 0) return sbiErr(E.INVALID_ADDRESS);
        if (a[1] < BigInt(HASH_SIZE)) return sbiErr(E.INVALID_PARAM);
        const value = t.msmt.read(small(a[2]));
        if (!value) return sbiErr(E.INVALID_PARAM);
        this.mem.write(p, value);
        return sbiOk(HASH_SIZE);
      }
      default: return sbiErr(E.NOT_SUPPORTED);
    }
  }
}
