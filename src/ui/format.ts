import type { HypernetSummary } from '../model/hypernet';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/** What made an answer: the adapters that were on (scale shown when it is not 1), or the base model alone. */
export function adaptersLabel(adapters: readonly { name: string; scale: number }[]): string {
  if (adapters.length === 0) return 'base model, no adapter';
  return `with ${adapters.map((a) => (a.scale === 1 ? a.name : `${a.name} ×${a.scale.toFixed(2)}`)).join(', ')}`;
}

const DTYPE_NAMES: Record<string, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

/** One line for the user: what the pack's hypernetwork is, so its adapters are judged for what they are. */
export function describeHypernet(s: HypernetSummary): string {
  const stored = s.storedAs.map((d) => DTYPE_NAMES[d] ?? d).join(' and ');
  const seed = s.seed === undefined ? '' : `, seed ${s.seed}`;
  if (s.origin === 'trained') return `Hypernetwork: ${s.steps} training steps${seed}, ${stored} weights.`;
  if (s.origin === 'random') return `Hypernetwork: random weights (a test pack${seed}); its adapters carry no skill.`;
  return `Hypernetwork: ${stored} weights, no training record in the file.`;
}
