import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { ChatTurn } from '../state/store';
import { adaptersLabel, liveLabel, stopReasonLabel, tokensPerSecond } from './format';
import { useApp } from './StoreContext';

/** Copy text to the clipboard; says so, or says how to copy by hand where the browser refuses. */
function CopyButton({ text }: { text: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const t = setTimeout(() => setState('idle'), 2000);
    return () => clearTimeout(t);
  }, [state]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
  };
  return (
    <>
      <button type="button" className="small" onClick={() => void copy()} disabled={!text} aria-label="Copy answer">
        {state === 'copied' ? 'Copied' : 'Copy'}
      </button>
      {state === 'failed' && (
        <span className="muted" role="status">
          The browser refused the clipboard: select the text and copy it.
        </span>
      )}
    </>
  );
}

function TurnItem({ t, last }: { t: ChatTurn; last: boolean }) {
  const generating = useApp((s) => s.generating);
  const making = useApp((s) => s.making);
  const regenerate = useApp((s) => s.regenerate);
  const writing = generating && last && t.role === 'assistant';
  return (
    <li className={`turn ${t.role}`} data-testid={`turn-${t.role}`}>
      <span className="role">{t.role === 'user' ? 'You' : 'Model'}</span>
      {t.adapters && (
        <span className="turn-adapters" data-testid="turn-adapters">
          {adaptersLabel(t.adapters)}
        </span>
      )}
      {/* Text only, never HTML: skills and answers are untrusted. */}
      <div className="content">{t.content || (writing ? '…' : '')}</div>
      {t.live && writing && (
        <div className="live" data-testid="turn-live" aria-hidden="true">
          {liveLabel(t.live)}
        </div>
      )}
      {t.stats && (
        <div className="stats" data-testid="turn-stats">
          {t.stats.generatedTokens} tokens · {tokensPerSecond(t.stats.generatedTokens, t.stats.decodeMs)} tok/s · first token after{' '}
          {Math.round(t.stats.prefillMs)} ms · {stopReasonLabel(t.stats.stopReason, t.stats.generatedTokens, t.maxNewTokens)}
        </div>
      )}
      {t.role === 'assistant' && !writing && (
        <div className="turn-actions">
          <CopyButton text={t.content} />
          {last && (
            <button type="button" className="small" onClick={() => void regenerate()} disabled={generating || making} title="Ask again for this answer">
              Regenerate
            </button>
          )}
        </div>
      )}
    </li>
  );
}

export function Chat() {
  const turns = useApp((s) => s.turns);
  const generating = useApp((s) => s.generating);
  const making = useApp((s) => s.making);
  const ready = useApp((s) => s.packStatus === 'ready');
  const notice = useApp((s) => s.notice);
  const historyNote = useApp((s) => s.historyNote);
  const cleared = useApp((s) => s.clearedTurns);
  const send = useApp((s) => s.send);
  const stop = useApp((s) => s.stop);
  const clearChat = useApp((s) => s.clearChat);
  const undoClear = useApp((s) => s.undoClear);
  const [draft, setDraft] = useState('');
  const endRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    endRef.current?.scrollIntoView?.({ block: 'end' });
  }, [turns]);

  useEffect(() => {
    // Esc stops the answer (chat or Compare) wherever the focus is; always listening, so an Esc pressed right after
    // Send is not lost before a re-render (stop() does nothing when no answer runs).
    const onEsc = (e: globalThis.KeyboardEvent) => {
      if (e.key === 'Escape') stop();
    };
    window.addEventListener('keydown', onEsc);
    return () => window.removeEventListener('keydown', onEsc);
  }, [stop]);

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const text = draft;
    // While an answer is being written or an adapter made the store refuses the message and says so; the draft stays.
    if (text.trim() && !generating && !making) setDraft('');
    void send(text);
  };
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey) submit(e);
  };

  return (
    <section className="chat" aria-label="Chat">
      <ol className="turns" aria-live="polite">
        {turns.map((t, i) => (
          <TurnItem key={t.id} t={t} last={i === turns.length - 1} />
        ))}
      </ol>
      <div ref={endRef} />
      {cleared && (
        <p className="notice" role="status" data-testid="chat-cleared">
          Chat cleared ({cleared.length} messages).{' '}
          <button type="button" className="small" onClick={undoClear} disabled={generating}>
            Undo
          </button>
        </p>
      )}
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {historyNote && (
        <p className="notice" role="status" data-testid="history-note">
          {historyNote}
        </p>
      )}
      <form className="composer" onSubmit={submit}>
        <label htmlFor="message" className="visually-hidden">
          Message
        </label>
        <textarea
          id="message"
          value={draft}
          placeholder={ready ? 'Message the model (Enter sends, Shift+Enter new line, Esc stops)' : 'Waiting for the model pack…'}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={onKey}
          rows={2}
        />
        <div className="composer-buttons">
          {generating ? (
            <button type="button" onClick={stop} title="Stop the answer (Esc)">
              Stop
            </button>
          ) : (
            <button type="submit" disabled={!ready}>
              Send
            </button>
          )}
          <button type="button" onClick={clearChat} disabled={generating || turns.length === 0}>
            Clear
          </button>
        </div>
      </form>
    </section>
  );
}
