// NS16550A UART: transmit to a sink; receive is added with the console.
import type { Device } from '../bus.js';

const LSR_THRE = 0x20, LSR_TEMT = 0x40;

export class Uart implements Device {
  readonly name = 'uart';
  readonly size = 0x100;
  private regs = new Uint8Array(8);

  constructor(readonly base: number, private sink: (byte: number) => void) {}

  read(offset: number): number {
    const dlab = (this.regs[3] & 0x80) !== 0;
    switch (offset) {
      case 0: return dlab ? this.regs[0] : 0;
      case 2: return 0xc1; // FIFOs enabled, no interrupt pending
      case 5: return LSR_THRE | LSR_TEMT;
      default: return offset < 8 ? this.regs[offset] : 0;
    }
  }

  write(offset: number, _width: number, value: number): void {
    const dlab = (this.regs[3] & 0x80) !== 0;
    if (offset === 0 && !dlab) { this.sink(value & 0xff); return; }
    if (offset < 8 && offset !== 2 && offset !== 5) this.regs[offset] = value;
  }
}
