// Physical memory bus: one RAM region plus MMIO devices. Devices see offsets within their window.
export interface Device {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  /** width is 1, 2 or 4; 8-byte accesses are split into two 4-byte ones. */
  read(offset: number, width: number): number;
  write(offset: number, width: number, value: number): void;
}

export class Bus {
  readonly ram: ArrayBuffer;
  readonly ram8: Uint8Array;
  readonly ram16: Uint16Array;
  readonly ram32: Int32Array;
  readonly ramView: DataView;
  private devices: Device[] = [];
  /**
   * DMA protection, as an IOPMP or IOMMU gives it: when set, devices may read or write a RAM range only if it
   * returns true. Privileged software (Salus) programs it; devices report a denied transfer as an I/O error.
   */
  dmaAllowed: ((pa: number, length: number) => boolean) | null = null;
  /** Called with the RAM offset of every write not made by a hart store fast path (DMA, slow-path stores). */
  onRamWrite: ((offset: number, length: number) => void) | null = null;

  constructor(readonly ramBase: number, readonly ramSize: number) {
    this.ram = new ArrayBuffer(ramSize);
    this.ram8 = new Uint8Array(this.ram);
    this.ram16 = new Uint16Array(this.ram);
    this.ram32 = new Int32Array(this.ram);
    this.ramView = new DataView(this.ram);
  }

  addDevice(d: Device): void {
    for (const o of this.devices) {
      if (d.base < o.base + o.size && o.base < d.base + d.size) throw new Error(`device ${d.name} overlaps ${o.name}`);
    }
    this.devices.push(d);
  }

  /** RAM offset of a physical address range, or -1 if it is not entirely in RAM. */
  ramOffset(pa: number, length: number): number {
    const off = pa - this.ramBase;
    return off >= 0 && off + length <= this.ramSize ? off : -1;
  }

  device(pa: number): Device | undefined {
    for (const d of this.devices) if (pa >= d.base && pa < d.base + d.size) return d;
    return undefined;
  }

  /** Copy bytes into RAM at a physical address (loaders, DMA). */
  writeBytes(pa: number, bytes: Uint8Array): void {
    const off = this.ramOffset(pa, bytes.length);
    if (off < 0) throw new Error(`write of ${bytes.length} bytes at 0x${pa.toString(16)} is outside RAM`);
    this.ram8.set(bytes, off);
    this.onRamWrite?.(off, bytes.length);
  }

  readBytes(pa: number, length: number): Uint8Array {
    const off = this.ramOffset(pa, length);
    if (off < 0) throw new Error(`read of ${length} bytes at 0x${pa.toString(16)} is outside RAM`);
    return this.ram8.slice(off, off + length);
  }
}
