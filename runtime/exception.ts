// Taking the exception an instruction raised, shared by both engines.
import type { Hart } from './hart.js';
import { takeTrap } from './privilege.js';

const CAUSE_NAMES: Record<number, string> = {
  0: 'instruction address misaligned', 1: 'instruction access fault', 2: 'illegal instruction', 3: 'breakpoint',
  4: 'load address misaligned', 5: 'load access fault', 6: 'store address misaligned', 7: 'store access fault',
  8: 'ecall from U', 9: 'ecall from S', 10: 'ecall from VS', 11: 'ecall from M', 12: 'instruction page fault',
  13: 'load page fault', 15: 'store page fault', 20: 'instruction guest-page fault', 21: 'load guest-page fault',
  22: 'virtual instruction', 23: 'store guest-page fault',
};

export function causeName(cause: number): string {
  return CAUSE_NAMES[cause] ?? `cause ${cause}`;
}

/** A guest (V=1) looping under a hypervisor whose own timer is armed will be preempted: it is not stuck. */
function preemptible(h: Hart): boolean {
  return h.virt && (h.mie & (1 << 5)) !== 0 && h.stimecmp !== 0xffffffffffffffffn;
}

/**
 * Take the pending exception. If its handler is the faulting instruction itself (say stvec is 0 and nothing is
 * mapped there), the guest can never make progress: record why and stop, rather than spin forever.
 */
export function takeException(h: Hart): void {
  const lo = h.pcLo, hi = h.pcHi, cause = h.trapCause, tval = h.trapTval;
  takeTrap(h, cause, tval, false);
  if (h.pcLo === lo && h.pcHi === hi && !preemptible(h)) {
    const pc = ((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString(16);
    h.stuck ??= `the guest is stuck: ${causeName(cause)} at pc 0x${pc} (tval 0x${tval.toString(16)}) traps to its own address`;
    h.stop = true;
  }
}
