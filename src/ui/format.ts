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
