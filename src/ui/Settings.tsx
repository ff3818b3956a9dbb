import { useState } from 'react';
import type { BackendPreference } from '../model/env';
import { cachedModels, clearCachedModels, type CachedModels } from '../state/pack-cache';
import { effectiveMaxNewTokens, maxNewTokensFor } from '../state/store';
import { formatBytes } from './format';
import { useApp } from './StoreContext';

const ENGINES: { value: BackendPreference; label: string }[] = [
  { value: 'auto', label: 'Automatic (fastest available)' },
  { value: 'wgsl', label: 'WGSL engine (WebGPU)' },
  { value: 'webgpu', label: 'onnxruntime-web, WebGPU' },
  { value: 'wasm', label: 'onnxruntime-web, WebAssembly' },
];

/** The model files kept in the browser's cache: their size, and a way to delete them (asked first). */
function ModelCache() {
  const [asking, setAsking] = useState<CachedModels | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [working, setWorking] = useState(false);
  const ask = async () => {
    setWorking(true);
    const found = await cachedModels();
    setWorking(false);
    if (!found) setNote('This browser keeps no model files for the page (no Cache API, or storage is off).');
    else if (found.files === 0) setNote('No model files are cached.');
    else {
      setNote(null);
      setAsking(found);
    }
  };
  const clear = async () => {
    if (!asking) return;
    setWorking(true);
    try {
      await clearCachedModels();
      setNote(`Deleted ${asking.files} cached model files (${formatBytes(asking.bytes)}). The model loaded now keeps running; the next visit downloads it again.`);
    } catch (e) {
      setNote(`The cached model files could not be deleted: ${(e as Error).message}`);
    } finally {
      setAsking(null);
      setWorking(false);
    }
  };
  return (
    <div className="model-cache">
      {asking ? (
        <div role="group" aria-label="Delete cached models">
          <p>
            Delete {asking.files} cached model files ({formatBytes(asking.bytes)})? The next visit downloads them again.
          </p>
          <button type="button" onClick={() => void clear()} disabled={working}>
            Delete
          </button>{' '}
          <button type="button" onClick={() => setAsking(null)} disabled={working}>
            Keep
          </button>
        </div>
      ) : (
        <button type="button" onClick={() => void ask()} disabled={working}>
          Delete cached models…
        </button>
      )}
      {note && (
        <p className="hint" role="status" data-testid="cache-note">
          {note}
        </p>
      )}
    </div>
  );
}

export function Settings() {
  const settings = useApp((s) => s.settings);
  const update = useApp((s) => s.updateSettings);
  const request = useApp((s) => s.packRequest);
  const switchEngine = useApp((s) => s.switchEngine);
  const busy = useApp((s) => s.generating || s.making || s.packStatus === 'loading');
  const maxNewTokens = useApp(effectiveMaxNewTokens);
  const packDefault = useApp((s) => maxNewTokensFor(s.pack?.manifest.generation.contextLength ?? 2048));
  return (
    <div className="side">
      <fieldset className="settings">
        <legend>Generation</legend>
        <label>
          Engine
          <select value={request?.preference ?? 'auto'} disabled={!request || busy} onChange={(e) => void switchEngine(e.target.value as BackendPreference)}>
            {ENGINES.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <span className="hint">Changing it loads the model again; the chat and adapters stay.</span>
        <label>
          System prompt
          <textarea
            rows={3}
            value={settings.systemPrompt}
            placeholder="Optional: sent first in every chat"
            onChange={(e) => update({ systemPrompt: e.target.value })}
          />
        </label>
        <label>
          Max new tokens
          <input type="number" min={1} max={4096} value={maxNewTokens} onChange={(e) => update({ maxNewTokens: Math.min(4096, Math.max(1, Number(e.target.value) || 1)) })} />
        </label>
        <span className="hint" data-testid="max-tokens-hint">
          {settings.maxNewTokens === null ? (
            'The pack’s default: a quarter of its context, at most 512.'
          ) : (
            <button type="button" className="link" onClick={() => update({ maxNewTokens: null })}>
              Back to the pack’s default ({packDefault})
            </button>
          )}
        </span>
        <label>
          Temperature
          <input type="number" min={0} max={2} step={0.1} value={settings.temperature} onChange={(e) => update({ temperature: Math.min(2, Math.max(0, Number(e.target.value) || 0)) })} />
        </label>
        <label>
          Top-p
          <input type="number" min={0.05} max={1} step={0.05} value={settings.topP} onChange={(e) => update({ topP: Math.min(1, Math.max(0.05, Number(e.target.value) || 1)) })} />
        </label>
      </fieldset>
      <fieldset className="settings">
        <legend>Storage</legend>
        <ModelCache />
      </fieldset>
    </div>
  );
}
