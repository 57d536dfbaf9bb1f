// Flattened device tree (Devicetree Specification v0.4, chapter 5: DTB format version 17) builder, and the device
// tree of the Salus virt machine, modelled on the one QEMU 7.2 generates for `-M virt` with the same devices.

const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1, FDT_END_NODE = 2, FDT_PROP = 3, FDT_END = 9;
const FDT_VERSION = 17, FDT_LAST_COMP_VERSION = 16;
const HEADER_SIZE = 40;

type Num = number | bigint;

function checkU32(v: Num): number {
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`device tree cell ${v} does not fit in 32 bits`);
  return n;
}

function toU64(v: Num): bigint {
  const b = BigInt(v);
  if (b < 0n || b > 0xffffffffffffffffn) throw new RangeError(`device tree value ${v} does not fit in 64 bits`);
  return b;
}

/** Encoders for property values (all big-endian, as the format requires). */
export const prop = {
  /** A list of 32-bit cells. */
  u32(...cells: Num[]): Uint8Array {
    const out = new Uint8Array(4 * cells.length);
    const dv = new DataView(out.buffer);
    cells.forEach((c, i) => dv.setUint32(4 * i, checkU32(c)));
    return out;
  },
  /** A list of 64-bit values (two cells each). */
  u64(...values: Num[]): Uint8Array {
    const out = new Uint8Array(8 * values.length);
    const dv = new DataView(out.buffer);
    values.forEach((v, i) => dv.setBigUint64(8 * i, toU64(v)));
    return out;
  },
  /** Address or size split into `cells` 32-bit cells (1 or 2). */
  cells(value: Num, cells: number): Uint8Array {
    if (cells === 1) return prop.u32(value);
    if (cells === 2) return prop.u64(value);
    throw new RangeError(`unsupported cell count ${cells}`);
  },
  /** A NUL-terminated string. */
  str(s: string): Uint8Array { return prop.strs([s]); },
  /** A string list: each string NUL-terminated, concatenated. */
  strs(list: string[]): Uint8Array {
    const parts = list.map((s) => {
      if (s.includes('\0')) throw new RangeError('device tree strings cannot contain NUL');
      return new TextEncoder().encode(s + '\0');
    });
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    return out;
  },
  /** An empty (boolean) property. */
  empty(): Uint8Array { return new Uint8Array(0); },
  /** Concatenate encoded values (e.g. mixed-width cells). */
  concat(...parts: Uint8Array[]): Uint8Array {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    return out;
  },
};

const NODE_NAME = /^[A-Za-z0-9,._+-]{1,31}(@[A-Za-z0-9,._+-]+)?$/;
const PROP_NAME = /^[A-Za-z0-9,._+?#-]{1,31}$/;

export class FdtNode {
  readonly props: { name: string; value: Uint8Array }[] = [];
  readonly children: FdtNode[] = [];
  /** Set by FdtBuilder.phandle. */
  phandleValue = 0;

  constructor(readonly name: string) {
    if (name !== '' && !NODE_NAME.test(name)) throw new RangeError(`invalid device tree node name '${name}'`);
  }

  /** Add a child node (names must be unique among siblings). */
  node(name: string): FdtNode {
    if (this.children.some((c) => c.name === name)) throw new RangeError(`duplicate device tree node '${name}'`);
    const n = new FdtNode(name);
    this.children.push(n);
    return n;
  }

  child(name: string): FdtNode | undefined { return this.children.find((c) => c.name === name); }

  /** Set a property, replacing an existing one of the same name. Returns this for chaining. */
  set(name: string, value: Uint8Array): this {
    if (!PROP_NAME.test(name)) throw new RangeError(`invalid device tree property name '${name}'`);
    const existing = this.props.find((p) => p.name === name);
    if (existing) existing.value = value;
    else this.props.push({ name, value });
    return this;
  }

  get(name: string): Uint8Array | undefined { return this.props.find((p) => p.name === name)?.value; }

  u32(name: string, ...cells: Num[]): this { return this.set(name, prop.u32(...cells)); }
  u64(name: string, ...values: Num[]): this { return this.set(name, prop.u64(...values)); }
  str(name: string, s: string): this { return this.set(name, prop.str(s)); }
  strs(name: string, list: string[]): this { return this.set(name, prop.strs(list)); }
  flag(name: string): this { return this.set(name, prop.empty()); }
}

export interface Reservation { address: Num; size: Num }

/** Builds a DTB: a tree of nodes, phandle allocation, the memory reservation block. */
export class FdtBuilder {
  readonly root = new FdtNode('');
  readonly reservations: Reservation[] = [];
  private nextPhandle = 1;
  bootCpuidPhys = 0;

  /** The node's phandle, allocating one (and its `phandle` property) on first use. */
  phandle(node: FdtNode): number {
    if (node.phandleValue === 0) {
      node.phandleValue = this.nextPhandle++;
      node.u32('phandle', node.phandleValue);
    }
    return node.phandleValue;
  }

  reserve(address: Num, size: Num): void { this.reservations.push({ address, size }); }

  build(): Uint8Array {
    // Strings block, with each property name stored once.
    const strOffsets = new Map<string, number>();
    const strBytes: number[] = [];
    const nameOff = (name: string): number => {
      let off = strOffsets.get(name);
      if (off === undefined) {
        off = strBytes.length;
        strOffsets.set(name, off);
        for (const b of new TextEncoder().encode(name)) strBytes.push(b);
        strBytes.push(0);
      }
      return off;
    };

    // Structure block.
    let struct = new Uint8Array(4096), len = 0;
    const ensure = (n: number) => {
      if (len + n <= struct.length) return;
      const bigger = new Uint8Array(Math.max(struct.length * 2, len + n));
      bigger.set(struct.subarray(0, len));
      struct = bigger;
    };
    const u32 = (v: number) => { ensure(4); new DataView(struct.buffer).setUint32(len, v); len += 4; };
    const bytesPadded = (b: Uint8Array) => { ensure(b.length + 3); struct.set(b, len); len += b.length; while (len & 3) struct[len++] = 0; };
    const emit = (n: FdtNode) => {
      u32(FDT_BEGIN_NODE);
      bytesPadded(new TextEncoder().encode(n.name + '\0'));
      for (const p of n.props) {
        u32(FDT_PROP);
        u32(p.value.length);
        u32(nameOff(p.name));
        bytesPadded(p.value);
      }
      for (const c of n.children) emit(c);
      u32(FDT_END_NODE);
    };
    emit(this.root);
    u32(FDT_END);

    const rsvSize = 16 * (this.reservations.length + 1);
    const offRsv = HEADER_SIZE; // already 8-byte aligned
    const offStruct = offRsv + rsvSize;
    const offStrings = offStruct + len;
    const total = offStrings + strBytes.length;
    const out = new Uint8Array((total + 7) & ~7);
    const dv = new DataView(out.buffer);
    const header = [FDT_MAGIC, out.length, offStruct, offStrings, offRsv, FDT_VERSION, FDT_LAST_COMP_VERSION,
      this.bootCpuidPhys, strBytes.length, len];
    header.forEach((v, i) => dv.setUint32(4 * i, v));
    this.reservations.forEach((r, i) => {
      dv.setBigUint64(offRsv + 16 * i, toU64(r.address));
      dv.setBigUint64(offRsv + 16 * i + 8, toU64(r.size));
    });
    out.set(struct.subarray(0, len), offStruct);
    out.set(strBytes, offStrings);
    return out;
  }
}

// ---- The virt machine ----

export const VIRT_DT = {
  clint: 0x2000000, clintSize: 0x10000,
  plic: 0xc000000, plicSize: 0x600000,
  uart: 0x10000000, uartSize: 0x100, uartIrq: 10, uartClock: 0x384000,
  test: 0x100000, testSize: 0x1000,
  virtio: 0x10001000, virtioStride: 0x1000, virtioSize: 0x1000, virtioFirstIrq: 1,
  timebase: 10_000_000,
  plicSources: 53,
} as const;

export interface VirtDeviceTreeConfig {
  memBase: Num;
  memSize: Num;
  harts: number;
  /** riscv,isa string, e.g. 'rv64imafdc_zicsr_zifencei_zihintpause_sstc'. */
  isa: string;
  mmuType: 'riscv,sv57' | 'riscv,sv48' | 'riscv,sv39';
  bootargs?: string;
  /** Physical range of the initial ramdisk [start, end). */
  initrd?: { start: Num; end: Num };
  /** Default '/soc/serial@10000000'. */
  stdoutPath?: string;
  /** Number of virtio-mmio transports (QEMU virt has 8 at 0x10001000, stride 0x1000, IRQs 1..8). */
  virtio: number;
  hasTestFinisher: boolean;
  /** Number of PLIC sources (riscv,ndev); default 53. */
  plicSources?: number;
  /** Bytes for /chosen/rng-seed (Linux credits them as boot entropy). */
  rngSeed?: Uint8Array;
  /** Memory reservation block entries. */
  reservations?: Reservation[];
  /** Root model string; default 'riscv-virtio,salus'. */
  model?: string;
}

/** Phandles of the virt tree, for callers that add nodes to it. */
export interface VirtTree {
  fdt: FdtBuilder;
  plicPhandle: number;
  intcPhandles: number[];
}

/** Build the device tree as an editable tree (call fdt.build() for the blob). */
export function virtTree(cfg: VirtDeviceTreeConfig): VirtTree {
  if (!Number.isInteger(cfg.harts) || cfg.harts < 1 || cfg.harts > 512) throw new RangeError(`bad hart count ${cfg.harts}`);
  if (!Number.isInteger(cfg.virtio) || cfg.virtio < 0 || cfg.virtio > 8) throw new RangeError(`bad virtio slot count ${cfg.virtio}`);
  const fdt = new FdtBuilder();
  const root = fdt.root;
  root.u32('#address-cells', 2).u32('#size-cells', 2);
  root.str('compatible', 'riscv-virtio');
  root.str('model', cfg.model ?? 'riscv-virtio,salus');

  const chosen = root.node('chosen');
  if (cfg.bootargs !== undefined) chosen.str('bootargs', cfg.bootargs);
  chosen.str('stdout-path', cfg.stdoutPath ?? `/soc/serial@${VIRT_DT.uart.toString(16)}`);
  if (cfg.initrd) {
    chosen.u64('linux,initrd-start', cfg.initrd.start);
    chosen.u64('linux,initrd-end', cfg.initrd.end);
  }
  if (cfg.rngSeed) chosen.set('rng-seed', cfg.rngSeed);

  root.node(`memory@${BigInt(cfg.memBase).toString(16)}`)
    .str('device_type', 'memory')
    .u64('reg', cfg.memBase, cfg.memSize);

  const cpus = root.node('cpus');
  cpus.u32('#address-cells', 1).u32('#size-cells', 0).u32('timebase-frequency', VIRT_DT.timebase);
  const cpuNodes: FdtNode[] = [];
  const intcPhandles: number[] = [];
  for (let h = 0; h < cfg.harts; h++) {
    const cpu = cpus.node(`cpu@${h.toString(16)}`);
    fdt.phandle(cpu);
    cpu.str('device_type', 'cpu').u32('reg', h).str('status', 'okay').str('compatible', 'riscv')
      .str('riscv,isa', cfg.isa).str('mmu-type', cfg.mmuType);
    const intc = cpu.node('interrupt-controller');
    // #address-cells = 0 is not in QEMU 7.2's tree; dtc asks for it on interrupt providers (and interrupt-map users need it).
    intc.u32('#interrupt-cells', 1).u32('#address-cells', 0).flag('interrupt-controller').str('compatible', 'riscv,cpu-intc');
    intcPhandles.push(fdt.phandle(intc));
    cpuNodes.push(cpu);
  }
  const cluster = cpus.node('cpu-map').node('cluster0');
  cpuNodes.forEach((cpu, h) => cluster.node(`core${h}`).u32('cpu', cpu.phandleValue));

  const soc = root.node('soc');
  soc.u32('#address-cells', 2).u32('#size-cells', 2).str('compatible', 'simple-bus').flag('ranges');

  const plic = soc.node(`plic@${VIRT_DT.plic.toString(16)}`);
  const plicPhandle = fdt.phandle(plic);
  plic.u32('#interrupt-cells', 1).u32('#address-cells', 0)
    .strs('compatible', ['sifive,plic-1.0.0', 'riscv,plic0'])
    .flag('interrupt-controller')
    .u32('interrupts-extended', ...intcPhandles.flatMap((p) => [p, 11, p, 9]))
    .u64('reg', VIRT_DT.plic, VIRT_DT.plicSize)
    .u32('riscv,ndev', cfg.plicSources ?? VIRT_DT.plicSources);

  soc.node(`clint@${VIRT_DT.clint.toString(16)}`)
    .strs('compatible', ['sifive,clint0', 'riscv,clint0'])
    .u64('reg', VIRT_DT.clint, VIRT_DT.clintSize)
    .u32('interrupts-extended', ...intcPhandles.flatMap((p) => [p, 3, p, 7]));

  soc.node(`serial@${VIRT_DT.uart.toString(16)}`)
    .str('compatible', 'ns16550a')
    .u64('reg', VIRT_DT.uart, VIRT_DT.uartSize)
    .u32('clock-frequency', VIRT_DT.uartClock)
    .u32('interrupt-parent', plicPhandle)
    .u32('interrupts', VIRT_DT.uartIrq);

  for (let i = 0; i < cfg.virtio; i++) {
    const addr = VIRT_DT.virtio + i * VIRT_DT.virtioStride;
    soc.node(`virtio_mmio@${addr.toString(16)}`)
      .str('compatible', 'virtio,mmio')
      .u64('reg', addr, VIRT_DT.virtioSize)
      .u32('interrupt-parent', plicPhandle)
      .u32('interrupts', VIRT_DT.virtioFirstIrq + i);
  }

  if (cfg.hasTestFinisher) {
    const test = soc.node(`test@${VIRT_DT.test.toString(16)}`);
    const testPhandle = fdt.phandle(test);
    test.strs('compatible', ['sifive,test1', 'sifive,test0', 'syscon']).u64('reg', VIRT_DT.test, VIRT_DT.testSize);
    root.node('poweroff').str('compatible', 'syscon-poweroff').u32('regmap', testPhandle).u32('offset', 0).u32('value', 0x5555);
    root.node('reboot').str('compatible', 'syscon-reboot').u32('regmap', testPhandle).u32('offset', 0).u32('value', 0x7777);
  }

  for (const r of cfg.reservations ?? []) fdt.reserve(r.address, r.size);
  return { fdt, plicPhandle, intcPhandles };
}

/** The DTB of the virt machine. */
export function buildVirtDeviceTree(cfg: VirtDeviceTreeConfig): Uint8Array {
  return virtTree(cfg).fdt.build();
}
