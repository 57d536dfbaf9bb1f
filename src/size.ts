// Parse sizes like 128M, 1G, 65536.
export function parseSize(text: string, what: string): number {
  const m = /^(\d+)([KMG]i?B?)?$/i.exec(text.trim());
  if (!m) throw new Error(`${what}: '${text}' is not a size (use e.g. 128M or 1G)`);
  const unit = (m[2] ?? '').charAt(0).toUpperCase();
  const mult = unit === 'K' ? 1024 : unit === 'M' ? 1 << 20 : unit === 'G' ? 1 << 30 : 1;
  return Number(m[1]) * mult;
}
