// The guest console on the terminal: stdin feeds the UART (raw mode on a TTY), Ctrl-A X quits as in QEMU.
import type { Machine } from './machine.js';

const CTRL_A = 0x01;

export class Console {
  private escape = false;
  private readonly onData = (chunk: Buffer) => this.input(chunk);
  private rawSet = false;

  /** exitCode: the status Ctrl-A X exits with. */
  constructor(private readonly m: Machine, private readonly quitCode = 0) {}

  start(): void {
    const stdin = process.stdin;
    if (stdin.isTTY) { stdin.setRawMode(true); this.rawSet = true; }
    stdin.on('data', this.onData);
    stdin.resume();
  }

  stop(): void {
    const stdin = process.stdin;
    stdin.off('data', this.onData);
    if (this.rawSet) stdin.setRawMode(false);
    stdin.pause();
  }

  /** Bytes typed or piped in: Ctrl-A X quits, Ctrl-A A sends a Ctrl-A, anything else goes to the guest. */
  input(bytes: Uint8Array): void {
    const out: number[] = [];
    for (const b of bytes) {
      if (this.escape) {
        this.escape = false;
        if (b === 0x78 || b === 0x58) { this.m.finish(this.quitCode); process.stderr.write('\r\nsalus: terminated (Ctrl-A X)\r\n'); return; }
        if (b === CTRL_A || b === 0x61) out.push(CTRL_A);
        continue;
      }
      if (b === CTRL_A && process.stdin.isTTY) { this.escape = true; continue; }
      out.push(b);
    }
    if (out.length) this.m.uart.pushInput(out);
  }
}
