// Booting Linux on the virt machine: kernel, initrd and device tree in RAM, then firmware (built-in SBI or OpenSBI).
import { Machine, VIRT } from './machine.js';
import { LoadError, isElf, parseElf, readInputFile } from './elf.js';
import { virtTree } from './devicetree.js';
import { parseLinuxImage, planBootLayout } from '../runtime/firmware/boot.js';
import { SbiFirmware, uartConsole, SbiEvent } from '../runtime/firmware/sbi.js';
import { Salus, SALUS_RESERVED } from '../salus/hypervisor.js';
import { Tsm } from '../salus/tsm.js';
import { AttestationKey } from '../salus/attestation.js';
import { createHash } from 'node:crypto';

export const OPENSBI_DEFAULT = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin';
/** What the device tree advertises; the H extension is added by the hypervisor work. */
export const ISA_STRING = 'rv64imafdc_zicsr_zifencei_zihintpause_sstc';
/** The machine's own ISA with the hypervisor extension, as Salus sees it (it gives its host ISA_STRING). */
export const ISA_STRING_H = 'rv64imafdch_zicsr_zifencei_zihintpause_sstc';
const MiB = 1 << 20;

export interface BootOptions {
  kernel: string;
  initrd?: string;
  append: string;
  /** 'builtin', 'opensbi' (Debian's fw_dynamic.bin) or a path to an fw_dynamic firmware binary. */
  bios: string;
  /** 'auto' accepts a Linux Image or an ELF and rejects anything else; 'raw' loads the bytes as they are. */
  kernelFormat?: 'auto' | 'raw';
  /** Called when the guest asks to shut down or reset, or the firmware gives up. */
  onEvent?: (e: SbiEvent) => void;
  /** 'salus': the firmware starts the Salus hypervisor in HS-mode, which runs the kernel as its host in VS-mode. */
  mode?: BootMode;
  /** Called when Salus has to stop (it cannot boot the host, or an internal error). */
  onSalusFatal?: (message: string) => void;
}

export const BOOT_MODES = ['salus', 'bare'] as const;
/**
 * The TSM's attestation key seed. A platform would derive it from its root of trust (DICE CDI); ours is a fixed,
 * public value so that evidence is reproducible. It proves nothing to a real verifier.
 */
const TSM_SEED = createHash('sha256').update('Salus TSM demo attestation key').digest();
export type BootMode = (typeof BOOT_MODES)[number];

/** Kernel bytes placed for loading: where it goes relative to RAM, how much RAM it occupies, entry offset. */
interface KernelImage { bytes: Uint8Array; offset: number; size: number; entryOffset: number }

function kernelImage(path: string, format: 'auto' | 'raw'): KernelImage {
  const bytes = readInputFile(path, 'kernel');
  if (format === 'raw') return { bytes, offset: 2 * MiB, size: bytes.length, entryOffset: 0 };
  const img = parseLinuxImage(bytes);
  if (img) return { bytes, offset: img.textOffset || 2 * MiB, size: img.imageSize, entryOffset: 0 };
  if (isElf(bytes)) {
    // An ELF kernel (vmlinux) is linked at virtual addresses: load its segments contiguously at RAM + 2 MiB.
    const elf = parseElf(bytes, path);
    const lo = Math.min(...elf.segments.map((s) => s.paddr));
    const hi = Math.max(...elf.segments.map((s) => s.paddr + s.memsz));
    if (hi - lo > 1 << 30) throw new LoadError(`kernel ${path}: ELF segments span more than 1 GiB`);
    const flat = new Uint8Array(hi - lo);
    for (const s of elf.segments) flat.set(s.data, s.paddr - lo);
    return { bytes: flat, offset: 2 * MiB, size: flat.length, entryOffset: Number(elf.entry) - lo };
  }
  throw new LoadError(`kernel ${path}: neither a RISC-V Linux Image (no header magic) nor an ELF; ` +
    'use --kernel-format raw to load it as a raw binary');
}

/** Put kernel, initrd and device tree in RAM and start the firmware. Throws LoadError for bad input. */
export function bootLinux(m: Machine, o: BootOptions): { kernel: number; dtb: number; initrd?: { start: number; end: number }; salus?: Salus; tsm?: Tsm } {
  const salusMode = o.mode === 'salus';
  if (salusMode && !m.hart.hext) throw new LoadError('--mode salus needs the hypervisor extension (--isa rv64gch)');
  if (salusMode && o.bios !== 'builtin') throw new LoadError('--mode salus runs on the built-in firmware (--bios builtin)');
  const k = kernelImage(o.kernel, o.kernelFormat ?? 'auto');
  const initrd = o.initrd ? readInputFile(o.initrd, 'initrd') : undefined;
  const ramSize = m.opts.memBytes;
  // Under Salus the host gets RAM below Salus's own memory at the top.
  const hostRam = salusMode ? ramSize - SALUS_RESERVED : ramSize;
  let layout;
  try {
    if (hostRam < 16 << 20) throw new RangeError('RAM is too small for Salus and a host');
    layout = planBootLayout({ ramBase: VIRT.ramBase, ramSize: hostRam, kernelOffset: k.offset, kernelSize: k.size, initrdSize: initrd?.length });
  } catch (e) {
    throw new LoadError(`${(e as Error).message} (--mem ${ramSize / MiB}M)`);
  }
  m.bus.writeBytes(layout.kernel, k.bytes);
  if (initrd && layout.initrd) m.bus.writeBytes(layout.initrd.start, initrd);
  const entry = layout.kernel + k.entryOffset;
  const tree = virtTree({
    memBase: VIRT.ramBase, memSize: ramSize, harts: 1, isa: salusMode ? ISA_STRING_H : ISA_STRING, mmuType: 'riscv,sv57',
    bootargs: o.append, initrd: layout.initrd, stdoutPath: '/soc/serial@10000000',
    virtio: VIRT.virtioSlots, hasTestFinisher: true,
  });
  // Salus learns where the loader put the host kernel from /chosen, and finds its boot tree at its memory's start.
  if (salusMode) tree.fdt.root.child('chosen')!.u64('salus,kernel', layout.kernel, layout.kernel + k.size, entry);
  const dtb = tree.fdt.build();
  const dtbAddr = salusMode ? VIRT.ramBase + ramSize - SALUS_RESERVED : layout.dtb;
  m.bus.writeBytes(dtbAddr, dtb);
  const onEvent = o.onEvent ?? (() => {});
  if (o.bios !== 'builtin') {
    startOpenSbi(m, o.bios === 'opensbi' ? OPENSBI_DEFAULT : o.bios, entry, layout.dtb);
    return { kernel: layout.kernel, dtb: layout.dtb, initrd: layout.initrd };
  }
  const fw = new SbiFirmware([m.hart], { console: uartConsole(m.bus, VIRT.uart), onEvent });
  if (!salusMode) {
    fw.boot(BigInt(entry), BigInt(dtbAddr));
    return { kernel: layout.kernel, dtb: dtbAddr, initrd: layout.initrd };
  }
  fw.boot(BigInt(dtbAddr), BigInt(dtbAddr));
  const salus = new Salus(m.hart, { onFatal: o.onSalusFatal ?? ((msg) => { throw new Error(msg); }) });
  const tsm = new Tsm(salus, AttestationKey.fromSeed(TSM_SEED));
  salus.start();
  return { kernel: layout.kernel, dtb: dtbAddr, initrd: layout.initrd, salus, tsm };
}

/**
 * OpenSBI's fw_dynamic: the firmware at the start of RAM, entered in M-mode with a0 = hart id, a1 = device tree,
 * a2 = struct fw_dynamic_info (magic, version 2, next_addr, next_mode S, options, boot_hart).
 */
function startOpenSbi(m: Machine, path: string, next: number, dtb: number): void {
  const fw = readInputFile(path, 'firmware');
  if (isElf(fw)) throw new LoadError(`firmware ${path}: give the raw fw_dynamic.bin, not the ELF`);
  if (fw.length > 2 * MiB) throw new LoadError(`firmware ${path}: ${fw.length} bytes does not fit below the kernel at RAM + 2 MiB`);
  m.bus.writeBytes(VIRT.ramBase, fw);
  const info = new DataView(new ArrayBuffer(48));
  [0x4942534fn, 2n, BigInt(next), 1n, 0n, 0n].forEach((v, i) => info.setBigUint64(i * 8, v, true));
  const infoAddr = dtb - 4096;
  m.bus.writeBytes(infoAddr, new Uint8Array(info.buffer));
  const h = m.hart;
  h.pc = BigInt(VIRT.ramBase);
  h.setX(10, 0n);
  h.setX(11, BigInt(dtb));
  h.setX(12, BigInt(infoAddr));
}
