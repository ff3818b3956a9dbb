import { useState, type FormEvent } from 'react';
import { useApp } from './StoreContext';

/** Open another pack: a URL the user types (the only way the app fetches from another origin), or a local folder. */
export function OpenPack() {
  const loadPack = useApp((s) => s.loadPack);
  const preference = useApp((s) => s.packRequest?.preference ?? 'auto');
  const busy = useApp((s) => s.packStatus === 'loading' || s.generating || s.making);
  const [url, setUrl] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (url.trim()) void loadPack(url.trim().endsWith('/') ? url.trim() : `${url.trim()}/`, preference);
  };
  return (
    <details className="open-pack">
      <summary>Open another model pack</summary>
      <form onSubmit={submit}>
        <label htmlFor="pack-url">Pack URL</label>
        <input id="pack-url" type="url" value={url} placeholder="https://example.org/packs/my-model/" onChange={(e) => setUrl(e.target.value)} />
        <button type="submit" disabled={busy || !url.trim()}>
          Load
        </button>
      </form>
      <label className="file-button">
        Pick a local pack folder…
        <input
          type="file"
          // A folder picker: the browser hands over every file of the folder.
          {...{ webkitdirectory: '' }}
          multiple
          disabled={busy}
          onChange={(e) => e.target.files && e.target.files.length > 0 && void loadPack({ files: [...e.target.files] }, preference)}
        />
      </label>
    </details>
  );
}
