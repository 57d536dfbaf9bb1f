// SiFive test finisher: 0x5555 passes, (code << 16) | 0x3333 fails with code, 0x7777 resets.
import type { Device } from '../bus.js';

export type FinisherEvent = { kind: 'exit'; code: number } | { kind: 'reset' };

export class Finisher implements Device {
  readonly name = 'test-finisher';
  readonly size = 0x1000;

  constructor(readonly base: number, private onEvent: (e: FinisherEvent) => void) {}

  read(): number { return 0; }

  write(offset: number, _width: number, value: number): void {
    if (offset !== 0) return;
    const status = value & 0xffff;
    if (status === 0x5555) this.onEvent({ kind: 'exit', code: 0 });
    else if (status === 0x3333) this.onEvent({ kind: 'exit', code: (value >>> 16) & 0xffff });
    else if (status === 0x7777) this.onEvent({ kind: 'reset' });
  }
}
