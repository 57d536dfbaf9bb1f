// One benchmark measurement in a fresh process (spawned by src/bench.ts): node dist/bench/worker.js ELF ENGINE.
// Prints one JSON line: the RunSample (instructions, seconds in Machine.run, calibration, peak RSS, guest output).
import { workerMain } from '../src/bench.js';
import type { EngineName } from '../src/machine.js';

const [elf, engine] = process.argv.slice(2);
if (!elf || (engine !== 'interp' && engine !== 'jit')) {
  process.stderr.write('usage: node dist/bench/worker.js ELF interp|jit\n');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(workerMain(elf, engine as EngineName))}\n`);
