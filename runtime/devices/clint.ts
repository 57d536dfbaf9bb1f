// CLINT: msip and mtimecmp per hart, and mtime at 10 MHz. Drives MSIP and MTIP lines.
import type { Device } from '../bus.js';
import { Irq } from '../trap.js';

export interface IrqSink { setIrq(irq: number, level: boolean): void }

export const TIMEBASE_HZ = 10_000_000;

export class Clint implements Device {
  readonly name = 'clint';
  readonly size = 0x10000;
  readonly mtimecmp: bigint[];
  private msip: number[];

  constructor(readonly base: number, private harts: IrqSink[], readonly now: () => bigint) {
    this.mtimecmp = harts.map(() => 0n); // QEMU resets it to 0, so MTIP is pending at reset
    this.msip = harts.map(() => 0);
  }

  /** Re-evaluate timer lines; called between execution slices and after mtimecmp writes. */
  update(): void {
    const t = this.now();
    this.harts.forEach((h, i) => h.setIrq(Irq.MTI, t >= this.mtimecmp[i]));
  }

  read(offset: number): number {
    if (offset < 0x4000) {
      const i = offset >> 2;
      return i < this.msip.length && (offset & 3) === 0 ? this.msip[i] : 0;
    }
    if (offset >= 0x4000 && offset < 0x4000 + 8 * this.harts.length) {
      const v = this.mtimecmp[(offset - 0x4000) >> 3];
      return Number((offset & 4 ? v >> 32n : v) & 0xffffffffn);
    }
    if (offset === 0xbff8 || offset === 0xbffc) {
      const t = this.now();
      return Number((offset === 0xbffc ? t >> 32n : t) & 0xffffffffn);
    }
    return 0;
  }

  write(offset: number, _width: number, value: number): void {
    if (offset < 0x4000) {
      const i = offset >> 2;
      if (i < this.msip.length && (offset & 3) === 0) {
        this.msip[i] = value & 1;
        this.harts[i].setIrq(Irq.MSI, (value & 1) === 1);
      }
      return;
    }
    if (offset >= 0x4000 && offset < 0x4000 + 8 * this.harts.length) {
      const i = (offset - 0x4000) >> 3, v = BigInt(value >>> 0);
      const old = this.mtimecmp[i];
      this.mtimecmp[i] = offset & 4 ? (old & 0xffffffffn) | (v << 32n) : (old & ~0xffffffffn) | v;
      this.update();
    }
    // mtime is read-only here: the clock is the host's.
  }
}
