// virtio block device behind a virtio-mmio (version 2, "modern") transport, per the Virtio 1.2 specification:
// sections 2 (basic facilities, split virtqueues), 4.2 (MMIO transport) and 5.2 (block device).
// Requests are processed synchronously when the driver notifies the queue. All guest memory accesses go through
// the Bus (readBytes/writeBytes), and nothing the guest puts in the rings may throw into the emulator: structural
// errors put the device into DEVICE_NEEDS_RESET, request errors complete with VIRTIO_BLK_S_IOERR.
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import type { Bus, Device } from '../bus.js';

// ---- Backing stores ----

/** Byte-addressed storage behind a block device. */
export interface BlockBackend {
  /** Size in bytes. */
  readonly size: number;
  readonly readOnly: boolean;
  /** Read `length` bytes at `offset` (the range is within size). */
  read(offset: number, length: number): Uint8Array;
  write(offset: number, data: Uint8Array): void;
  flush(): void;
}

const OVERLAY_BLOCK = 4096;

export interface RawImageOptions {
  /** Present the disk as read-only to the guest (VIRTIO_BLK_F_RO); the file is opened read-only. */
  readOnly?: boolean;
  /** Keep guest writes in memory (4 KiB copy-on-write blocks); the file is opened read-only and never changed. */
  snapshot?: boolean;
}

/** A raw disk image file, accessed with synchronous fs calls. */
export class RawImage implements BlockBackend {
  readonly size: number;
  readonly readOnly: boolean;
  readonly snapshot: boolean;
  private fd: number;
  /** Snapshot mode: modified 4 KiB blocks by block index. */
  private readonly overlay = new Map<number, Uint8Array>();

  constructor(readonly path: string, opts: RawImageOptions = {}) {
    this.readOnly = opts.readOnly ?? false;
    this.snapshot = opts.snapshot ?? false;
    this.fd = openSync(path, this.readOnly || this.snapshot ? 'r' : 'r+');
    try {
      this.size = fstatSync(this.fd).size;
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
  }

  /** Number of 4 KiB blocks held in the snapshot overlay. */
  get overlayBlocks(): number { return this.overlay.size; }

  private readFile(offset: number, out: Uint8Array): void {
    let done = 0;
    while (done < out.length) {
      const n = readSync(this.fd, out, done, out.length - done, offset + done);
      if (n === 0) break; // past the end of the file (it shrank): the rest reads as zeros
      done += n;
    }
  }

  read(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    if (this.overlay.size === 0) { this.readFile(offset, out); return out; }
    // Assemble block by block from the overlay or the file.
    let pos = offset;
    const end = offset + length;
    while (pos < end) {
      const blk = Math.floor(pos / OVERLAY_BLOCK), inBlk = pos - blk * OVERLAY_BLOCK;
      const n = Math.min(OVERLAY_BLOCK - inBlk, end - pos);
      const o = this.overlay.get(blk);
      if (o) out.set(o.subarray(inBlk, inBlk + n), pos - offset);
      else this.readFile(pos, out.subarray(pos - offset, pos - offset + n));
      pos += n;
    }
    return out;
  }

  write(offset: number, data: Uint8Array): void {
    if (this.readOnly) throw new Error(`${this.path}: read-only`);
    if (!this.snapshot) {
      let done = 0;
      while (done < data.length) done += writeSync(this.fd, data, done, data.length - done, offset + done);
      return;
    }
    let pos = offset;
    const end = offset + data.length;
    while (pos < end) {
      const blk = Math.floor(pos / OVERLAY_BLOCK), inBlk = pos - blk * OVERLAY_BLOCK;
      const n = Math.min(OVERLAY_BLOCK - inBlk, end - pos);
      let o = this.overlay.get(blk);
      if (!o) {
        o = new Uint8Array(OVERLAY_BLOCK);
        if (n !== OVERLAY_BLOCK) this.readFile(blk * OVERLAY_BLOCK, o.subarray(0, Math.max(0, Math.min(OVERLAY_BLOCK, this.size - blk * OVERLAY_BLOCK))));
        this.overlay.set(blk, o);
      }
      o.set(data.subarray(pos - offset, pos - offset + n), inBlk);
      pos += n;
    }
  }

  flush(): void {
    if (!this.readOnly && !this.snapshot) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) { closeSync(this.fd); this.fd = -1; }
  }
}

/** A disk held in memory (tests, scratch disks). */
export class MemoryDisk implements BlockBackend {
  readonly data: Uint8Array;
  flushes = 0;
  constructor(sizeOrData: number | Uint8Array, readonly readOnly = false) {
    this.data = typeof sizeOrData === 'number' ? new Uint8Array(sizeOrData) : sizeOrData;
  }
  get size(): number { return this.data.length; }
  read(offset: number, length: number): Uint8Array { return this.data.slice(offset, offset + length); }
  write(offset: number, data: Uint8Array): void {
    if (this.readOnly) throw new Error('read-only disk');
    this.data.set(data, offset);
  }
  flush(): void { this.flushes++; }
}

// ---- Constants from the specification ----

export const VIRTIO_MMIO_MAGIC = 0x74726976; // "virt"
/** The vendor id QEMU uses ("QEMU"); drivers do not look at it. */
export const VIRTIO_VENDOR_QEMU = 0x554d4551;
export const VIRTIO_ID_BLOCK = 2;

export const STATUS = { ACKNOWLEDGE: 1, DRIVER: 2, DRIVER_OK: 4, FEATURES_OK: 8, NEEDS_RESET: 0x40, FAILED: 0x80 } as const;
export const FEATURE = {
  BLK_SIZE_MAX: 1, BLK_SEG_MAX: 2, BLK_RO: 5, BLK_BLK_SIZE: 6, BLK_FLUSH: 9,
  RING_INDIRECT_DESC: 28, VERSION_1: 32,
} as const;
export const BLK_T = { IN: 0, OUT: 1, FLUSH: 4, GET_ID: 8, GET_LIFETIME: 10, DISCARD: 11, WRITE_ZEROES: 13, SECURE_ERASE: 14 } as const;
export const BLK_S = { OK: 0, IOERR: 1, UNSUPP: 2 } as const;
export const INT = { USED_BUFFER: 1, CONFIG_CHANGE: 2 } as const;

const REG = {
  MagicValue: 0x000, Version: 0x004, DeviceID: 0x008, VendorID: 0x00c,
  DeviceFeatures: 0x010, DeviceFeaturesSel: 0x014, DriverFeatures: 0x020, DriverFeaturesSel: 0x024,
  QueueSel: 0x030, QueueNumMax: 0x034, QueueNum: 0x038, QueueReady: 0x044, QueueNotify: 0x050,
  InterruptStatus: 0x060, InterruptACK: 0x064, Status: 0x070,
  QueueDescLow: 0x080, QueueDescHigh: 0x084, QueueDriverLow: 0x090, QueueDriverHigh: 0x094,
  QueueDeviceLow: 0x0a0, QueueDeviceHigh: 0x0a4, SHMSel: 0x0ac, SHMLenLow: 0x0b0, SHMLenHigh: 0x0b4,
  SHMBaseLow: 0x0b8, SHMBaseHigh: 0x0bc, QueueReset: 0x0c0, ConfigGeneration: 0x0fc, Config: 0x100,
} as const;

const DESC_F_NEXT = 1, DESC_F_WRITE = 2, DESC_F_INDIRECT = 4;
const AVAIL_F_NO_INTERRUPT = 1;
const SECTOR = 512;
const REQ_HEADER = 16;
const ID_BYTES = 20;
/** Data moved per backend call, so huge requests do not need huge buffers. */
const CHUNK = 1 << 20;
/** Largest data transfer of one request (bigger ones complete with IOERR). */
const MAX_REQUEST_BYTES = 1 << 30;

export interface VirtioBlkOptions {
  /** Queue size the device offers (QueueNumMax); default 256. */
  queueNumMax?: number;
  /** Serial number returned by VIRTIO_BLK_T_GET_ID (up to 20 bytes). */
  serial?: string;
  vendorId?: number;
  /** Diagnostic messages about guest errors (the device never throws). */
  log?: (msg: string) => void;
}

interface Segment { addr: number; len: number; write: boolean }

/** Thrown inside request processing for guest errors that need a device reset; never escapes the device. */
class DeviceError extends Error {}

export class VirtioBlk implements Device {
  readonly name = 'virtio-blk';
  readonly size = 0x1000;
  readonly queueNumMax: number;
  private readonly features: bigint;
  private readonly serial: Uint8Array;
  private readonly vendorId: number;
  private readonly config: Uint8Array;
  private readonly log: (msg: string) => void;

  private status = 0;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private driverFeatures = 0n;
  private queueSel = 0;
  private interruptStatus = 0;
  private irqLevel = false;
  // The single request queue.
  private qNum = 0;
  private qReady = false;
  private qDesc = 0n;
  private qDriver = 0n;
  private qDevice = 0n;
  private lastAvail = 0;
  private usedIdx = 0;
  /** Description of the last guest error (for debugging). */
  lastError: string | null = null;
  /** Completed requests, for statistics. */
  requests = 0;

  constructor(readonly base: number, private readonly bus: Bus, readonly disk: BlockBackend,
    public irq: (level: boolean) => void = () => {}, opts: VirtioBlkOptions = {}) {
    this.queueNumMax = opts.queueNumMax ?? 256;
    if (!Number.isInteger(this.queueNumMax) || this.queueNumMax < 1 || this.queueNumMax > 32768) throw new RangeError('virtio-blk: bad queueNumMax');
    this.vendorId = opts.vendorId ?? VIRTIO_VENDOR_QEMU;
    this.log = opts.log ?? (() => {});
    this.serial = new TextEncoder().encode(opts.serial ?? 'salus-virtio-blk').slice(0, ID_BYTES);
    let f = (1n << BigInt(FEATURE.VERSION_1)) | (1n << BigInt(FEATURE.RING_INDIRECT_DESC)) |
      (1n << BigInt(FEATURE.BLK_SEG_MAX)) | (1n << BigInt(FEATURE.BLK_BLK_SIZE)) | (1n << BigInt(FEATURE.BLK_FLUSH));
    if (disk.readOnly) f |= 1n << BigInt(FEATURE.BLK_RO);
    this.features = f;
    // struct virtio_blk_config: capacity (le64), size_max, seg_max, geometry, blk_size, ...
    this.config = new Uint8Array(0x40);
    const cv = new DataView(this.config.buffer);
    cv.setBigUint64(0x00, BigInt(Math.floor(disk.size / SECTOR)), true);
    cv.setUint32(0x0c, Math.max(1, this.queueNumMax - 2), true); // seg_max: the header and status need a descriptor each
    cv.setUint32(0x14, SECTOR, true); // blk_size
  }

  get capacitySectors(): number { return Math.floor(this.disk.size / SECTOR); }
  get deviceStatus(): number { return this.status; }

  // ---- Register interface ----

  read(offset: number, width: number): number {
    if (offset >= REG.Config) {
      const o = offset - REG.Config;
      let v = 0;
      for (let k = 0; k < width; k++) v |= (o + k < this.config.length ? this.config[o + k] : 0) << (8 * k);
      return v >>> 0;
    }
    if (width !== 4 || (offset & 3) !== 0) return 0; // registers only support 32-bit accesses
    switch (offset) {
      case REG.MagicValue: return VIRTIO_MMIO_MAGIC;
      case REG.Version: return 2;
      case REG.DeviceID: return VIRTIO_ID_BLOCK;
      case REG.VendorID: return this.vendorId >>> 0;
      case REG.DeviceFeatures:
        return this.deviceFeaturesSel < 2 ? Number((this.features >> BigInt(32 * this.deviceFeaturesSel)) & 0xffffffffn) : 0;
      case REG.QueueNumMax: return this.queueSel === 0 ? this.queueNumMax : 0;
      case REG.QueueReady: return this.queueSel === 0 && this.qReady ? 1 : 0;
      case REG.InterruptStatus: return this.interruptStatus;
      case REG.Status: return this.status;
      case REG.SHMLenLow: case REG.SHMLenHigh: return 0xffffffff; // no shared memory regions
      case REG.ConfigGeneration: return 0;
      case REG.QueueNum: return this.queueSel === 0 ? this.qNum : 0;
      case REG.QueueDescLow: return this.queueSel === 0 ? Number(this.qDesc & 0xffffffffn) : 0;
      case REG.QueueDescHigh: return this.queueSel === 0 ? Number(this.qDesc >> 32n) : 0;
      case REG.QueueDriverLow: return this.queueSel === 0 ? Number(this.qDriver & 0xffffffffn) : 0;
      case REG.QueueDriverHigh: return this.queueSel === 0 ? Number(this.qDriver >> 32n) : 0;
      case REG.QueueDeviceLow: return this.queueSel === 0 ? Number(this.qDevice & 0xffffffffn) : 0;
      case REG.QueueDeviceHigh: return this.queueSel === 0 ? Number(this.qDevice >> 32n) : 0;
      default: return 0;
    }
  }

  write(offset: number, width: number, value: number): void {
    if (offset >= REG.Config) return; // the block config space has no writable fields we offer
    if (width !== 4 || (offset & 3) !== 0) return;
    const v = value >>> 0;
    const setLow = (old: bigint) => (old & ~0xffffffffn) | BigInt(v);
    const setHigh = (old: bigint) => (old & 0xffffffffn) | (BigInt(v) << 32n);
    // Queue configuration may only change while the queue is not ready.
    const queueWritable = this.queueSel === 0 && !this.qReady;
    switch (offset) {
      case REG.DeviceFeaturesSel: this.deviceFeaturesSel = v; return;
      case REG.DriverFeaturesSel: this.driverFeaturesSel = v; return;
      case REG.DriverFeatures:
        if (this.driverFeaturesSel < 2 && !(this.status & STATUS.FEATURES_OK)) {
          const shift = BigInt(32 * this.driverFeaturesSel);
          this.driverFeatures = (this.driverFeatures & ~(0xffffffffn << shift)) | (BigInt(v) << shift);
        }
        return;
      case REG.QueueSel: this.queueSel = v; return;
      case REG.QueueNum: if (queueWritable) this.qNum = v; return;
      case REG.QueueReady:
        if (this.queueSel !== 0) return;
        if (v & 1) {
          if (!this.qReady) { this.lastAvail = 0; this.usedIdx = 0; }
          this.qReady = true;
        } else {
          this.qReady = false;
        }
        return;
      case REG.QueueNotify: if (v === 0) this.notify(); return;
      case REG.InterruptACK:
        this.interruptStatus &= ~v;
        this.updateIrq();
        return;
      case REG.Status: this.writeStatus(v & 0xff); return;
      case REG.QueueDescLow: if (queueWritable) this.qDesc = setLow(this.qDesc); return;
      case REG.QueueDescHigh: if (queueWritable) this.qDesc = setHigh(this.qDesc); return;
      case REG.QueueDriverLow: if (queueWritable) this.qDriver = setLow(this.qDriver); return;
      case REG.QueueDriverHigh: if (queueWritable) this.qDriver = setHigh(this.qDriver); return;
      case REG.QueueDeviceLow: if (queueWritable) this.qDevice = setLow(this.qDevice); return;
      case REG.QueueDeviceHigh: if (queueWritable) this.qDevice = setHigh(this.qDevice); return;
      default: return;
    }
  }

  private writeStatus(v: number): void {
    if (v === 0) { this.reset(); return; }
    if ((v & STATUS.FEATURES_OK) && !(this.status & STATUS.FEATURES_OK)) {
      // Accept the features only if the driver chose a subset of ours including VERSION_1 (no legacy interface).
      const ok = (this.driverFeatures & ~this.features) === 0n && (this.driverFeatures >> BigInt(FEATURE.VERSION_1)) & 1n;
      if (!ok) v &= ~STATUS.FEATURES_OK;
    }
    // NEEDS_RESET is the device's to set; the driver cannot clear it except by resetting.
    const wasOk = (this.status & STATUS.DRIVER_OK) !== 0;
    this.status = (v & ~STATUS.NEEDS_RESET) | (this.status & STATUS.NEEDS_RESET);
    // Buffers made available before DRIVER_OK are processed once the driver is ready.
    if (!wasOk && (this.status & STATUS.DRIVER_OK)) this.notify();
  }

  reset(): void {
    this.status = 0;
    this.deviceFeaturesSel = 0;
    this.driverFeaturesSel = 0;
    this.driverFeatures = 0n;
    this.queueSel = 0;
    this.qNum = 0;
    this.qReady = false;
    this.qDesc = this.qDriver = this.qDevice = 0n;
    this.lastAvail = 0;
    this.usedIdx = 0;
    this.interruptStatus = 0;
    this.updateIrq();
  }

  private updateIrq(): void {
    const level = this.interruptStatus !== 0;
    if (level !== this.irqLevel) { this.irqLevel = level; this.irq(level); }
  }

  /** Enter DEVICE_NEEDS_RESET after a guest error, and tell the driver with a configuration change interrupt. */
  private fail(msg: string): void {
    this.lastError = msg;
    this.log(`virtio-blk@${this.base.toString(16)}: ${msg}; device needs reset`);
    this.status |= STATUS.NEEDS_RESET;
    this.interruptStatus |= INT.CONFIG_CHANGE;
    this.updateIrq();
  }

  // ---- Guest memory ----

  /** Physical address from a 64-bit value, or -1 if it cannot be RAM. */
  private static addr(v: bigint): number {
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(v);
  }

  /** RAM the device may reach by DMA. */
  private inRam(addr: number, len: number): boolean {
    return addr >= 0 && this.bus.ramOffset(addr, len) >= 0 && (this.bus.dmaAllowed?.(addr, len) ?? true);
  }

  private u16(addr: number): number {
    return this.bus.ramView.getUint16(this.bus.ramOffset(addr, 2), true);
  }

  private u32(addr: number): number {
    return this.bus.ramView.getUint32(this.bus.ramOffset(addr, 4), true);
  }

  // ---- Queue processing ----

  private notify(): void {
    if (!(this.status & STATUS.DRIVER_OK) || (this.status & STATUS.NEEDS_RESET) || !this.qReady) return;
    try {
      this.processQueue();
    } catch (e) {
      // Guest errors arrive as DeviceError; anything else is a backend or device fault, still not the emulator's.
      this.fail(e instanceof Error ? e.message : String(e));
    }
  }

  private processQueue(): void {
    const num = this.qNum;
    if (num < 1 || num > this.queueNumMax) throw new DeviceError(`queue size ${num} is invalid`);
    const desc = VirtioBlk.addr(this.qDesc), avail = VirtioBlk.addr(this.qDriver), used = VirtioBlk.addr(this.qDevice);
    if (desc % 16 || !this.inRam(desc, 16 * num)) throw new DeviceError('descriptor table outside RAM or misaligned');
    if (avail % 2 || !this.inRam(avail, 6 + 2 * num)) throw new DeviceError('available ring outside RAM or misaligned');
    if (used % 4 || !this.inRam(used, 6 + 8 * num)) throw new DeviceError('used ring outside RAM or misaligned');
    let completed = 0;
    // Take the index once: requests whose DMA rewrites the ring must not keep this loop going.
    const availIdx = this.u16(avail + 2);
    const outstanding = (availIdx - this.lastAvail) & 0xffff;
    if (outstanding > num) throw new DeviceError(`available index ${availIdx} is ${outstanding} ahead of the device (queue size ${num})`);
    while (this.lastAvail !== availIdx) {
      const head = this.u16(avail + 4 + 2 * (this.lastAvail % num));
      if (head >= num) throw new DeviceError(`descriptor index ${head} out of range`);
      const written = this.handleRequest(this.gather(desc, num, head));
      // Used ring element: id (le32), len (le32); then publish the new index.
      const elem = new Uint8Array(8);
      const ev = new DataView(elem.buffer);
      ev.setUint32(0, head, true);
      ev.setUint32(4, written, true);
      this.bus.writeBytes(used + 4 + 8 * (this.usedIdx % num), elem);
      this.usedIdx = (this.usedIdx + 1) & 0xffff;
      this.lastAvail = (this.lastAvail + 1) & 0xffff;
      this.bus.writeBytes(used + 2, Uint8Array.of(this.usedIdx & 0xff, this.usedIdx >>> 8));
      completed++;
      this.requests++;
    }
    if (completed > 0 && !(this.u16(avail) & AVAIL_F_NO_INTERRUPT)) {
      this.interruptStatus |= INT.USED_BUFFER;
      this.updateIrq();
    }
  }

  /** Walk a descriptor chain (following one level of indirection) into its buffers. */
  private gather(desc: number, num: number, head: number): Segment[] {
    const segs: Segment[] = [];
    let table = desc, size = num, i = head, steps = 0, total = 0, indirect = false, seenWrite = false;
    for (;;) {
      // A chain visits each descriptor of its table at most once, and is never longer than the queue.
      if (++steps > size || ++total > num + 1) throw new DeviceError('descriptor chain loops or is longer than the queue');
      const d = this.bus.readBytes(table + 16 * i, 16);
      const dv = new DataView(d.buffer, d.byteOffset, 16);
      const addr = VirtioBlk.addr(dv.getBigUint64(0, true));
      const len = dv.getUint32(8, true), flags = dv.getUint16(12, true), next = dv.getUint16(14, true);
      if (flags & DESC_F_INDIRECT) {
        if (indirect) throw new DeviceError('nested indirect descriptor');
        if (steps !== 1 || (flags & DESC_F_NEXT)) throw new DeviceError('indirect descriptor inside a chain');
        if (!((this.driverFeatures >> BigInt(FEATURE.RING_INDIRECT_DESC)) & 1n)) throw new DeviceError('indirect descriptor not negotiated');
        if (len === 0 || len % 16 || !this.inRam(addr, len)) throw new DeviceError('bad indirect descriptor table');
        table = addr; size = len / 16; i = 0; steps = 0; indirect = true;
        continue;
      }
      const write = (flags & DESC_F_WRITE) !== 0;
      if (!write && seenWrite) throw new DeviceError('device-readable descriptor after a device-writable one');
      seenWrite ||= write;
      segs.push({ addr, len, write });
      if (!(flags & DESC_F_NEXT)) return segs;
      if (next >= size) throw new DeviceError(`next descriptor ${next} out of range`);
      i = next;
    }
  }

  /** Carry out one request; returns the number of bytes written into device-writable buffers. */
  private handleRequest(segs: Segment[]): number {
    const readable = segs.filter((s) => !s.write), writable = segs.filter((s) => s.write);
    const writeTotal = writable.reduce((n, s) => n + s.len, 0);
    if (writeTotal < 1) throw new DeviceError('request without a status byte');
    // The status byte is the last byte of the last writable buffer.
    const statusSeg = writable[writable.length - 1];
    const statusAddr = statusSeg.len > 0 ? statusSeg.addr + statusSeg.len - 1 : -1;
    if (!this.inRam(statusAddr, 1)) throw new DeviceError('status byte outside RAM');
    const done = (status: number, dataWritten: number): number => {
      this.bus.writeBytes(statusAddr, Uint8Array.of(status));
      return dataWritten + 1;
    };
    if (segs.some((s) => s.len > 0 && !this.inRam(s.addr, s.len))) {
      this.lastError = 'request buffer outside RAM';
      return done(BLK_S.IOERR, 0);
    }
    const readTotal = readable.reduce((n, s) => n + s.len, 0);
    if (readTotal < REQ_HEADER) { this.lastError = 'request header too short'; return done(BLK_S.IOERR, 0); }
    const hdr = this.readStream(readable, 0, REQ_HEADER);
    const hv = new DataView(hdr.buffer);
    const type = hv.getUint32(0, true);
    const sector = hv.getBigUint64(8, true);
    try {
      switch (type) {
        case BLK_T.IN: {
          const len = writeTotal - 1;
          if (!this.rangeOk(sector, len)) return done(BLK_S.IOERR, 0);
          const off = Number(sector) * SECTOR;
          for (let p = 0; p < len; p += CHUNK) {
            const n = Math.min(CHUNK, len - p);
            this.writeStream(writable, p, this.disk.read(off + p, n));
          }
          return done(BLK_S.OK, len);
        }
        case BLK_T.OUT: {
          if (this.disk.readOnly) return done(BLK_S.IOERR, 0);
          const len = readTotal - REQ_HEADER;
          if (!this.rangeOk(sector, len)) return done(BLK_S.IOERR, 0);
          const off = Number(sector) * SECTOR;
          for (let p = 0; p < len; p += CHUNK) {
            const n = Math.min(CHUNK, len - p);
            this.disk.write(off + p, this.readStream(readable, REQ_HEADER + p, n));
          }
          return done(BLK_S.OK, 0);
        }
        case BLK_T.FLUSH:
          this.disk.flush();
          return done(BLK_S.OK, 0);
        case BLK_T.GET_ID: {
          const n = Math.min(ID_BYTES, writeTotal - 1);
          const id = new Uint8Array(n);
          id.set(this.serial.subarray(0, n));
          this.writeStream(writable, 0, id);
          return done(BLK_S.OK, n);
        }
        default:
          return done(BLK_S.UNSUPP, 0);
      }
    } catch (e) {
      // Host I/O errors are the guest's IOERR, not the emulator's problem.
      this.lastError = `I/O error: ${e instanceof Error ? e.message : String(e)}`;
      this.log(`virtio-blk@${this.base.toString(16)}: ${this.lastError}`);
      return done(BLK_S.IOERR, 0);
    }
  }

  /** Whether a transfer of len bytes at a sector is whole sectors within the disk. */
  private rangeOk(sector: bigint, len: number): boolean {
    if (len % SECTOR !== 0 || len > MAX_REQUEST_BYTES) { this.lastError = `bad transfer length ${len}`; return false; }
    const cap = BigInt(this.capacitySectors);
    if (sector > cap || BigInt(len / SECTOR) > cap - sector) { this.lastError = `sector ${sector} + ${len / SECTOR} beyond capacity ${cap}`; return false; }
    return true;
  }

  /** Bytes [pos, pos+len) of the concatenation of buffers. */
  private readStream(segs: Segment[], pos: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let base = 0, done = 0;
    for (const s of segs) {
      if (done === len) break;
      const start = pos + done;
      if (start < base + s.len) {
        const from = start - base, n = Math.min(s.len - from, len - done);
        out.set(this.bus.readBytes(s.addr + from, n), done);
        done += n;
      }
      base += s.len;
    }
    return out;
  }

  /** Write bytes at position pos of the concatenation of buffers. */
  private writeStream(segs: Segment[], pos: number, data: Uint8Array): void {
    let base = 0, done = 0;
    for (const s of segs) {
      if (done === data.length) break;
      const start = pos + done;
      if (start < base + s.len) {
        const from = start - base, n = Math.min(s.len - from, data.length - done);
        this.bus.writeBytes(s.addr + from, data.subarray(done, done + n));
        done += n;
      }
      base += s.len;
    }
  }
}

/**
 * An unoccupied virtio-mmio slot, as QEMU virt leaves them: the transport answers with device ID 0 ("no device"),
 * which drivers skip, so the device tree can list all eight slots whatever is plugged in.
 */
export class EmptyVirtioSlot implements Device {
  readonly name = 'virtio-mmio-empty';
  readonly size = 0x1000;
  constructor(readonly base: number, private readonly vendorId = VIRTIO_VENDOR_QEMU) {}
  read(offset: number, width: number): number {
    if (width !== 4) return 0;
    switch (offset) {
      case REG.MagicValue: return VIRTIO_MMIO_MAGIC;
      case REG.Version: return 2;
      case REG.VendorID: return this.vendorId >>> 0;
      default: return 0;
    }
  }
  write(): void {}
}
