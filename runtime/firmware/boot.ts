// Boot images for the built-in firmware: the RISC-V Linux "Image" header (Documentation/riscv/boot-image-header.rst)
// and where the kernel, initrd and device tree go in RAM (the same places QEMU virt uses).

const MiB = 1 << 20;
const IMAGE_MAGIC = 0x5643534952n; // "RISCV", deprecated but still written
const IMAGE_MAGIC2 = 0x05435352; // "RSC\x05"
const HEADER_SIZE = 64;

export interface LinuxImageHeader {
  /** Offset from the start of RAM where the image wants to be loaded (0x200000 on RV64). */
  textOffset: number;
  /** Bytes of memory the image occupies once running (text, data and bss); at least the file size. */
  imageSize: number;
  flags: bigint;
  version: { major: number; minor: number };
}

/** The header of a RISC-V Linux Image, or null if these bytes are not one. */
export function parseLinuxImage(bytes: Uint8Array): LinuxImageHeader | null {
  if (bytes.length < HEADER_SIZE) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic2Ok = dv.getUint32(56, true) === IMAGE_MAGIC2;
  const magicOk = dv.getBigUint64(48, true) === IMAGE_MAGIC;
  if (!magic2Ok && !magicOk) return null;
  const textOffset = dv.getBigUint64(8, true), imageSize = dv.getBigUint64(16, true);
  if (textOffset > BigInt(1 << 30) || imageSize > BigInt(1 << 30)) return null;
  const version = dv.getUint32(32, true);
  return {
    textOffset: Number(textOffset),
    imageSize: Math.max(Number(imageSize), bytes.length),
    flags: dv.getBigUint64(24, true),
    version: { major: version >>> 16, minor: version & 0xffff },
  };
}

export interface BootLayoutInput {
  ramBase: number;
  ramSize: number;
  /** Load offset of the kernel from the start of RAM (Image textOffset; 0x200000 if unknown). */
  kernelOffset?: number;
  /** Bytes of RAM the running kernel needs (Image imageSize, or the file size). */
  kernelSize: number;
  initrdSize?: number;
  /** Upper bound of the device tree size (it is placed before it is built). Default 64 KiB. */
  dtbMaxSize?: number;
}

export interface BootLayout {
  kernel: number;
  initrd?: { start: number; end: number };
  dtb: number;
}

const alignUp = (v: number, a: number) => Math.ceil(v / a) * a;
const alignDown = (v: number, a: number) => Math.floor(v / a) * a;

/**
 * Place the boot images like QEMU virt: kernel at RAM + text offset, the device tree in the last 2 MiB-aligned
 * slot that holds it, and the initrd at min(RAM/2, 128 MiB) past the kernel (or right after the kernel if that
 * is further). Throws RangeError (a user error: RAM too small) when they do not fit.
 */
export function planBootLayout(i: BootLayoutInput): BootLayout {
  const ramEnd = i.ramBase + i.ramSize;
  const kernel = i.ramBase + (i.kernelOffset ?? 2 * MiB);
  const kernelEnd = kernel + i.kernelSize;
  const dtb = alignDown(ramEnd - (i.dtbMaxSize ?? 64 * 1024), 2 * MiB);
  if (dtb < i.ramBase) throw new RangeError('RAM is too small for the device tree');
  if (kernelEnd > dtb) {
    throw new RangeError(`the kernel (0x${i.kernelSize.toString(16)} bytes at 0x${kernel.toString(16)}) does not fit in RAM below the device tree at 0x${dtb.toString(16)}`);
  }
  if (!i.initrdSize) return { kernel, dtb };
  let start = Math.max(kernel + Math.min(i.ramSize / 2, 128 * MiB), alignUp(kernelEnd, 2 * MiB));
  start = alignUp(start, 4096);
  if (start + i.initrdSize > dtb) start = alignDown(dtb - i.initrdSize, 4096); // squeeze it under the device tree
  if (start < alignUp(kernelEnd, 4096)) {
    throw new RangeError(`the initrd (0x${i.initrdSize.toString(16)} bytes) does not fit in RAM between the kernel and the device tree`);
  }
  return { kernel, initrd: { start, end: start + i.initrdSize }, dtb };
}
