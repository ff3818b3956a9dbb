import { useState } from 'react';
import type { CompareMode } from '../state/store';
import { useApp } from './StoreContext';

const TITLES: Record<CompareMode, string> = { base: 'Base model', icl: 'Skill in context', adapter: 'Adapter (skill not in context)' };

export function Compare({ skill }: { skill: string }) {
  const compare = useApp((s) => s.compare);
  const run = useApp((s) => s.runCompare);
  const busy = useApp((s) => s.generating || s.making || s.packStatus !== 'ready');
  const [message, setMessage] = useState('');
  return (
    <section className="compare" aria-label="Compare">
      <h2>Compare three ways</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run(message, skill);
        }}
      >
        <label htmlFor="compare-message">Question to compare</label>
        <input id="compare-message" value={message} onChange={(e) => setMessage(e.target.value)} placeholder="e.g. Branch name for: fix login timeout, ticket AB-12" />
        <button type="submit" disabled={busy || !message.trim()}>
          Compare
        </button>
      </form>
      {compare && (
        <div className="compare-grid">
          {(Object.keys(TITLES) as CompareMode[]).map((mode) => (
            <div key={mode} className="compare-cell" data-testid={`compare-${mode}`}>
              <h3>{TITLES[mode]}</h3>
              <div className="content">{compare.answers[mode]?.text ?? '…'}</div>
              {compare.answers[mode] && (
                <div className="stats">
                  {compare.answers[mode]!.stats.promptTokens} prompt tokens · first token after {Math.round(compare.answers[mode]!.stats.prefillMs)} ms
                </div>
              )}
            </div>
          ))}
        </div>
      )}
    </section>
  );
}
