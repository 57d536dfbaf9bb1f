// NS16550A UART (register set and interrupt behaviour per the National/TI PC16550D datasheet).
// Transmission is instantaneous: a byte written to THR goes straight to the sink, so THR and the transmitter
// are always empty again by the time the guest looks. Received bytes are pushed by the machine (pushInput)
// into a receive FIFO that is larger than the chip's 16 bytes so pasted input is not lost.
import type { Device } from '../bus.js';

// Register offsets (DLAB = 0 unless noted).
const RBR_THR_DLL = 0, IER_DLM = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;

export const IER = { RDI: 0x01, THRI: 0x02, RLSI: 0x04, MSI: 0x08 } as const;
export const LSR_BITS = { DR: 0x01, OE: 0x02, PE: 0x04, FE: 0x08, BI: 0x10, THRE: 0x20, TEMT: 0x40, FIFOE: 0x80 } as const;
/** Interrupt identification values (IIR bits 3..0). */
export const IIR_ID = { NONE: 0x01, RLS: 0x06, RDA: 0x04, TIMEOUT: 0x0c, THRE: 0x02, MODEM: 0x00 } as const;
const IIR_FIFO_BITS = 0xc0;
const FCR_ENABLE = 0x01, FCR_CLEAR_RX = 0x02;
const LCR_DLAB = 0x80;
const MCR_LOOP = 0x10;
const RX_TRIGGER = [1, 4, 8, 14];
/** With no modem attached the lines read as carrier detect, data set ready and clear to send (as QEMU reports). */
const MSR_IDLE = 0xb0;

export interface UartOptions {
  /** Receive FIFO capacity in bytes (at least 16); input beyond it is dropped with an overrun error. Default 4096. */
  rxFifoSize?: number;
}

export class Uart implements Device {
  readonly name = 'uart';
  readonly size = 0x100;
  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private scr = 0;
  private fcr = 0;
  private dll = 0;
  private dlm = 0;
  /** Line status error bits (OE/PE/FE/BI), cleared by reading LSR. */
  private lsrErrors = 0;
  /** Delta bits of MSR (only changed by loopback), cleared by reading MSR. */
  private msrDelta = 0;
  /** THR-empty interrupt condition: set when THR becomes empty or THRI is enabled while it is, cleared by IIR reads and THR writes. */
  private thrIntPending = false;
  private readonly rx: Uint8Array;
  private rxHead = 0;
  private rxCount = 0;
  private irqLevel = false;
  private readonly rxCapacity: number;

  /**
   * @param sink receives every transmitted byte
   * @param irq the interrupt output (PLIC source 10 on virt); called only when the level changes
   */
  constructor(readonly base: number, private sink: (byte: number) => void, public irq: (level: boolean) => void = () => {},
    opts: UartOptions = {}) {
    this.rxCapacity = Math.max(16, Math.floor(opts.rxFifoSize ?? 4096));
    this.rx = new Uint8Array(this.rxCapacity);
  }

  /** Number of received bytes waiting in the FIFO. */
  get rxPending(): number { return this.rxCount; }
  /** Free space in the receive FIFO: the machine can hold back input rather than lose it. */
  get rxSpace(): number { return this.rxCapacity - this.rxCount; }

  /** Queue received bytes; returns how many were accepted (the rest are lost, raising an overrun error). */
  pushInput(bytes: ArrayLike<number>): number {
    let n = 0;
    for (let i = 0; i < bytes.length; i++) {
      if (this.rxCount === this.rxCapacity) { this.lsrErrors |= LSR_BITS.OE; break; }
      this.rx[(this.rxHead + this.rxCount) % this.rxCapacity] = bytes[i] & 0xff;
      this.rxCount++;
      n++;
    }
    this.updateIrq();
    return n;
  }

  private fifoEnabled(): boolean { return (this.fcr & FCR_ENABLE) !== 0; }

  private popRx(): number {
    if (this.rxCount === 0) return 0;
    const b = this.rx[this.rxHead];
    this.rxHead = (this.rxHead + 1) % this.rxCapacity;
    this.rxCount--;
    return b;
  }

  private clearRx(): void { this.rxHead = 0; this.rxCount = 0; }

  /** The highest-priority interrupt currently asserted (IIR bits 3..0). */
  private interruptId(): number {
    if ((this.ier & IER.RLSI) && this.lsrErrors) return IIR_ID.RLS;
    if ((this.ier & IER.RDI) && this.rxCount > 0) {
      // Below the trigger level the chip reports a character timeout after 4 character times; we report it at once.
      if (this.fifoEnabled() && this.rxCount < RX_TRIGGER[this.fcr >>> 6]) return IIR_ID.TIMEOUT;
      return IIR_ID.RDA;
    }
    if ((this.ier & IER.THRI) && this.thrIntPending) return IIR_ID.THRE;
    if ((this.ier & IER.MSI) && (this.msrDelta & 0x0f)) return IIR_ID.MODEM;
    return IIR_ID.NONE;
  }

  private updateIrq(): void {
    const level = this.interruptId() !== IIR_ID.NONE;
    if (level !== this.irqLevel) { this.irqLevel = level; this.irq(level); }
  }

  private msr(): number {
    if (!(this.mcr & MCR_LOOP)) return MSR_IDLE;
    // Loopback: DTR -> DSR, RTS -> CTS, OUT1 -> RI, OUT2 -> DCD.
    const m = this.mcr;
    return ((m & 1) << 5) | ((m & 2) << 3) | ((m & 4) << 4) | ((m & 8) << 4);
  }

  private lsr(): number {
    return (this.rxCount > 0 ? LSR_BITS.DR : 0) | this.lsrErrors | LSR_BITS.THRE | LSR_BITS.TEMT;
  }

  read(offset: number): number {
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    let v = 0;
    switch (offset) {
      case RBR_THR_DLL:
        if (dlab) return this.dll;
        v = this.popRx();
        break;
      case IER_DLM:
        return dlab ? this.dlm : this.ier;
      case IIR_FCR: {
        const id = this.interruptId();
        // Reading IIR while it reports THR empty acknowledges that interrupt.
        if (id === IIR_ID.THRE) this.thrIntPending = false;
        v = id | (this.fifoEnabled() ? IIR_FIFO_BITS : 0);
        break;
      }
      case LCR: return this.lcr;
      case MCR: return this.mcr;
      case LSR:
        v = this.lsr();
        this.lsrErrors = 0;
        break;
      case MSR:
        v = this.msr() | this.msrDelta;
        this.msrDelta = 0;
        break;
      case SCR: return this.scr;
      default: return 0;
    }
    this.updateIrq();
    return v;
  }

  write(offset: number, _width: number, value: number): void {
    value &= 0xff;
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case RBR_THR_DLL:
        if (dlab) { this.dll = value; return; }
        if (this.mcr & MCR_LOOP) this.pushInput([value]);
        else this.sink(value);
        // The write acknowledges a THR-empty interrupt; the byte leaves at once, so THR is empty again.
        this.thrIntPending = true;
        break;
      case IER_DLM: {
        if (dlab) { this.dlm = value; return; }
        const enabledThri = (value & IER.THRI) !== 0 && (this.ier & IER.THRI) === 0;
        this.ier = value & 0x0f;
        // Enabling THRI while THR is empty (it always is) raises the THR-empty interrupt.
        if (enabledThri) this.thrIntPending = true;
        break;
      }
      case IIR_FCR:
        if ((value ^ this.fcr) & FCR_ENABLE) this.clearRx(); // changing the FIFO mode resets the FIFOs
        if (value & FCR_CLEAR_RX) this.clearRx();
        // Transmit FIFO reset has nothing to do: transmission is instantaneous.
        this.fcr = value & 0xc1;
        break;
      case LCR: this.lcr = value; return;
      case MCR: {
        const old = this.msr();
        this.mcr = value & 0x1f;
        const now = this.msr();
        // Delta bits: DCTS, DDSR, trailing edge of RI, DDCD.
        const changed = old ^ now;
        this.msrDelta |= ((changed >>> 4) & 0x0b) | ((old & ~now & 0x40) ? 0x04 : 0);
        break;
      }
      case SCR: this.scr = value; return;
      default: return; // LSR and MSR are read-only
    }
    this.updateIrq();
  }
}
