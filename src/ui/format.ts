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

/** A finished answer's stop reason in words; `limit` is the Max new tokens it was asked with. */
export function stopReasonLabel(reason: string, generatedTokens: number, limit?: number): string {
  switch (reason) {
    case 'eos':
      return 'finished';
    case 'stopped':
      return 'stopped by you';
    case 'line-end':
      return 'ended with its first line';
    case 'context-full':
      return "cut: the model's context is full";
    case 'max-tokens':
      // The loop also ends at the context's end with this reason: fewer tokens than the setting means the context cut it.
      if (limit !== undefined && generatedTokens < limit) return "cut: the model's context is full";
      return `cut at the ${generatedTokens}-token limit (Settings: Max new tokens)`;
    default:
      return reason;
  }
}

/** Decode speed: tokens after the first over the time since the first (the first waits for the prompt). */
/** The line under an answer while it is written: tokens so far and their rate. */
export function liveLabel(live: { tokens: number; ms: number }): string {
  return `${live.tokens} tokens · ${tokensPerSecond(live.tokens, live.ms)} tok/s`;
}

export function tokensPerSecond(tokens: number, ms: number): string {
  return ms > 0 && tokens > 1 ? ((tokens - 1) / (ms / 1000)).toFixed(1) : '–';
}

/** A time in words, rounded for an estimate: "40 s", "6 min", "1 h 10 min". */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** How long `bytes` take at `mbps` megabits per second. */
export function downloadSeconds(bytes: number, mbps: number): number {
  return (bytes * 8) / (mbps * 1e6);
}
