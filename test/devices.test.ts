import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bus } from '../runtime/bus.js';
import { Plic } from '../runtime/devices/plic.js';
import { Uart } from '../runtime/devices/uart.js';
import { VirtioBlk, EmptyVirtioSlot, MemoryDisk, RawImage, STATUS, BLK_T, BLK_S, FEATURE, BlockBackend } from '../runtime/devices/virtio-blk.js';

// ---------------------------------------------------------------- PLIC

class Lines {
  levels = new Map<number, boolean>();
  calls = 0;
  setIrq(irq: number, level: boolean): void { this.levels.set(irq, level); this.calls++; }
  get(irq: number): boolean { return this.levels.get(irq) ?? false; }
}

const MEI = 11, SEI = 9;
const prio = (src: number) => 4 * src;
const enable = (ctx: number, word = 0) => 0x2000 + 0x80 * ctx + 4 * word;
const threshold = (ctx: number) => 0x200000 + 0x1000 * ctx;
const claimReg = (ctx: number) => threshold(ctx) + 4;

describe('PLIC', () => {
  let hart0: Lines, hart1: Lines, plic: Plic;
  beforeEach(() => {
    hart0 = new Lines(); hart1 = new Lines();
    plic = new Plic(0x0c000000, [hart0, hart1]);
  });

  it('has the virt geometry', () => {
    expect(plic.size).toBe(0x600000);
    expect(plic.numSources).toBe(53);
    expect(plic.numContexts).toBe(4);
  });

  it('stores 3-bit priorities for sources 1..53; source 0 and beyond are hardwired to 0', () => {
    plic.write(prio(10), 4, 5);
    expect(plic.read(prio(10), 4)).toBe(5);
    plic.write(prio(10), 4, 0xff); // WARL: clamped to the maximum
    expect(plic.read(prio(10), 4)).toBe(7);
    plic.write(prio(0), 4, 3);
    expect(plic.read(prio(0), 4)).toBe(0);
    plic.write(prio(54), 4, 3);
    expect(plic.read(prio(54), 4)).toBe(0);
    plic.write(prio(53), 4, 2);
    expect(plic.read(prio(53), 4)).toBe(2);
  });

  it('masks enable bits of nonexistent sources', () => {
    plic.write(enable(1, 0), 4, 0xffffffff);
    plic.write(enable(1, 1), 4, 0xffffffff);
    expect(plic.read(enable(1, 0), 4)).toBe(0xfffffffe);
    expect(plic.read(enable(1, 1), 4)).toBe(0x3fffff); // sources 32..53
    expect(plic.read(enable(1, 2), 4)).toBe(0);
    expect(plic.read(enable(4, 0), 4)).toBe(0); // no such context
  });

  it('drives SEIP of hart 0 for context 1 and MEIP for context 0', () => {
    plic.write(prio(10), 4, 1);
    plic.write(enable(1), 4, 1 << 10);
    plic.setSourceLevel(10, true);
    expect(plic.read(0x1000, 4)).toBe(1 << 10);
    expect(hart0.get(SEI)).toBe(true);
    expect(hart0.get(MEI)).toBe(false);
    plic.write(enable(0), 4, 1 << 10);
    expect(hart0.get(MEI)).toBe(true);
    expect(hart1.get(SEI) || hart1.get(MEI)).toBe(false);
  });

  it('uses contexts 2 and 3 for hart 1', () => {
    plic.write(prio(3), 4, 1);
    plic.write(enable(3), 4, 1 << 3);
    plic.setSourceLevel(3, true);
    expect(hart1.get(SEI)).toBe(true);
    expect(hart0.get(SEI)).toBe(false);
    plic.write(enable(2), 4, 1 << 3);
    expect(hart1.get(MEI)).toBe(true);
  });

  it('never signals priority-0 sources and applies the threshold', () => {
    plic.write(enable(1), 4, 1 << 5);
    plic.setSourceLevel(5, true);
    expect(hart0.get(SEI)).toBe(false);
    expect(plic.read(claimReg(1), 4)).toBe(0);
    plic.write(prio(5), 4, 3);
    expect(hart0.get(SEI)).toBe(true);
    plic.write(threshold(1), 4, 3);
    expect(plic.read(threshold(1), 4)).toBe(3);
    expect(hart0.get(SEI)).toBe(false); // priority must exceed the threshold
    expect(plic.read(claimReg(1), 4)).toBe(0);
    plic.write(threshold(1), 4, 2);
    expect(hart0.get(SEI)).toBe(true);
  });

  it('claims the highest priority first, ties going to the lowest id', () => {
    for (const s of [1, 2, 10, 40]) { plic.write(prio(s), 4, s === 10 ? 2 : 1); plic.setSourceLevel(s, true); }
    plic.write(enable(1, 0), 4, (1 << 1) | (1 << 2) | (1 << 10));
    plic.write(enable(1, 1), 4, 1 << (40 - 32));
    expect(plic.read(claimReg(1), 4)).toBe(10);
    expect(plic.read(claimReg(1), 4)).toBe(1);
    expect(plic.read(claimReg(1), 4)).toBe(2);
    expect(plic.read(claimReg(1), 4)).toBe(40);
    expect(plic.read(claimReg(1), 4)).toBe(0);
    expect(hart0.get(SEI)).toBe(false);
  });

  it('keeps a claimed source from re-pending until completion, then re-pends it if still high', () => {
    plic.write(prio(10), 4, 1);
    plic.write(enable(1), 4, 1 << 10);
    plic.setSourceLevel(10, true);
    expect(plic.read(claimReg(1), 4)).toBe(10);
    expect(plic.isPending(10)).toBe(false);
    expect(hart0.get(SEI)).toBe(false);
    plic.setSourceLevel(10, false);
    plic.setSourceLevel(10, true); // still in flight: no new request
    expect(plic.isPending(10)).toBe(false);
    plic.write(claimReg(1), 4, 10); // complete
    expect(plic.isPending(10)).toBe(true);
    expect(hart0.get(SEI)).toBe(true);
    expect(plic.read(claimReg(1), 4)).toBe(10);
    plic.setSourceLevel(10, false);
    plic.write(claimReg(1), 4, 10);
    expect(plic.isPending(10)).toBe(false);
    expect(hart0.get(SEI)).toBe(false);
  });

  it('drops a request whose line goes low before it is claimed', () => {
    plic.write(prio(7), 4, 1);
    plic.write(enable(1), 4, 1 << 7);
    plic.setSourceLevel(7, true);
    expect(hart0.get(SEI)).toBe(true);
    plic.setSourceLevel(7, false);
    expect(hart0.get(SEI)).toBe(false);
    expect(plic.read(claimReg(1), 4)).toBe(0);
  });

  it('ignores completion of a source not enabled for the completing context', () => {
    plic.write(prio(4), 4, 1);
    plic.write(enable(1), 4, 1 << 4);
    plic.setSourceLevel(4, true);
    expect(plic.read(claimReg(1), 4)).toBe(4);
    plic.write(claimReg(0), 4, 4); // context 0 does not have it enabled
    expect(plic.isPending(4)).toBe(false);
    plic.write(claimReg(1), 4, 4);
    expect(plic.isPending(4)).toBe(true);
    plic.write(claimReg(1), 4, 99); // bogus ids are harmless
    plic.write(claimReg(1), 4, 0);
  });

  it('ignores writes to the pending bits and unknown sources', () => {
    plic.write(0x1000, 4, 0xffffffff);
    expect(plic.read(0x1000, 4)).toBe(0);
    plic.setSourceLevel(0, true);
    plic.setSourceLevel(54, true);
    plic.setSourceLevel(-1, true);
    expect(plic.read(0x1000, 4)).toBe(0);
    expect(plic.read(0x1004, 4)).toBe(0);
  });

  it('supports narrow accesses without claim side effects', () => {
    plic.write(prio(2), 1, 6);
    expect(plic.read(prio(2), 1)).toBe(6);
    plic.write(enable(1) + 1, 1, 0x04); // bit 10
    expect(plic.read(enable(1), 4)).toBe(1 << 10);
    plic.setSourceLevel(10, true);
    plic.write(prio(10), 4, 1);
    expect(plic.read(claimReg(1), 2)).toBe(0);
    expect(plic.isPending(10)).toBe(true);
    expect(plic.read(0x1000 + 1, 1)).toBe(0x04);
  });

  it('only calls the sink on level changes', () => {
    plic.write(prio(1), 4, 1);
    plic.write(enable(1), 4, 0b110);
    const before = hart0.calls;
    plic.setSourceLevel(1, true);
    plic.setSourceLevel(2, true);
    expect(hart0.calls - before).toBe(1);
  });
});

// ---------------------------------------------------------------- UART

describe('NS16550A UART', () => {
  let out: number[], irqs: boolean[], uart: Uart;
  const irqLevel = () => irqs.length > 0 && irqs[irqs.length - 1];
  beforeEach(() => {
    out = []; irqs = [];
    uart = new Uart(0x10000000, (b) => out.push(b), (l) => irqs.push(l));
  });

  it('transmits to the sink and is always ready to transmit', () => {
    for (const c of 'hi') uart.write(0, 1, c.charCodeAt(0));
    expect(String.fromCharCode(...out)).toBe('hi');
    expect(uart.read(5, 1) & 0x60).toBe(0x60);
    expect(uart.read(5, 1) & 1).toBe(0);
  });

  it('keeps the old two-argument constructor working', () => {
    const u = new Uart(0x10000000, (b) => out.push(b));
    u.write(1, 1, 0x03);
    u.pushInput([1]);
    u.write(0, 1, 65);
    expect(out).toEqual([65]);
  });

  it('reads IER bits 0..3 back (Linux autoconfig existence test) and stores LCR/MCR/SCR', () => {
    uart.write(1, 1, 0);
    expect(uart.read(1, 1)).toBe(0);
    uart.write(1, 1, 0xff);
    expect(uart.read(1, 1)).toBe(0x0f);
    uart.write(1, 1, 0);
    uart.write(3, 1, 0x03);
    uart.write(4, 1, 0x0b);
    uart.write(7, 1, 0x5a);
    expect([uart.read(3, 1), uart.read(4, 1), uart.read(7, 1)]).toEqual([0x03, 0x0b, 0x5a]);
  });

  it('uses the divisor latch when DLAB is set, without transmitting', () => {
    uart.write(3, 1, 0x83);
    uart.write(0, 1, 0x01);
    uart.write(1, 1, 0x02);
    expect(out).toEqual([]);
    expect([uart.read(0, 1), uart.read(1, 1)]).toEqual([0x01, 0x02]);
    uart.write(3, 1, 0x03);
    expect(uart.read(1, 1)).toBe(0); // IER untouched
    uart.write(3, 1, 0x83);
    expect(uart.read(0, 1)).toBe(0x01);
  });

  it('receives pushed input in order, with DR and the RX interrupt', () => {
    uart.write(1, 1, 0x01); // ERBFI
    expect(uart.read(2, 1)).toBe(0x01); // FIFOs off, nothing pending
    expect(uart.pushInput(new TextEncoder().encode('ok'))).toBe(2);
    expect(irqLevel()).toBe(true);
    expect(uart.read(5, 1) & 1).toBe(1);
    expect(uart.read(2, 1)).toBe(0x04); // received data available
    expect(uart.read(0, 1)).toBe(0x6f);
    expect(irqLevel()).toBe(true);
    expect(uart.read(0, 1)).toBe(0x6b);
    expect(irqLevel()).toBe(false);
    expect(uart.read(5, 1) & 1).toBe(0);
    expect(uart.read(2, 1)).toBe(0x01);
  });

  it('reports the FIFO bits and trigger level / timeout ids when FIFOs are enabled', () => {
    uart.write(2, 1, 0x81); // FIFO on, trigger level 8
    uart.write(1, 1, 0x01);
    expect(uart.read(2, 1)).toBe(0xc1);
    uart.pushInput([1, 2, 3]);
    expect(uart.read(2, 1)).toBe(0xcc); // below the trigger level: character timeout
    uart.pushInput([4, 5, 6, 7, 8]);
    expect(uart.read(2, 1)).toBe(0xc4);
    uart.write(2, 1, 0x83); // clear the receive FIFO
    expect(uart.read(5, 1) & 1).toBe(0);
    expect(irqLevel()).toBe(false);
  });

  it('implements the THR-empty interrupt the way Linux 8250 relies on it', () => {
    uart.write(2, 1, 0x07);
    // serial8250_do_startup's THRE test: enable THRI, read IIR, disable, enable again, read IIR.
    uart.write(1, 1, 0x02);
    expect(irqLevel()).toBe(true);
    expect(uart.read(2, 1)).toBe(0xc2);
    expect(irqLevel()).toBe(false); // reading IIR acknowledged it
    expect(uart.read(2, 1)).toBe(0xc1);
    uart.write(1, 1, 0x00);
    uart.write(1, 1, 0x02);
    expect(uart.read(2, 1)).toBe(0xc2); // re-asserted by enabling
    uart.write(1, 1, 0x02); // already enabled: no new interrupt
    expect(uart.read(2, 1)).toBe(0xc1);
    // Each THR write re-raises it (the byte leaves at once).
    uart.write(0, 1, 0x41);
    expect(irqLevel()).toBe(true);
    expect(uart.read(5, 1) & 0x60).toBe(0x60);
    expect(uart.read(2, 1)).toBe(0xc2);
    uart.write(0, 1, 0x42);
    uart.write(1, 1, 0x00); // __stop_tx: disabling THRI drops the line
    expect(irqLevel()).toBe(false);
    expect(out).toEqual([0x41, 0x42]);
  });

  it('prioritises received data over THR empty, leaving THRE pending', () => {
    uart.write(1, 1, 0x03);
    uart.pushInput([9]);
    expect(uart.read(2, 1)).toBe(0x04);
    expect(uart.read(0, 1)).toBe(9);
    expect(uart.read(2, 1)).toBe(0x02);
    expect(uart.read(2, 1)).toBe(0x01);
  });

  it('flags an overrun when the receive FIFO is full, with the line status interrupt', () => {
    const u = new Uart(0, () => {}, (l) => irqs.push(l), { rxFifoSize: 16 });
    u.write(1, 1, 0x04); // ELSI only
    expect(u.pushInput(new Uint8Array(20))).toBe(16);
    expect(u.rxSpace).toBe(0);
    expect(irqLevel()).toBe(true);
    expect(u.read(2, 1)).toBe(0x06);
    expect(u.read(5, 1) & 0x03).toBe(0x03); // DR | OE
    expect(u.read(5, 1) & 0x02).toBe(0); // reading LSR cleared OE
    expect(irqLevel()).toBe(false);
  });

  it('reports modem lines as idle, and maps MCR to MSR in loopback (autoconfig loopback test)', () => {
    expect(uart.read(6, 1) & 0xf0).toBe(0xb0);
    uart.write(4, 1, 0x10 | 0x0a);
    expect(uart.read(6, 1) & 0xf0).toBe(0x90);
    uart.write(0, 1, 0x55); // loops back into the receiver
    expect(out).toEqual([]);
    expect(uart.read(0, 1)).toBe(0x55);
    uart.write(4, 1, 0);
    expect(uart.read(6, 1) & 0xf0).toBe(0xb0);
  });

  it('raises modem status interrupts from loopback changes when enabled', () => {
    uart.write(4, 1, 0x10);
    uart.read(6, 1); // clear deltas
    uart.write(1, 1, 0x08);
    uart.write(4, 1, 0x12); // RTS -> CTS changes
    expect(irqLevel()).toBe(true);
    expect(uart.read(2, 1)).toBe(0x00);
    expect(uart.read(6, 1) & 0x01).toBe(0x01); // DCTS
    expect(irqLevel()).toBe(false);
  });
});

// ---------------------------------------------------------------- virtio-blk

const RAM = 0x80000000;
const DESC = RAM + 0x1000, AVAIL = RAM + 0x2000, USED = RAM + 0x3000, BUF = RAM + 0x10000;

interface Buf { addr: number; len: number; write?: boolean; flags?: number; next?: number }

/** A minimal virtio-mmio driver over the bus, enough to exercise the device. */
class Driver {
  availIdx = 0;
  irqs: boolean[] = [];
  dev: VirtioBlk;
  constructor(readonly bus: Bus, disk: BlockBackend, readonly qsize = 8) {
    this.dev = new VirtioBlk(0x10001000, bus, disk, (l) => this.irqs.push(l), { serial: 'disk-serial-0123456789abc', log: () => {} });
  }
  r(off: number): number { return this.dev.read(off, 4); }
  w(off: number, v: number): void { this.dev.write(off, 4, v); }
  get irq(): boolean { return this.irqs.length > 0 && this.irqs[this.irqs.length - 1]; }
  features(): bigint {
    this.w(0x14, 0); const lo = this.r(0x10);
    this.w(0x14, 1); const hi = this.r(0x10);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  init(accept?: bigint): void {
    this.w(0x70, 0);
    this.w(0x70, STATUS.ACKNOWLEDGE);
    this.w(0x70, STATUS.ACKNOWLEDGE | STATUS.DRIVER);
    const f = accept ?? this.features();
    this.w(0x24, 0); this.w(0x20, Number(f & 0xffffffffn));
    this.w(0x24, 1); this.w(0x20, Number(f >> 32n));
    this.w(0x70, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK);
    expect(this.r(0x70) & STATUS.FEATURES_OK).toBe(STATUS.FEATURES_OK);
    this.w(0x30, 0);
    expect(this.r(0x34)).toBe(256);
    this.w(0x38, this.qsize);
    this.w(0x80, DESC); this.w(0x84, 0);
    this.w(0x90, AVAIL); this.w(0x94, 0);
    this.w(0xa0, USED); this.w(0xa4, 0);
    this.bus.writeBytes(AVAIL, new Uint8Array(4 + 2 * this.qsize));
    this.bus.writeBytes(USED, new Uint8Array(4 + 8 * this.qsize));
    this.w(0x44, 1);
    this.w(0x70, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK | STATUS.DRIVER_OK);
    this.availIdx = 0;
  }
  desc(table: number, i: number, b: Buf, next?: number): void {
    const d = new DataView(new ArrayBuffer(16));
    d.setBigUint64(0, BigInt(b.addr), true);
    d.setUint32(8, b.len, true);
    d.setUint16(12, b.flags ?? ((b.write ? 2 : 0) | (next !== undefined ? 1 : 0)), true);
    d.setUint16(14, b.next ?? next ?? 0, true);
    this.bus.writeBytes(table + 16 * i, new Uint8Array(d.buffer));
  }
  /** Put a chain at descriptors start.., make it available and notify. */
  submit(chain: Buf[], start = 0, notify = true): number {
    chain.forEach((b, k) => this.desc(DESC, (start + k) % this.qsize, b, k + 1 < chain.length ? (start + k + 1) % this.qsize : undefined));
    return this.publish(start % this.qsize, notify);
  }
  publish(head: number, notify = true): number {
    const v = this.bus.ramView;
    v.setUint16(AVAIL - RAM + 4 + 2 * (this.availIdx % this.qsize), head, true);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    v.setUint16(AVAIL - RAM + 2, this.availIdx, true);
    if (notify) this.w(0x50, 0);
    return head;
  }
  usedIdx(): number { return this.bus.ramView.getUint16(USED - RAM + 2, true); }
  used(i: number): { id: number; len: number } {
    const v = this.bus.ramView, o = USED - RAM + 4 + 8 * (i % this.qsize);
    return { id: v.getUint32(o, true), len: v.getUint32(o + 4, true) };
  }
  header(addr: number, type: number, sector: number | bigint): void {
    const d = new DataView(new ArrayBuffer(16));
    d.setUint32(0, type, true);
    d.setBigUint64(8, BigInt(sector), true);
    this.bus.writeBytes(addr, new Uint8Array(d.buffer));
  }
  status(addr: number): number { return this.bus.readBytes(addr, 1)[0]; }
  ack(): void { this.w(0x64, this.r(0x60)); }
}

const HDR = BUF, DATA = BUF + 0x100, STAT = BUF + 0x80;

function pattern(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 9)) & 0xff;
  return b;
}

describe('virtio-blk (virtio-mmio v2)', () => {
  let bus: Bus, disk: MemoryDisk, drv: Driver;
  beforeEach(() => {
    bus = new Bus(RAM, 1 << 20);
    disk = new MemoryDisk(64 * 512 + 100); // a partial last sector is not addressable
    drv = new Driver(bus, disk);
  });

  it('identifies itself as a modern virtio block device', () => {
    expect(drv.r(0x000)).toBe(0x74726976);
    expect(drv.r(0x004)).toBe(2);
    expect(drv.r(0x008)).toBe(2);
    expect(drv.r(0x00c)).toBe(0x554d4551);
    expect(drv.r(0x0b0)).toBe(0xffffffff); // no shared memory
    expect(drv.dev.read(0x000, 1)).toBe(0); // registers are 32-bit only
  });

  it('offers VERSION_1, SEG_MAX, BLK_SIZE, FLUSH and indirect descriptors; RO only for read-only disks', () => {
    const f = drv.features();
    for (const bit of [FEATURE.VERSION_1, FEATURE.BLK_SEG_MAX, FEATURE.BLK_BLK_SIZE, FEATURE.BLK_FLUSH, FEATURE.RING_INDIRECT_DESC]) {
      expect((f >> BigInt(bit)) & 1n).toBe(1n);
    }
    expect((f >> BigInt(FEATURE.BLK_RO)) & 1n).toBe(0n);
    const ro = new Driver(bus, new MemoryDisk(4096, true));
    expect((ro.features() >> BigInt(FEATURE.BLK_RO)) & 1n).toBe(1n);
    drv.w(0x14, 2);
    expect(drv.r(0x10)).toBe(0);
  });

  it('exposes the configuration space: capacity, seg_max, blk_size', () => {
    expect(drv.dev.read(0x100, 4)).toBe(64);
    expect(drv.dev.read(0x104, 4)).toBe(0);
    expect(drv.dev.read(0x10c, 4)).toBe(254);
    expect(drv.dev.read(0x114, 4)).toBe(512);
    expect(drv.dev.read(0x100, 1)).toBe(64);
    expect(drv.dev.read(0x100, 2)).toBe(64);
    drv.dev.write(0x100, 4, 1234); // read-only
    expect(drv.dev.read(0x100, 4)).toBe(64);
    expect(drv.r(0xfc)).toBe(0);
  });

  it('refuses FEATURES_OK without VERSION_1 or with unknown features', () => {
    drv.w(0x70, 3);
    drv.w(0x24, 0); drv.w(0x20, 1 << 9);
    drv.w(0x24, 1); drv.w(0x20, 0);
    drv.w(0x70, 3 | 8);
    expect(drv.r(0x70) & 8).toBe(0);
    drv.w(0x70, 0);
    drv.w(0x70, 3);
    drv.w(0x24, 1); drv.w(0x20, 1 | (1 << 5)); // VERSION_1 plus an unoffered bit
    drv.w(0x70, 3 | 8);
    expect(drv.r(0x70) & 8).toBe(0);
  });

  it('writes and reads back sectors, completing into the used ring with an interrupt', () => {
    drv.init();
    const data = pattern(1024);
    bus.writeBytes(DATA, data);
    drv.header(HDR, BLK_T.OUT, 3);
    drv.submit([{ addr: HDR, len: 16 }, { addr: DATA, len: 1024 }, { addr: STAT, len: 1, write: true }]);
    expect(drv.usedIdx()).toBe(1);
    expect(drv.used(0)).toEqual({ id: 0, len: 1 });
    expect(drv.status(STAT)).toBe(BLK_S.OK);
    expect(disk.data.subarray(3 * 512, 5 * 512)).toEqual(data);
    expect(drv.r(0x60)).toBe(1);
    expect(drv.irq).toBe(true);
    drv.ack();
    expect(drv.irq).toBe(false);
    expect(drv.r(0x60)).toBe(0);

    bus.writeBytes(DATA, new Uint8Array(1024));
    drv.header(HDR, BLK_T.IN, 3);
    drv.submit([{ addr: HDR, len: 16 }, { addr: DATA, len: 1024, write: true }, { addr: STAT, len: 1, write: true }], 3);
    expect(drv.used(1)).toEqual({ id: 3, len: 1025 });
    expect(drv.status(STAT)).toBe(BLK_S.OK);
    expect(bus.readBytes(DATA, 1024)).toEqual(data);
    expect(drv.dev.requests).toBe(2);
  });

  it('accepts any buffer layout: header, data and status split or merged across descriptors', () => {
    drv.init();
    disk.data.set(pattern(512, 5), 7 * 512);
    drv.header(HDR, BLK_T.IN, 7);
    // Header in two pieces; data and status in one writable buffer of 513 bytes.
    drv.submit([{ addr: HDR, len: 10 }, { addr: HDR + 10, len: 6 }, { addr: DATA, len: 513, write: true }]);
    expect(drv.used(0).len).toBe(513);
    expect(bus.readBytes(DATA, 512)).toEqual(pattern(512, 5));
    expect(drv.status(DATA + 512)).toBe(BLK_S.OK);
  });

  it('processes several requests per notification, wrapping around the ring', () => {
    drv.init();
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < 4; k++) {
        drv.header(HDR + 32 * k, BLK_T.IN, k);
        drv.submit([{ addr: HDR + 32 * k, len: 16 }, { addr: DATA + 512 * k, len: 512, write: true }, { addr: STAT + k, len: 1, write: true }],
          (drv.availIdx * 3) % drv.qsize, false);
      }
      drv.w(0x50, 0);
      expect(drv.usedIdx()).toBe(4 * (round + 1));
    }
    expect(drv.r(0x70) & STATUS.NEEDS_RESET).toBe(0);
  });

  it('flushes, returns the device id, and reports unsupported requests', () => {
    drv.init();
    drv.header(HDR, BLK_T.FLUSH, 0);
    drv.submit([{ addr: HDR, len: 16 }, { addr: STAT, len: 1, write: true }]);
    expect(drv.status(STAT)).toBe(BLK_S.OK);
    expect(disk.flushes).toBe(1);

    drv.header(HDR, BLK_T.GET_ID, 0);
    drv.submit([{ addr: HDR, len: 16 }, { addr: DATA, len: 20, write: true }, { addr: STAT, len: 1, write: true }], 2);
    expect(drv.status(STAT)).toBe(BLK_S.OK);
    expect(new TextDecoder().decode(bus.readBytes(DATA, 20))).toBe('disk-serial-01234567');
    expect(drv.used(1).len).toBe(21);

    for (const t of [BLK_T.DISCARD, BLK_T.WRITE_ZEROES, BLK_T.GET_LIFETIME, 12345]) {
      bus.writeBytes(STAT, Uint8Array.of(0xee));
      drv.header(HDR, t, 0);
      drv.submit([{ addr: HDR, len: 16 }, { addr: DATA, len: 16 }, { addr: STAT, len: 1, write: true }], 4);
      expect(drv.status(STAT)).toBe(BLK_S.UNSUPP);
    }
  });

  it('fails out-of-range and misaligned transfers with IOERR', () => {
    drv.init();
    const cases: [number, number | bigint, number][] = [
      [BLK_T.IN, 63, 1024], // runs past the end
      [BLK_T.IN, 64, 512],
      [BLK_T.OUT, 2n ** 60n, 512],
      [BLK_T.OUT, 0xffffffffffffffffn, 512],
      [BLK_T.IN, 0, 100], // not whole sectors
    ];
    let i = 0;
    for (const [type, sector, len] of cases) {
      drv.header(HDR, type, sector);
      const data = { addr: DATA, len, write: type === BLK_T.IN };
      drv.submit([{ addr: HDR, len: 16 }, data, { addr: STAT, len: 1, write: true }], 3 * i++);
      expect(drv.status(STAT)).toBe(BLK_S.IOERR);
    }
    expect(drv.r(0x70) & STATUS.NEEDS_RESET).toBe(0);
    // The last full sector is fine.
    drv.header(HDR, BLK_T.IN, 63);
    drv.submit([{ addr: HDR, len: 16 }, { addr: DATA, len: 512, write: true }, { addr: STAT, len: 1, write: true }], 0);
    expect(drv.status(STAT)).toBe(BLK_S.OK);
  });

  it('rejects writes to a read-only disk', () => {
    const ro = new MemoryDisk(4096, true);
    const d = new Driver(bus, ro);
    d.init();
    bus.writeBytes(DATA, pattern(512));
    d.header(HDR, BLK_T.OUT, 0);
    d.submit([{ addr: HDR, len: 16 }, { addr: DATA, len: 512 }, { addr: STAT, len: 1, write: true }]);
    expect(d.status(STAT)).toBe(BLK_S.IOERR);
    expect(ro.data.every((b) => b === 0)).toBe(true);
  });

  it('follows indirect descriptor tables', () => {
    drv.init();
    disk.data.set(pattern(1024, 9), 0);
    const TABLE = BUF + 0x8000;
    drv.header(HDR, BLK_T.IN, 0);
    drv.desc(TABLE, 0, { addr: HDR, len: 16 }, 1);
    drv.desc(TABLE, 1, { addr: DATA, len: 1024, write: true }, 2);
    drv.desc(TABLE, 2, { addr: STAT, len: 1, write: true });
    drv.desc(DESC, 5, { addr: TABLE, len: 48, flags: 4 });
    drv.publish(5);
    expect(drv.status(STAT)).toBe(BLK_S.OK);
    expect(bus.readBytes(DATA, 1024)).toEqual(pattern(1024, 9));
    expect(drv.used(0)).toEqual({ id: 5, len: 1025 });
  });

  it('does not interrupt when the driver set VIRTQ_AVAIL_F_NO_INTERRUPT', () => {
    drv.init();
    bus.ramView.setUint16(AVAIL - RAM, 1, true);
    drv.header(HDR, BLK_T.FLUSH, 0);
    drv.submit([{ addr: HDR, len: 16 }, { addr: STAT, len: 1, write: true }]);
    expect(drv.usedIdx()).toBe(1);
    expect(drv.r(0x60)).toBe(0);
    expect(drv.irq).toBe(false);
  });

  it('ignores notifications before DRIVER_OK and processes them once the driver is ready', () => {
    drv.init();
    drv.w(0x70, 0);
    drv.w(0x70, 1); drv.w(0x70, 3);
    drv.w(0x24, 1); drv.w(0x20, 1);
    drv.w(0x70, 11);
    drv.w(0x38, 8); drv.w(0x80, DESC); drv.w(0x90, AVAIL); drv.w(0xa0, USED); drv.w(0x44, 1);
    bus.writeBytes(AVAIL, new Uint8Array(20)); bus.writeBytes(USED, new Uint8Array(68));
    drv.availIdx = 0;
    drv.header(HDR, BLK_T.FLUSH, 0);
    drv.submit([{ addr: HDR, len: 16 }, { addr: STAT, len: 1, write: true }]);
    expect(drv.usedIdx()).toBe(0);
    drv.w(0x70, 15);
    expect(drv.usedIdx()).toBe(1);
  });

  it('does not let the queue be reconfigured while ready', () => {
    drv.init();
    drv.w(0x80, 0x1234);
    expect(drv.r(0x80)).toBe(DESC);
    expect(drv.r(0x44)).toBe(1);
    drv.w(0x30, 1); // other queues do not exist
    expect(drv.r(0x34)).toBe(0);
    expect(drv.r(0x44)).toBe(0);
  });

  describe('bad guest input never throws', () => {
    const needsReset = () => (drv.r(0x70) & STATUS.NEEDS_RESET) !== 0;
    beforeEach(() => drv.init());

    it('a descriptor loop puts the device in NEEDS_RESET with a config interrupt', () => {
      drv.header(HDR, BLK_T.IN, 0);
      drv.desc(DESC, 0, { addr: HDR, len: 16 }, 1);
      drv.desc(DESC, 1, { addr: DATA, len: 512 }, 2);
      drv.desc(DESC, 2, { addr: DATA, len: 512 }, 1);
      expect(() => drv.publish(0)).not.toThrow();
      expect(needsReset()).toBe(true);
      expect(drv.r(0x60) & 2).toBe(2);
      expect(drv.irq).toBe(true);
      expect(drv.dev.lastError).toMatch(/loop/);
      // Further notifications are ignored until reset; reset clears everything.
      drv.w(0x50, 0);
      drv.w(0x70, 0);
      expect(drv.r(0x70)).toBe(0);
      expect(drv.irq).toBe(false);
      drv.init();
      drv.header(HDR, BLK_T.FLUSH, 0);
      drv.submit([{ addr: HDR, len: 16 }, { addr: STAT, len: 1, write: true }]);
      expect(drv.status(STAT)).toBe(BLK_S.OK);
    });

    it('the driver cannot clear NEEDS_RESET by writing status', () => {
      drv.desc(DESC, 0, { addr: HDR, len: 16, flags: 1, next: 9 });
      drv.publish(0);
      expect(needsReset()).toBe(true);
      drv.w(0x70, 15);
      expect(needsReset()).toBe(true);
    });

    it('a next index beyond the queue', () => {
      drv.desc(DESC, 0, { addr: HDR, len: 16, flags: 1, next: 8 });
      drv.publish(0);
      expect(needsReset()).toBe(true);
    });

    it('a head index beyond the queue', () => {
      drv.publish(200);
      expect(needsReset()).toBe(true);
    });

    it('an available index running ahead of the ring', () => {
      bus.ramView.setUint16(AVAIL - RAM + 2, 50, true);
      drv.w(0x50, 0);
      expect(needsReset()).toBe(true);
    });

    it('rings outside RAM', () => {
      drv.w(0x70, 0);
      drv.init();
      drv.w(0x44, 0);
      drv.w(0x90, 0x1000); // available ring in nowhere
      drv.w(0x44, 1);
      drv.w(0x50, 0);
      expect(needsReset()).toBe(true);
    });

    it('a status byte outside RAM, or no status byte at all', () => {
      drv.header(HDR, BLK_T.IN, 0);
      drv.submit([{ addr: HDR, len: 16 }, { addr: 0x1000, len: 1, write: true }]);
      expect(needsReset()).toBe(true);
      drv.init();
      drv.header(HDR, BLK_T.IN, 0);
      drv.submit([{ addr: HDR, len: 16 }]);
      expect(needsReset()).toBe(true);
    });

    it('a data buffer outside RAM or of an absurd size completes with IOERR', () => {
      drv.header(HDR, BLK_T.IN, 0);
      drv.submit([{ addr: HDR, len: 16 }, { addr: 0xfffffffffff000, len: 512, write: true }, { addr: STAT, len: 1, write: true }]);
      expect(drv.status(STAT)).toBe(BLK_S.IOERR);
      drv.submit([{ addr: HDR, len: 16 }, { addr: DATA, len: 0xfffffe00, write: true }, { addr: STAT, len: 1, write: true }], 3);
      expect(drv.status(STAT)).toBe(BLK_S.IOERR);
      bus.writeBytes(STAT, Uint8Array.of(0xee));
      drv.submit([{ addr: HDR, len: 8 }, { addr: STAT, len: 1, write: true }], 6); // header too short
      expect(drv.status(STAT)).toBe(BLK_S.IOERR);
      expect(needsReset()).toBe(false);
      expect(drv.usedIdx()).toBe(3);
    });

    it('readable descriptors after writable ones, nested or chained indirect tables', () => {
      drv.submit([{ addr: HDR, len: 16, write: true }, { addr: STAT, len: 1 }]);
      expect(needsReset()).toBe(true);
      drv.init();
      const TABLE = BUF + 0x8000;
      drv.desc(TABLE, 0, { addr: TABLE, len: 16, flags: 4 });
      drv.desc(DESC, 0, { addr: TABLE, len: 16, flags: 4 });
      drv.publish(0);
      expect(needsReset()).toBe(true);
      drv.init();
      drv.desc(DESC, 0, { addr: TABLE, len: 17, flags: 4 });
      drv.publish(0);
      expect(needsReset()).toBe(true);
      drv.init();
      drv.desc(DESC, 0, { addr: TABLE, len: 16, flags: 4 | 1, next: 1 });
      drv.publish(0);
      expect(needsReset()).toBe(true);
    });

    it('an indirect table whose chain is longer than the queue', () => {
      const TABLE = BUF + 0x8000;
      for (let k = 0; k < 20; k++) drv.desc(TABLE, k, { addr: HDR, len: 16 }, k + 1);
      drv.desc(DESC, 0, { addr: TABLE, len: 16 * 1000, flags: 4 });
      drv.publish(0);
      expect(needsReset()).toBe(true);
    });

    it('DMA that rewrites the available ring does not keep the device processing', () => {
      // Sector 0 holds an available ring claiming 7 more requests, all pointing at descriptor 0.
      const fake = new Uint8Array(512);
      fake[2] = 8;
      disk.data.set(fake, 0);
      drv.header(HDR, BLK_T.IN, 0);
      drv.submit([{ addr: HDR, len: 16 }, { addr: AVAIL, len: 512, write: true }, { addr: STAT, len: 1, write: true }]);
      expect(drv.usedIdx()).toBe(1);
      expect(drv.dev.requests).toBe(1);
    });

    it('indirect descriptors that were not negotiated', () => {
      drv.init(1n << 32n);
      const TABLE = BUF + 0x8000;
      drv.desc(TABLE, 0, { addr: HDR, len: 16 });
      drv.desc(DESC, 0, { addr: TABLE, len: 16, flags: 4 });
      drv.publish(0);
      expect(needsReset()).toBe(true);
    });

    it('backend I/O errors become IOERR', () => {
      const broken: BlockBackend = {
        size: 4096, readOnly: false,
        read() { throw new Error('EIO'); },
        write() { throw new Error('EIO'); },
        flush() { throw new Error('EIO'); },
      };
      const d = new Driver(bus, broken);
      d.init();
      d.header(HDR, BLK_T.IN, 0);
      d.submit([{ addr: HDR, len: 16 }, { addr: DATA, len: 512, write: true }, { addr: STAT, len: 1, write: true }]);
      expect(d.status(STAT)).toBe(BLK_S.IOERR);
      d.header(HDR, BLK_T.FLUSH, 0);
      d.submit([{ addr: HDR, len: 16 }, { addr: STAT, len: 1, write: true }], 3);
      expect(d.status(STAT)).toBe(BLK_S.IOERR);
    });
  });

  it('reports DMA writes to the bus so stale translated code is dropped', () => {
    const writes: [number, number][] = [];
    bus.onRamWrite = (off, len) => writes.push([off, len]);
    drv.init();
    writes.length = 0;
    drv.header(HDR, BLK_T.IN, 0);
    writes.length = 0;
    drv.submit([{ addr: HDR, len: 16 }, { addr: DATA, len: 512, write: true }, { addr: STAT, len: 1, write: true }]);
    const hit = (addr: number, len: number) => writes.some(([o, l]) => o <= addr - RAM && addr - RAM + len <= o + l);
    expect(hit(DATA, 512)).toBe(true);
    expect(hit(STAT, 1)).toBe(true);
    expect(hit(USED + 4, 8)).toBe(true);
  });
});

describe('empty virtio-mmio slot', () => {
  it('reads as a transport with device ID 0 and ignores writes', () => {
    const e = new EmptyVirtioSlot(0x10002000);
    expect([e.read(0, 4), e.read(4, 4), e.read(8, 4), e.read(0xc, 4)]).toEqual([0x74726976, 2, 0, 0x554d4551]);
    e.write();
    expect(e.read(0x70, 4)).toBe(0);
    expect(e.read(0, 1)).toBe(0);
  });
});

describe('raw image backend', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'salus-blk-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads and writes the file', () => {
    const path = join(dir, 'disk.img');
    writeFileSync(path, pattern(8192));
    const img = new RawImage(path);
    expect(img.size).toBe(8192);
    expect(img.readOnly).toBe(false);
    expect(img.read(100, 50)).toEqual(pattern(8192).subarray(100, 150));
    img.write(4000, Uint8Array.of(1, 2, 3));
    img.flush();
    img.close();
    const now = readFileSync(path);
    expect([...now.subarray(4000, 4003)]).toEqual([1, 2, 3]);
  });

  it('keeps snapshot writes in memory across 4 KiB blocks and never changes the file', () => {
    const path = join(dir, 'disk.img');
    const orig = pattern(16384, 3);
    writeFileSync(path, orig);
    const img = new RawImage(path, { snapshot: true });
    const data = pattern(5000, 8);
    img.write(4090, data); // spans blocks 0..2
    expect(img.overlayBlocks).toBe(3);
    expect(img.read(4090, 5000)).toEqual(data);
    expect(img.read(0, 4090)).toEqual(orig.subarray(0, 4090));
    expect(img.read(9090, 100)).toEqual(orig.subarray(9090, 9190));
    img.write(0, new Uint8Array(4096)); // whole block
    expect(img.read(0, 10)).toEqual(new Uint8Array(10));
    img.flush();
    img.close();
    expect(readFileSync(path)).toEqual(Buffer.from(orig));
  });

  it('opens read-only images read-only and refuses writes', () => {
    const path = join(dir, 'ro.img');
    writeFileSync(path, new Uint8Array(1024));
    const img = new RawImage(path, { readOnly: true });
    expect(img.readOnly).toBe(true);
    expect(() => img.write(0, Uint8Array.of(1))).toThrow();
    img.close();
  });

  it('serves a guest through virtio-blk end to end', () => {
    const path = join(dir, 'disk.img');
    writeFileSync(path, new Uint8Array(32 * 512));
    const img = new RawImage(path);
    const bus = new Bus(RAM, 1 << 20);
    const d = new Driver(bus, img);
    d.init();
    expect(d.dev.read(0x100, 4)).toBe(32);
    bus.writeBytes(DATA, pattern(512, 4));
    d.header(HDR, BLK_T.OUT, 31);
    d.submit([{ addr: HDR, len: 16 }, { addr: DATA, len: 512 }, { addr: STAT, len: 1, write: true }]);
    expect(d.status(STAT)).toBe(BLK_S.OK);
    img.close();
    expect(readFileSync(path).subarray(31 * 512)).toEqual(Buffer.from(pattern(512, 4)));
  });
});
