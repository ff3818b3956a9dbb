import { useState } from 'react';
import type { CompareAnswer, CompareMode } from '../state/store';
import { liveLabel, stopReasonLabel, tokensPerSecond } from './format';
import { useApp } from './StoreContext';

const TITLES: Record<CompareMode, string> = { base: 'Base model', icl: 'Skill in context', adapter: 'Adapter (skill not in context)' };
const TEXT_BOX = 'text-box';

function Cell({ mode, answer, running, limit }: { mode: CompareMode; answer: CompareAnswer | undefined; running: boolean; limit: number }) {
  return (
    <div className="compare-cell" data-testid={`compare-${mode}`} aria-busy={running}>
      <h3>{TITLES[mode]}</h3>
      {answer?.skipped ? (
        <div className="content skipped" data-testid="compare-skipped">
          {answer.skipped}
        </div>
      ) : (
        <div className="content">{answer?.text || (running ? '…' : answer ? '' : 'Waiting for its turn…')}</div>
      )}
      {answer?.live && !answer.stats && (
        <div className="live" aria-hidden="true">
          {liveLabel(answer.live)}
        </div>
      )}
      {answer?.stats && (
        <div className="stats">
          {answer.stats.promptTokens} prompt tokens · first token after {Math.round(answer.stats.prefillMs)} ms · {answer.stats.generatedTokens} tokens,{' '}
          {tokensPerSecond(answer.stats.generatedTokens, answer.stats.decodeMs)} tok/s · {stopReasonLabel(answer.stats.stopReason, answer.stats.generatedTokens, limit)}
        </div>
      )}
    </div>
  );
}

export function Compare({ skill }: { skill: string }) {
  const compare = useApp((s) => s.compare);
  const run = useApp((s) => s.runCompare);
  const stop = useApp((s) => s.stop);
  const generating = useApp((s) => s.generating);
  const busy = useApp((s) => s.generating || s.making || s.packStatus !== 'ready');
  const usable = useApp((s) => s.adapters).filter((a) => !a.mismatch);
  const [message, setMessage] = useState('');
  const [picked, setPicked] = useState<string | null>(null);
  // The pick, while it exists; else the newest adapter switched on, the newest adapter, or the text box.
  const newest = [...usable].reverse();
  const source = usable.some((a) => a.id === picked) || picked === TEXT_BOX ? picked! : (newest.find((a) => a.active) ?? newest[0])?.id ?? TEXT_BOX;
  const running = compare?.running ?? null;
  return (
    <section className="compare" aria-label="Compare">
      <h2>Compare three ways</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run(message, source === TEXT_BOX ? { skillText: skill } : { adapterId: source });
        }}
      >
        <div className="compare-source">
          <label htmlFor="compare-source">Skill to compare</label>
          <select id="compare-source" value={source} onChange={(e) => setPicked(e.target.value)} disabled={busy}>
            {newest.map((a) => (
              <option key={a.id} value={a.id}>
                adapter “{a.name}”{a.scale === 1 ? '' : ` ×${a.scale.toFixed(2)}`} and its skill text
              </option>
            ))}
            <option value={TEXT_BOX}>the skill text box (no adapter)</option>
          </select>
        </div>
        <div className="compare-ask">
          <label htmlFor="compare-message">Question to compare</label>
          <input id="compare-message" value={message} onChange={(e) => setMessage(e.target.value)} placeholder="e.g. Branch name for: fix login timeout, ticket AB-12" />
          {running ? (
            <button type="button" onClick={stop} title="Stop (Esc)">
              Stop
            </button>
          ) : (
            <button type="submit" disabled={busy || !message.trim()}>
              Compare
            </button>
          )}
        </div>
      </form>
      <p className="hint">
        The skill in context and the adapter come from the same skill: {source === TEXT_BOX ? 'the text box above, which has no adapter yet' : 'the adapter’s own skill text'}.
        {generating && !running ? ' Waiting for the chat answer to finish.' : ''}
      </p>
      {compare && (
        <>
          <p className="muted" data-testid="compare-skill">
            “{compare.message}” with {compare.skillName === null ? 'the skill text box' : `the skill of “${compare.skillName}”`}
          </p>
          <div className="compare-grid">
            {(Object.keys(TITLES) as CompareMode[]).map((mode) => (
              <Cell key={mode} mode={mode} answer={compare.answers[mode]} running={running === mode} limit={compare.maxNewTokens} />
            ))}
          </div>
        </>
      )}
    </section>
  );
}
