import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { adaptersLabel } from './format';
import { useApp } from './StoreContext';

export function Chat() {
  const turns = useApp((s) => s.turns);
  const generating = useApp((s) => s.generating);
  const ready = useApp((s) => s.packStatus === 'ready');
  const notice = useApp((s) => s.notice);
  const send = useApp((s) => s.send);
  const stop = useApp((s) => s.stop);
  const clearChat = useApp((s) => s.clearChat);
  const [draft, setDraft] = useState('');
  const endRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    endRef.current?.scrollIntoView?.({ block: 'end' });
  }, [turns]);

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const text = draft;
    // While an answer is being written the store refuses the message and says so; the draft stays for later.
    if (text.trim() && !generating) setDraft('');
    void send(text);
  };
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey) submit(e);
  };

  return (
    <section className="chat" aria-label="Chat">
      <ol className="turns" aria-live="polite">
        {turns.map((t) => (
          <li key={t.id} className={`turn ${t.role}`} data-testid={`turn-${t.role}`}>
            <span className="role">{t.role === 'user' ? 'You' : 'Model'}</span>
            {t.adapters && (
              <span className="turn-adapters" data-testid="turn-adapters">
                {adaptersLabel(t.adapters)}
              </span>
            )}
            {/* Text only, never HTML: skills and answers are untrusted. */}
            <div className="content">{t.content || (generating && t.role === 'assistant' ? '…' : '')}</div>
            {t.stats && (
              <div className="stats" data-testid="turn-stats">
                {t.stats.generatedTokens} tokens · {(t.stats.generatedTokens / Math.max(t.stats.decodeMs / 1000, 1e-3)).toFixed(1)} tok/s ·
                first token after {Math.round(t.stats.prefillMs)} ms · {t.stats.stopReason}
              </div>
            )}
          </li>
        ))}
      </ol>
      <div ref={endRef} />
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <form className="composer" onSubmit={submit}>
        <label htmlFor="message" className="visually-hidden">
          Message
        </label>
        <textarea
          id="message"
          value={draft}
          placeholder={ready ? 'Message the model (Enter sends, Shift+Enter new line)' : 'Waiting for the model pack…'}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={onKey}
          rows={2}
        />
        {generating ? (
          <button type="button" onClick={stop}>
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
      </form>
    </section>
  );
}
