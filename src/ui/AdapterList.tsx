import { formatBytes } from './format';
import { useApp } from './StoreContext';

export function AdapterList() {
  const adapters = useApp((s) => s.adapters);
  const slots = useApp((s) => s.pack?.manifest.lora.slots ?? 0);
  const toggle = useApp((s) => s.toggleAdapter);
  const setScale = useApp((s) => s.setAdapterScale);
  const remove = useApp((s) => s.removeAdapter);
  const busy = useApp((s) => s.generating || s.making);
  if (adapters.length === 0) return null;
  const active = adapters.filter((a) => a.active).length;
  return (
    <section className="adapters" aria-label="Adapters">
      <h2>
        Adapters <span className="muted">({active} of {slots} slots active)</span>
      </h2>
      <ul>
        {adapters.map((a) => (
          <li key={a.id} data-testid="adapter">
            <label className="adapter-name">
              <input type="checkbox" checked={a.active} disabled={busy} onChange={() => void toggle(a.id)} />
              {a.name}
            </label>
            <label className="scale">
              Scale {a.scale.toFixed(2)}
              <input type="range" min={0} max={2} step={0.05} value={a.scale} disabled={busy} onChange={(e) => void setScale(a.id, Number(e.target.value))} aria-label={`Scale of ${a.name}`} />
            </label>
            <span className="muted" data-testid="adapter-stats">
              {formatBytes(a.stats.bytes)} · made in {Math.round(a.stats.encodeMs + a.stats.hypernetMs)} ms (encode {Math.round(a.stats.encodeMs)} ms, hypernetwork {Math.round(a.stats.hypernetMs)} ms on {a.stats.device}) · {a.stats.tokens} tokens
              {a.stats.chunks > 1 ? ` in ${a.stats.chunks} chunks` : ''}
            </span>
            <button type="button" onClick={() => void remove(a.id)} disabled={busy} aria-label={`Delete ${a.name}`}>
              Delete
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
