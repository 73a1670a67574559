/** Syscall numbers whose bits are set in a drained bitmap (little-endian u64 words, as the BPF map stores them). */
export function bitmapNumbers(bitmap: Uint8Array): number[] {
  const out: number[] = [];
  for (let byte = 0; byte < bitmap.length; byte++) {
    const bits = bitmap[byte]!;
    if (bits === 0) continue;
    for (let bit = 0; bit < 8; bit++) {
      if (bits & (1 << bit)) out.push(byte * 8 + bit);
    }
  }
  return out;
}
