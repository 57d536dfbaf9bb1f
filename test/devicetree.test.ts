import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FdtBuilder, FdtNode, buildVirtDeviceTree, prop, virtTree, VirtDeviceTreeConfig } from '../src/devicetree.js';

// ---- dtc-based decompilation into a small tree ----

interface DtsNode { name: string; props: Map<string, string>; children: Map<string, DtsNode> }

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'salus-dt-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function decompile(blob: Uint8Array): { dts: string; stderr: string } {
  const file = join(dir, `t${counter++}.dtb`);
  writeFileSync(file, blob);
  const r = spawnSync('dtc', ['-I', 'dtb', '-O', 'dts', file], { encoding: 'utf8' });
  if (r.error) throw r.error;
  expect(r.status, r.stderr).toBe(0);
  return { dts: r.stdout, stderr: r.stderr };
}

/** Parse dtc's dts output (one property or node boundary per line). */
function parseDts(dts: string): { root: DtsNode; memreserve: string[] } {
  const root: DtsNode = { name: '/', props: new Map(), children: new Map() };
  const stack: DtsNode[] = [];
  const memreserve: string[] = [];
  for (const raw of dts.split('\n')) {
    const line = raw.trim();
    if (line === '' || line === '/dts-v1/;') continue;
    if (line.startsWith('/memreserve/')) { memreserve.push(line.replace('/memreserve/', '').replace(';', '').trim()); continue; }
    if (line === '/ {') { stack.push(root); continue; }
    if (line.endsWith(' {')) {
      const node: DtsNode = { name: line.slice(0, -2), props: new Map(), children: new Map() };
      stack[stack.length - 1].children.set(node.name, node);
      stack.push(node);
      continue;
    }
    if (line === '};') { stack.pop(); continue; }
    const m = /^([^ =]+)(?: = (.*))?;$/.exec(line);
    if (!m) throw new Error(`cannot parse dts line: ${line}`);
    stack[stack.length - 1].props.set(m[1], m[2] ?? '');
  }
  expect(stack).toEqual([]);
  return { root, memreserve };
}

function node(root: DtsNode, path: string): DtsNode {
  let n = root;
  for (const part of path.split('/').filter(Boolean)) {
    const c = n.children.get(part);
    if (!c) throw new Error(`no node ${path} (missing ${part}; have ${[...n.children.keys()].join(', ')})`);
    n = c;
  }
  return n;
}

const BASE: VirtDeviceTreeConfig = {
  memBase: 0x80000000, memSize: 128 * 1024 * 1024, harts: 1,
  isa: 'rv64imafdc_zicsr_zifencei_zihintpause_sstc', mmuType: 'riscv,sv57',
  bootargs: 'console=ttyS0 earlycon=sbi', initrd: { start: 0x84000000, end: 0x84123456 },
  stdoutPath: '/soc/serial@10000000', virtio: 8, hasTestFinisher: true,
};

function tree(cfg: Partial<VirtDeviceTreeConfig> = {}) {
  const blob = buildVirtDeviceTree({ ...BASE, ...cfg });
  const { dts, stderr } = decompile(blob);
  return { blob, dts, stderr, ...parseDts(dts) };
}

describe('FDT blob format', () => {
  it('has a version 17 header whose offsets and sizes describe the blob', () => {
    const { blob } = tree();
    const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const h = Array.from({ length: 10 }, (_, i) => dv.getUint32(4 * i));
    const [magic, total, offStruct, offStrings, offRsv, version, lastComp, bootCpu, sizeStrings, sizeStruct] = h;
    expect(magic).toBe(0xd00dfeed);
    expect(total).toBe(blob.length);
    expect(version).toBe(17);
    expect(lastComp).toBe(16);
    expect(bootCpu).toBe(0);
    expect(offRsv % 8).toBe(0);
    expect(offStruct % 4).toBe(0);
    expect(offRsv).toBeGreaterThanOrEqual(40);
    expect(offStruct).toBeGreaterThanOrEqual(offRsv + 16);
    expect(offStrings).toBe(offStruct + sizeStruct);
    expect(offStrings + sizeStrings).toBeLessThanOrEqual(total);
    expect(dv.getUint32(offStruct)).toBe(1); // FDT_BEGIN_NODE
    expect(dv.getUint32(offStruct + sizeStruct - 4)).toBe(9); // FDT_END
    // Empty reservation block: one terminating (0, 0) entry.
    expect(dv.getBigUint64(offRsv)).toBe(0n);
    expect(dv.getBigUint64(offRsv + 8)).toBe(0n);
  });

  it('stores each property name once in the strings block', () => {
    const { blob } = tree();
    const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const offStrings = dv.getUint32(12), sizeStrings = dv.getUint32(32);
    const names = new TextDecoder().decode(blob.subarray(offStrings, offStrings + sizeStrings)).split('\0').filter(Boolean);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('compatible');
    expect(names).toContain('interrupts-extended');
  });

  it('writes memory reservations', () => {
    const { memreserve } = tree({ reservations: [{ address: 0x80000000, size: 0x40000 }, { address: 0x1_0000_0000n, size: 0x1000 }] });
    expect(memreserve).toEqual(['0x0000000080000000 0x0000000000040000', '0x0000000100000000 0x0000000000001000']);
  });

  it('decompiles with dtc without warnings', () => {
    expect(tree().stderr).toBe('');
    expect(tree({ harts: 4 }).stderr).toBe('');
  });

  it('builds arbitrary trees: cells, u64, strings, string lists, flags, phandles, replacement', () => {
    const f = new FdtBuilder();
    f.root.u32('#address-cells', 1).u32('#size-cells', 1);
    const a = f.root.node('a@10');
    const b = f.root.node('b');
    expect(f.phandle(a)).toBe(1);
    expect(f.phandle(a)).toBe(1);
    expect(f.phandle(b)).toBe(2);
    a.u32('reg', 0x10, 0x20).u64('big', 0xfedcba9876543210n).strs('compatible', ['x,y', 'z']).flag('ready').str('s', 'hi');
    a.u32('reg', 0x10, 0x30); // replaces
    b.set('mixed', prop.concat(prop.u32(b.phandleValue), prop.cells(5, 2), prop.str('t')));
    const { root } = parseDts(decompile(f.build()).dts);
    const na = node(root, 'a@10');
    expect(na.props.get('reg')).toBe('<0x10 0x30>');
    expect(na.props.get('big')).toBe('<0xfedcba98 0x76543210>');
    expect(na.props.get('compatible')).toBe('"x,y\\0z"');
    expect(na.props.get('ready')).toBe('');
    expect(na.props.get('s')).toBe('"hi"');
    expect(na.props.get('phandle')).toBe('<0x01>');
    expect(node(root, 'b').props.get('mixed')).toBe('[00 00 00 02 00 00 00 00 00 00 00 05 74 00]'); // 14 bytes: dtc shows them raw
  });

  it('rejects invalid names, duplicates and out-of-range values', () => {
    const f = new FdtBuilder();
    expect(() => f.root.node('bad name')).toThrow();
    expect(() => f.root.node('x'.repeat(40))).toThrow();
    f.root.node('ok');
    expect(() => f.root.node('ok')).toThrow();
    expect(() => f.root.set('bad prop', prop.empty())).toThrow();
    expect(() => prop.u32(-1)).toThrow();
    expect(() => prop.u32(2 ** 32)).toThrow();
    expect(() => prop.u32(1.5)).toThrow();
    expect(() => prop.u64(-1n)).toThrow();
    expect(() => prop.u64(2n ** 64n)).toThrow();
    expect(() => prop.str('a\0b')).toThrow();
    expect(() => buildVirtDeviceTree({ ...BASE, harts: 0 })).toThrow();
    expect(() => buildVirtDeviceTree({ ...BASE, virtio: 9 })).toThrow();
    expect(new FdtNode('').name).toBe('');
  });
});

describe('virt device tree', () => {
  it('describes the machine like QEMU virt', () => {
    const { root } = tree();
    expect(root.props.get('#address-cells')).toBe('<0x02>');
    expect(root.props.get('#size-cells')).toBe('<0x02>');
    expect(root.props.get('compatible')).toBe('"riscv-virtio"');
    expect(root.props.get('model')).toBe('"riscv-virtio,salus"');

    const chosen = node(root, 'chosen');
    expect(chosen.props.get('bootargs')).toBe('"console=ttyS0 earlycon=sbi"');
    expect(chosen.props.get('stdout-path')).toBe('"/soc/serial@10000000"');
    expect(chosen.props.get('linux,initrd-start')).toBe('<0x00 0x84000000>');
    expect(chosen.props.get('linux,initrd-end')).toBe('<0x00 0x84123456>');

    const mem = node(root, 'memory@80000000');
    expect(mem.props.get('device_type')).toBe('"memory"');
    expect(mem.props.get('reg')).toBe('<0x00 0x80000000 0x00 0x8000000>');

    const cpus = node(root, 'cpus');
    expect(cpus.props.get('#address-cells')).toBe('<0x01>');
    expect(cpus.props.get('#size-cells')).toBe('<0x00>');
    expect(cpus.props.get('timebase-frequency')).toBe('<0x989680>');
    const cpu = node(root, 'cpus/cpu@0');
    expect(cpu.props.get('device_type')).toBe('"cpu"');
    expect(cpu.props.get('reg')).toBe('<0x00>');
    expect(cpu.props.get('status')).toBe('"okay"');
    expect(cpu.props.get('compatible')).toBe('"riscv"');
    expect(cpu.props.get('riscv,isa')).toBe('"rv64imafdc_zicsr_zifencei_zihintpause_sstc"');
    expect(cpu.props.get('mmu-type')).toBe('"riscv,sv57"');
    const intc = node(root, 'cpus/cpu@0/interrupt-controller');
    expect(intc.props.get('compatible')).toBe('"riscv,cpu-intc"');
    expect(intc.props.get('#interrupt-cells')).toBe('<0x01>');
    expect(intc.props.has('interrupt-controller')).toBe(true);
    const intcPh = intc.props.get('phandle')!;
    const cpuPh = cpu.props.get('phandle')!;
    expect(node(root, 'cpus/cpu-map/cluster0/core0').props.get('cpu')).toBe(cpuPh);

    const soc = node(root, 'soc');
    expect(soc.props.get('compatible')).toBe('"simple-bus"');
    expect(soc.props.get('ranges')).toBe('');

    const ph = (s: string) => s.slice(1, -1); // "<0x02>" -> "0x02"
    const plic = node(root, 'soc/plic@c000000');
    expect(plic.props.get('compatible')).toBe('"sifive,plic-1.0.0\\0riscv,plic0"');
    expect(plic.props.get('reg')).toBe('<0x00 0xc000000 0x00 0x600000>');
    expect(plic.props.get('riscv,ndev')).toBe('<0x35>');
    expect(plic.props.get('#interrupt-cells')).toBe('<0x01>');
    expect(plic.props.get('#address-cells')).toBe('<0x00>');
    expect(plic.props.has('interrupt-controller')).toBe(true);
    expect(plic.props.get('interrupts-extended')).toBe(`<${ph(intcPh)} 0x0b ${ph(intcPh)} 0x09>`);
    const plicPh = plic.props.get('phandle')!;

    const clint = node(root, 'soc/clint@2000000');
    expect(clint.props.get('compatible')).toBe('"sifive,clint0\\0riscv,clint0"');
    expect(clint.props.get('reg')).toBe('<0x00 0x2000000 0x00 0x10000>');
    expect(clint.props.get('interrupts-extended')).toBe(`<${ph(intcPh)} 0x03 ${ph(intcPh)} 0x07>`);

    const serial = node(root, 'soc/serial@10000000');
    expect(serial.props.get('compatible')).toBe('"ns16550a"');
    expect(serial.props.get('reg')).toBe('<0x00 0x10000000 0x00 0x100>');
    expect(serial.props.get('clock-frequency')).toBe('"\\08@"'); // <0x384000>, which dtc shows as a string
    expect(serial.props.get('interrupt-parent')).toBe(plicPh);
    expect(serial.props.get('interrupts')).toBe('<0x0a>');

    const virtio = [...soc.children.keys()].filter((k) => k.startsWith('virtio_mmio@'));
    expect(virtio).toHaveLength(8);
    for (let i = 0; i < 8; i++) {
      const v = node(root, `soc/virtio_mmio@${(0x10001000 + 0x1000 * i).toString(16)}`);
      expect(v.props.get('compatible')).toBe('"virtio,mmio"');
      expect(v.props.get('reg')).toBe(`<0x00 0x${(0x10001000 + 0x1000 * i).toString(16)} 0x00 0x1000>`);
      expect(v.props.get('interrupts')).toBe(`<0x0${i + 1}>`);
      expect(v.props.get('interrupt-parent')).toBe(plicPh);
    }

    const test = node(root, 'soc/test@100000');
    expect(test.props.get('compatible')).toBe('"sifive,test1\\0sifive,test0\\0syscon"');
    expect(test.props.get('reg')).toBe('<0x00 0x100000 0x00 0x1000>');
    for (const [name, value] of [['poweroff', '0x5555'], ['reboot', '0x7777']]) {
      const n = node(root, name);
      expect(n.props.get('compatible')).toBe(`"syscon-${name}"`);
      expect(n.props.get('regmap')).toBe(test.props.get('phandle'));
      expect(n.props.get('offset')).toBe('<0x00>');
      expect(n.props.get('value')).toBe(`<${value}>`);
    }

    // Phandles are unique.
    const all: string[] = [];
    const walk = (n: DtsNode) => { if (n.props.has('phandle')) all.push(n.props.get('phandle')!); n.children.forEach(walk); };
    walk(root);
    expect(new Set(all).size).toBe(all.length);
  });

  it('wires every hart into the CLINT and PLIC', () => {
    const { root } = tree({ harts: 3 });
    const intcs = [0, 1, 2].map((h) => node(root, `cpus/cpu@${h}/interrupt-controller`).props.get('phandle')!.slice(1, -1));
    expect(node(root, 'cpus/cpu@2').props.get('reg')).toBe('<0x02>');
    expect(node(root, 'soc/plic@c000000').props.get('interrupts-extended'))
      .toBe(`<${intcs.map((p) => `${p} 0x0b ${p} 0x09`).join(' ')}>`);
    expect(node(root, 'soc/clint@2000000').props.get('interrupts-extended'))
      .toBe(`<${intcs.map((p) => `${p} 0x03 ${p} 0x07`).join(' ')}>`);
    for (let h = 0; h < 3; h++) {
      expect(node(root, `cpus/cpu-map/cluster0/core${h}`).props.get('cpu')).toBe(node(root, `cpus/cpu@${h}`).props.get('phandle'));
    }
  });

  it('leaves out what the configuration does not have', () => {
    const { root } = tree({ bootargs: undefined, initrd: undefined, virtio: 0, hasTestFinisher: false, stdoutPath: undefined });
    const chosen = node(root, 'chosen');
    expect([...chosen.props.keys()]).toEqual(['stdout-path']);
    expect(chosen.props.get('stdout-path')).toBe('"/soc/serial@10000000"');
    const soc = node(root, 'soc');
    expect([...soc.children.keys()].sort()).toEqual(['clint@2000000', 'plic@c000000', 'serial@10000000']);
    expect(root.children.has('poweroff')).toBe(false);
    expect(root.children.has('reboot')).toBe(false);
  });

  it('handles RAM above 4 GiB, other MMU types, rng-seed and extra source counts', () => {
    const { root } = tree({ memSize: 6n * 1024n ** 3n, mmuType: 'riscv,sv39', rngSeed: Uint8Array.of(1, 2, 3, 4), plicSources: 95, model: 'm' });
    expect(node(root, 'memory@80000000').props.get('reg')).toBe('<0x00 0x80000000 0x01 0x80000000>');
    expect(node(root, 'cpus/cpu@0').props.get('mmu-type')).toBe('"riscv,sv39"');
    expect(node(root, 'chosen').props.get('rng-seed')).toBe('<0x1020304>');
    expect(node(root, 'soc/plic@c000000').props.get('riscv,ndev')).toBe('<0x5f>');
    expect(root.props.get('model')).toBe('"m"');
  });

  it('lets callers extend the tree before building', () => {
    const t = virtTree(BASE);
    t.fdt.root.child('soc')!.node('rtc@101000').str('compatible', 'google,goldfish-rtc').u32('interrupt-parent', t.plicPhandle).u32('interrupts', 11);
    const { root } = parseDts(decompile(t.fdt.build()).dts);
    expect(node(root, 'soc/rtc@101000').props.get('interrupts')).toBe('<0x0b>');
  });
});

// ---- Comparison with QEMU 7.2's own tree ----

const hasQemu = spawnSync('qemu-system-riscv64', ['--version']).status === 0;

describe.skipIf(!hasQemu)('compared with qemu-system-riscv64 -M virt', () => {
  /** Nodes QEMU has for devices we do not emulate. */
  const QEMU_ONLY = ['pmu', 'fw-cfg@10100000', 'flash@20000000', 'platform-bus@4000000', 'soc/rtc@101000', 'soc/pci@30000000'];
  /** Properties that differ on purpose: path -> property names. */
  const DIFFERENT: Record<string, string[]> = {
    '': ['model'], // riscv-virtio,qemu vs riscv-virtio,salus
    'chosen': ['rng-seed', 'bootargs', 'linux,initrd-start', 'linux,initrd-end'], // QEMU's is random; ours only when configured
    'soc/plic@c000000': ['riscv,ndev'], // 0x60 on QEMU 7.2, 0x35 (53) here
    'cpus/cpu@0/interrupt-controller': ['#address-cells'], // added by us, keeps dtc quiet
  };

  it('matches node for node and property for property, except the documented differences', () => {
    const qdtb = join(dir, 'qemu.dtb');
    const r = spawnSync('qemu-system-riscv64', ['-M', `virt,dumpdtb=${qdtb}`, '-cpu', 'rv64,h=false', '-m', '128M', '-nographic'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const q = parseDts(decompile(readFileSync(qdtb)).dts).root;
    // Same CPU string and MMU as QEMU's default CPU so those compare equal; the rest is our normal config.
    const isa = node(q, 'cpus/cpu@0').props.get('riscv,isa')!.slice(1, -1);
    const mmu = node(q, 'cpus/cpu@0').props.get('mmu-type')!.slice(1, -1) as VirtDeviceTreeConfig['mmuType'];
    const ours = tree({ isa, mmuType: mmu, bootargs: undefined, initrd: undefined }).root;

    const diffs: string[] = [];
    const compare = (a: DtsNode, b: DtsNode, path: string) => {
      const skip = DIFFERENT[path] ?? [];
      for (const [k, v] of b.props) {
        if (skip.includes(k)) continue;
        if (!a.props.has(k)) diffs.push(`${path}: missing property ${k}`);
        else if (a.props.get(k) !== v) diffs.push(`${path}: ${k} = ${a.props.get(k)} (QEMU ${v})`);
      }
      for (const k of a.props.keys()) if (!b.props.has(k) && !skip.includes(k)) diffs.push(`${path}: extra property ${k}`);
      for (const [name, child] of b.children) {
        const p = path ? `${path}/${name}` : name;
        if (QEMU_ONLY.includes(p)) continue;
        const mine = a.children.get(name);
        if (!mine) diffs.push(`missing node ${p}`);
        else compare(mine, child, p);
      }
      for (const name of a.children.keys()) if (!b.children.has(name)) diffs.push(`extra node ${path ? `${path}/${name}` : name}`);
    };
    compare(ours, q, '');
    expect(diffs).toEqual([]);
  });
});
