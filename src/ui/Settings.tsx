import { useApp } from './StoreContext';

export function Settings() {
  const settings = useApp((s) => s.settings);
  const update = useApp((s) => s.updateSettings);
  return (
    <fieldset className="settings">
      <legend>Generation</legend>
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
