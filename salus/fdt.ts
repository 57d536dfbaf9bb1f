// Reading a flattened device tree (Devicetree Specification v0.4, chapter 5), as Salus does at boot to learn the
// machine: memory, cpus and devices. Malformed blobs raise FdtError rather than being read past their end.

const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1, FDT_END_NODE = 2, FDT_PROP = 3, FDT_NOP = 4, FDT_END = 9;

export class FdtError extends Error {}

export class DtNode {
  readonly props = new Map<string, Uint8Array>();
  readonly children: DtNode[] = [];
  constructor(readonly name: string, readonly parent: DtNode | null) {}

  child(name: string): DtNode | undefined {
    return this.children.find((c) => c.name === name || c.name.split('@')[0] === name);
  }
  /** Nodes below this one whose name (without unit address) is `name`. */
  childrenNamed(name: string): DtNode[] {
    return this.children.filter((c) => c.name.split('@')[0] === name);
  }
  u32(prop: string): number | undefined {
    const v = this.props.get(prop);
    return v && v.length >= 4 ? new DataView(v.buffer, v.byteOffset).getUint32(0) : undefined;
  }
  str(prop: string): string | undefined {
    return this.strs(prop)?.[0];
  }
  strs(prop: string): string[] | undefined {
    const v = this.props.get(prop);
    if (!v) return undefined;
    return new TextDecoder().decode(v).split('\0').slice(0, -1);
  }
  /** A property as big-endian numbers of `cells` 32-bit cells each. */
  numbers(prop: string, cells: number): bigint[] {
    const v = this.props.get(prop);
    if (!v) return [];
    const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    const out: bigint[] = [];
    for (let o = 0; o + 4 * cells <= v.length; o += 4 * cells) {
      let n = 0n;
      for (let c = 0; c < cells; c++) n = (n << 32n) | BigInt(dv.getUint32(o + 4 * c));
      out.push(n);
    }
    return out;
  }
  /** The (address, size) pairs of `reg`, using the parent's #address-cells and #size-cells. */
  reg(): { address: bigint; size: bigint }[] {
    const ac = this.parent?.u32('#address-cells') ?? 2, sc = this.parent?.u32('#size-cells') ?? 1;
    const flat = this.numbers('reg', 1);
    const out: { address: bigint; size: bigint }[] = [];
    const join = (cells: bigint[]) => cells.reduce((n, c) => (n << 32n) | c, 0n);
    for (let i = 0; i + ac + sc <= flat.length; i += ac + sc) {
      out.push({ address: join(flat.slice(i, i + ac)), size: join(flat.slice(i + ac, i + ac + sc)) });
    }
    return out;
  }
  /** Depth-first search by predicate. */
  find(pred: (n: DtNode) => boolean): DtNode[] {
    const out: DtNode[] = [];
    const walk = (n: DtNode): void => { if (pred(n)) out.push(n); n.children.forEach(walk); };
    walk(this);
    return out;
  }
  compatible(s: string): boolean {
    return this.strs('compatible')?.includes(s) ?? false;
  }
}

/** Parse a DTB into its root node. */
export function parseFdt(blob: Uint8Array): DtNode {
  if (blob.length < 40) throw new FdtError('device tree: shorter than its header');
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (dv.getUint32(0) !== FDT_MAGIC) throw new FdtError('device tree: bad magic');
  const total = dv.getUint32(4), structOff = dv.getUint32(8), stringsOff = dv.getUint32(12);
  const structSize = dv.getUint32(36), stringsSize = dv.getUint32(32);
  if (total > blob.length || structOff + structSize > total || stringsOff + stringsSize > total) {
    throw new FdtError('device tree: blocks outside the blob');
  }
  const end = structOff + structSize;
  const word = (o: number) => {
    if (o + 4 > end) throw new FdtError('device tree: structure block ends early');
    return dv.getUint32(o);
  };
  const cstr = (o: number, limit: number) => {
    let e = o;
    while (e < limit && blob[e] !== 0) e++;
    if (e >= limit) throw new FdtError('device tree: unterminated string');
    return { s: new TextDecoder().decode(blob.subarray(o, e)), next: e + 1 };
  };
  let off = structOff;
  let root: DtNode | null = null, cur: DtNode | null = null;
  for (;;) {
    const token = word(off); off += 4;
    if (token === FDT_BEGIN_NODE) {
      const { s, next } = cstr(off, end);
      off = (next + 3) & ~3;
      const n: DtNode = new DtNode(s, cur);
      if (cur) cur.children.push(n); else if (root) throw new FdtError('device tree: two root nodes'); else root = n;
      cur = n;
    } else if (token === FDT_END_NODE) {
      if (!cur) throw new FdtError('device tree: unbalanced end of node');
      cur = cur.parent;
    } else if (token === FDT_PROP) {
      if (!cur) throw new FdtError('device tree: property outside a node');
      const len = word(off), nameOff = word(off + 4);
      off += 8;
      if (off + len > end) throw new FdtError('device tree: property runs past the structure block');
      const name = cstr(stringsOff + nameOff, stringsOff + stringsSize).s;
      cur.props.set(name, blob.slice(off, off + len));
      off = (off + len + 3) & ~3;
    } else if (token === FDT_NOP) {
      continue;
    } else if (token === FDT_END) {
      if (!root || cur) throw new FdtError('device tree: ends inside a node');
      return root;
    } else {
      throw new FdtError(`device tree: unknown token ${token}`);
    }
  }
}
