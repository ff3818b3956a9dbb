import type { BackendPreference } from '../model/env';
import { useApp } from './StoreContext';

const ENGINES: { value: BackendPreference; label: string }[] = [
  { value: 'auto', label: 'Automatic (fastest available)' },
  { value: 'wgsl', label: 'WGSL engine (WebGPU)' },
  { value: 'webgpu', label: 'onnxruntime-web, WebGPU' },
  { value: 'wasm', label: 'onnxruntime-web, WebAssembly' },
];

export function Settings() {
  const settings = useApp((s) => s.settings);
  const update = useApp((s) => s.updateSettings);
  const request = useApp((s) => s.packRequest);
  const loadPack = useApp((s) => s.loadPack);
  const busy = useApp((s) => s.generating || s.packStatus === 'loading');
  return (
    <fieldset className="settings">
      <legend>Generation</legend>
      <label>
        Engine
        <select
          value={request?.preference ?? 'auto'}
          disabled={!request || busy}
          onChange={(e) => request && void loadPack(request.source, e.target.value as BackendPreference)}
        >
          {ENGINES.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Max new tokens
        <input type="number" min={1} max={2048} value={settings.maxNewTokens} onChange={(e) => update({ maxNewTokens: Math.max(1, Number(e.target.value) || 1) })} />
      </label>
      <label>
        Temperature
        <input type="number" min={0} max={2} step={0.1} value={settings.temperature} onChange={(e) => update({ temperature: Math.max(0, Number(e.target.value) || 0) })} />
      </label>
      <label>
        Top-p
        <input type="number" min={0.05} max={1} step={0.05} value={settings.topP} onChange={(e) => update({ topP: Math.min(1, Math.max(0.05, Number(e.target.value) || 1)) })} />
      </label>
    </fieldset>
  );
}
