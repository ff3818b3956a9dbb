/** Next-token choice: greedy at temperature 0, else temperature + nucleus (top-p) sampling. */

export interface SamplingParams {
  temperature: number;
  topP: number;
}

/** Small seeded PRNG (mulberry32) so a seed reproduces a sampled answer. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

export function sampleToken(logits: ArrayLike<number>, params: SamplingParams, random: () => number): number {
  if (params.temperature <= 0) return argmax(logits);
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[i]);
  const probs = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    probs[i] = Math.exp((logits[i] - max) / params.temperature);
    sum += probs[i];
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => probs[y] - probs[x]);
  // Keep the smallest prefix whose mass reaches top-p (at least one token).
  const kept: number[] = [];
  let mass = 0;
  for (const i of order) {
    if (kept.length > 0 && mass >= params.topP * sum) break;
    kept.push(i);
    mass += probs[i];
  }
  let r = random() * mass;
  for (const i of kept) {
    r -= probs[i];
    if (r <= 0) return i;
  }
  return kept[kept.length - 1];
}
