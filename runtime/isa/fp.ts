// F and D extensions (filled in below once the FPU lands).
import { InsnDef } from './types.js';
export const fp: InsnDef[] = [];
