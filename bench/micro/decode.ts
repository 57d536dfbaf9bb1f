// Decoder.decode on the instruction mix of a real program: every instruction of workloads/bench/bin/intmix.elf's
// code segment (compressed and 32-bit, as the compiler emitted them), decoded in order.
import Benchmark from 'benchmark';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Decoder } from '../../runtime/decoder.js';
import { allDefs, compileForInterpreter } from '../../runtime/isa/index.js';
import { parseElf } from '../../src/elf.js';
import { REPO_ROOT } from '../../src/bench.js';

const elf = path.join(REPO_ROOT, 'workloads', 'bench', 'bin', 'intmix.elf');
const text = parseElf(readFileSync(elf), elf).segments[0].data;
const words: number[] = [];
for (let at = 0; at + 2 <= text.length;) {
  const lo = text[at] | (text[at + 1] << 8);
  if ((lo & 3) !== 3) { words.push(lo); at += 2; continue; }
  if (at + 4 > text.length) break;
  words.push((lo | (text[at + 2] << 16) | (text[at + 3] << 24)) >>> 0);
  at += 4;
}
const mix = Int32Array.from(words);
const compressed = words.filter((w) => (w & 3) !== 3).length;
const decoder = new Decoder(allDefs, compileForInterpreter);

let sink = 0;
function decodeAll(): void {
  for (let i = 0; i < mix.length; i++) sink += decoder.decode(mix[i]).len;
}

const results: string[] = [];
new Benchmark.Suite('decode')
  .add(`decode (${mix.length} instructions, ${compressed} compressed)`, decodeAll)
  .on('cycle', (e: Benchmark.Event) => {
    const t = e.target as unknown as Benchmark;
    results.push(`${String(t.name).padEnd(48)} ${((t.hz ?? 0) * mix.length / 1e6).toFixed(2).padStart(8)} M decodes/s  ±${(t.stats?.rme ?? 0).toFixed(1)}%`);
  })
  .on('complete', () => console.log(results.join('\n') + (sink === -1 ? '!' : '')))
  .run();
