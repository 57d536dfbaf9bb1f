// Ownership of every 4 KiB page of RAM. Each page has exactly one state; TVM states also name the owning TVM.
// The transitions allowed are those of the CoVE page state machine (docs/salus.md).
import { PAGE } from './gstage.js';

export const enum Page {
  /** Mapped in the host's G-stage: ordinary host memory (also the state of host pages shared into a TVM). */
  Host = 0,
  /** Salus's own memory, never mapped into any VM. */
  Hypervisor = 1,
  /** Removed from the host, waiting for a global fence round (the TLB version is recorded). */
  Converting = 2,
  /** Confidential, fenced, not assigned: may be donated to a TVM or reclaimed. */
  Converted = 3,
  /** Holds a TVM's own structures: G-stage tables, TVM state, vCPU state. */
  TvmInternal = 4,
  /** Confidential page mapped into a TVM. */
  TvmMapped = 5,
  /** Confidential page unmapped (invalid PTE) from a TVM, waiting for a TVM fence before removal. */
  TvmBlocked = 6,
}

export const PAGE_STATE_NAMES = ['host', 'hypervisor', 'converting', 'converted', 'tvm-internal', 'tvm-mapped', 'tvm-blocked'];

export class PageMap {
  readonly count: number;
  readonly state: Uint8Array;
  /** Owning TVM id for TVM states; the fence version for Converting. */
  readonly tag: Int32Array;

  constructor(readonly base: number, bytes: number) {
    this.count = Math.floor(bytes / PAGE);
    this.state = new Uint8Array(this.count);
    this.tag = new Int32Array(this.count);
  }

  /** Page index of an aligned physical address in RAM, or -1. */
  index(pa: number): number {
    if (!Number.isSafeInteger(pa) || pa % PAGE !== 0) return -1;
    const i = (pa - this.base) / PAGE;
    return i >= 0 && i < this.count ? i : -1;
  }

  /** Indices of n pages from pa when every one is in RAM (and aligned), else null. */
  range(pa: number, n: number): number[] | null {
    if (!Number.isSafeInteger(n) || n <= 0 || n > this.count) return null;
    const first = this.index(pa);
    if (first < 0 || first + n > this.count) return null;
    return Array.from({ length: n }, (_, k) => first + k);
  }

  addr(i: number): number { return this.base + i * PAGE; }

  set(i: number, state: Page, tag = 0): void {
    this.state[i] = state;
    this.tag[i] = tag;
  }

  /** Whether the host may access [pa, pa+len): every page it touches is host memory. */
  hostOwns(pa: number, len: number): boolean {
    if (!Number.isSafeInteger(pa) || !Number.isSafeInteger(len) || len < 0) return false;
    if (len === 0) return true;
    const first = Math.floor((pa - this.base) / PAGE), last = Math.floor((pa + len - 1 - this.base) / PAGE);
    if (first < 0 || last >= this.count) return false;
    for (let i = first; i <= last; i++) if (this.state[i] !== Page.Host) return false;
    return true;
  }
}
