import { formatBytes } from './format';
import { useApp } from './StoreContext';

export function PackStatus() {
  const status = useApp((s) => s.packStatus);
  const progress = useApp((s) => s.progress);
  const pack = useApp((s) => s.pack);
  const error = useApp((s) => s.error);
  const request = useApp((s) => s.packRequest);
  const loadPack = useApp((s) => s.loadPack);
  if (status === 'loading') {
    const total = progress?.totalBytes ?? 0;
    const loaded = progress?.loadedBytes ?? 0;
    return (
      <div className="pack-status" role="status" aria-live="polite">
        <label htmlFor="pack-progress">
          Loading model pack{progress ? `: ${progress.file}${progress.fromCache ? ' (from cache)' : ''}` : '…'}
        </label>
        <progress id="pack-progress" max={total || 1} value={loaded} />
        <span data-testid="progress-bytes">
          {formatBytes(loaded)} of {formatBytes(total)}
        </span>
      </div>
    );
  }
  if (status === 'error') {
    return (
      <div className="pack-status error" role="alert">
        <span data-testid="pack-error">The model pack could not be loaded: {error}</span>
        {request && (
          <button type="button" onClick={() => void loadPack(request.source, request.preference)}>
            Retry
          </button>
        )}
      </div>
    );
  }
  if (!pack) return null;
  const fallback = pack.backend === 'wasm';
  return (
    <div className="pack-status" data-testid="pack-ready">
      <span className="pack-name">{pack.manifest.name}</span>
      <span className={`backend ${fallback ? 'fallback' : ''}`} data-testid="backend" data-backend={pack.backend} data-engine={pack.engine} title={pack.backendNote}>
        {pack.backendNote}
      </span>
      <span className="license">License: {pack.manifest.license.name}</span>
    </div>
  );
}
