// State of the hypervisor extension (H) kept per hart: the HS-level hypervisor CSRs, the VS CSRs and the M-level
// additions. The virtualization mode V, vsstatus and the HLV flag live on the Hart itself (the hot paths read them).
// Access rules, legalisation and side effects are in runtime/hcsr.ts.

/** Entries of the G-stage translation cache (direct-mapped by guest physical page). */
export const GCACHE_SIZE = 1024;

export class HypervisorState {
  /**
   * G-stage translation cache, as hardware keeps one: guest physical page -> supervisor physical page and the leaf's
   * permission bits, for leaves with U, A and D set. Dropped by hgatp writes, HFENCE.GVMA/VVMA and PMP changes.
   */
  readonly gcachePage = new Float64Array(GCACHE_SIZE).fill(-1);
  readonly gcacheBase = new Float64Array(GCACHE_SIZE);
  readonly gcacheFlags = new Int32Array(GCACHE_SIZE);
  flushGcache(): void { this.gcachePage.fill(-1); }

  /** hstatus bits 31:0 (VSXL = 64-bit is fixed and added on read). */
  hstatus = 0;
  hedeleg = 0;
  hideleg = 0;
  /** hvip.VSSIP/VSTIP/VSEIP (bits 2, 6, 10); VSSIP is also hip.VSSIP, mip.VSSIP and (delegated) vsip.SSIP. */
  hvip = 0;
  hcounteren = 0;
  htimedelta = 0n;
  henvcfg = 0n;
  htval = 0n;
  htinst = 0n;
  private hgatpValue = 0n;
  /** hgatp.MODE, kept as a number for the translation hot path. */
  hgatpMode = 0;
  get hgatp(): bigint { return this.hgatpValue; }
  set hgatp(v: bigint) { this.hgatpValue = v; this.hgatpMode = Number(v >> 60n); }
  vstvec = 0n;
  vsscratch = 0n;
  vsepc = 0n;
  vscause = 0n;
  vstval = 0n;
  vsatp = 0n;
  vstimecmp = 0n;
  mtval2 = 0n;
  mtinst = 0n;
  /** mstatus.GVA (bit 38) and mstatus.MPV (bit 39). */
  mgva = false;
  mpv = false;
}
