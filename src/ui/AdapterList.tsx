import { useEffect, type KeyboardEvent } from 'react';
import { searchAdapters } from '../adapters/persistence';
import type { AdapterEntry } from '../state/store';
import { downloadFile } from './download';
import { formatBytes } from './format';
import { useApp } from './StoreContext';

function Provenance({ a }: { a: AdapterEntry }) {
  if (a.importedFrom) return <>{formatBytes(a.stats.bytes)} · imported from {a.importedFrom}</>;
  return (
    <>
      {formatBytes(a.stats.bytes)} · made in {Math.round(a.stats.encodeMs + a.stats.hypernetMs)} ms (encode {Math.round(a.stats.encodeMs)} ms, hypernetwork {Math.round(a.stats.hypernetMs)} ms on {a.stats.device}) · {a.stats.tokens} tokens
      {a.stats.chunks > 1 ? ` in ${a.stats.chunks} chunks` : ''}
    </>
  );
}

function AdapterItem({ a, busy }: { a: AdapterEntry; busy: boolean }) {
  const toggle = useApp((s) => s.toggleAdapter);
  const setScale = useApp((s) => s.setAdapterScale);
  const remove = useApp((s) => s.removeAdapter);
  const rename = useApp((s) => s.renameAdapter);
  const exportAdapter = useApp((s) => s.exportAdapter);
  const packId = useApp((s) => s.pack?.manifest.id);
  const commitName = (input: HTMLInputElement) => void rename(a.id, input.value);
  const onNameKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter') commitName(e.currentTarget);
    if (e.key === 'Escape') e.currentTarget.value = a.name;
  };
  return (
    <li data-testid="adapter" className={a.mismatch ? 'other-pack' : undefined}>
      <input type="checkbox" checked={a.active && !a.mismatch} disabled={busy} onChange={() => void toggle(a.id)} aria-label={`Use ${a.name}`} />
      {/* Keyed by the saved name, so a rename from elsewhere (or a refused empty name) resets the field. */}
      <input key={a.name} className="adapter-name" defaultValue={a.name} aria-label={`Name of ${a.name}`} onBlur={(e) => commitName(e.currentTarget)} onKeyDown={onNameKey} />
      {a.mismatch ? (
        <span className="mismatch" title={a.mismatch}>
          made for {a.packId === packId ? 'other weights' : `pack ${a.packId}`}
        </span>
      ) : (
        <label className="scale">
          Scale {a.scale.toFixed(2)}
          <input type="range" min={0} max={2} step={0.05} value={a.scale} disabled={busy} onChange={(e) => void setScale(a.id, Number(e.target.value))} aria-label={`Scale of ${a.name}`} />
        </label>
      )}
      <span className="muted" data-testid="adapter-stats">
        <Provenance a={a} />
      </span>
      <span className="adapter-actions">
        <button type="button" onClick={() => exportAdapter(a.id, 'peft', downloadFile)} disabled={!!a.mismatch} aria-label={`Export PEFT of ${a.name}`} title="adapter_config.json + adapter_model.safetensors, in a zip">
          Export PEFT
        </button>
        <button type="button" onClick={() => exportAdapter(a.id, 'gguf', downloadFile)} disabled={!!a.mismatch} aria-label={`Export GGUF of ${a.name}`} title="llama.cpp LoRA adapter (--lora)">
          Export GGUF
        </button>
        <button type="button" onClick={() => void remove(a.id)} disabled={busy} aria-label={`Delete ${a.name}`}>
          Delete
        </button>
      </span>
    </li>
  );
}

export function AdapterList() {
  const adapters = useApp((s) => s.adapters);
  const query = useApp((s) => s.adapterQuery);
  const note = useApp((s) => s.libraryNote);
  const slots = useApp((s) => s.pack?.manifest.lora.slots ?? 0);
  const ready = useApp((s) => s.packStatus === 'ready');
  const busy = useApp((s) => s.generating || s.making);
  const setQuery = useApp((s) => s.setAdapterQuery);
  const importAdapter = useApp((s) => s.importAdapter);
  const saving = useApp((s) => s.pendingWrites > 0);
  useEffect(() => {
    if (!saving) return;
    // Closing or reloading the page before IndexedDB commits would lose the change: the browser asks first.
    const hold = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', hold);
    return () => window.removeEventListener('beforeunload', hold);
  }, [saving]);
  if (!ready && adapters.length === 0) return null;
  const active = adapters.filter((a) => a.active && !a.mismatch).length;
  const shown = searchAdapters(adapters, query);
  return (
    <section className="adapters" aria-label="Adapters">
      <h2>
        Adapters <span className="muted">({active} of {slots} slots active)</span>
        <span className="muted" data-testid="library-saved" data-saved={saving ? 'no' : 'yes'} aria-live="polite">
          {saving ? ' Saving…' : ''}
        </span>
      </h2>
      <div className="library-actions">
        {adapters.length > 1 && (
          <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="Search by name or skill text" aria-label="Search adapters" />
        )}
        <label className="file-button">
          Import PEFT…
          <input
            type="file"
            multiple
            accept=".zip,.json,.safetensors"
            disabled={!ready}
            onChange={(e) => {
              const files = [...(e.target.files ?? [])];
              e.target.value = ''; // choosing the same file again must fire onChange again
              void importAdapter(files);
            }}
          />
        </label>
      </div>
      {note && (
        <p className="notice" role="status" data-testid="library-note">
          {note}
        </p>
      )}
      <ul>
        {shown.map((a) => (
          <AdapterItem key={a.id} a={a} busy={busy} />
        ))}
      </ul>
      {adapters.length > 0 && shown.length === 0 && <p className="muted">No adapter matches “{query}”.</p>}
    </section>
  );
}
