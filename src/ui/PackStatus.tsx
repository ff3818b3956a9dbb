import type { DownloadPrompt } from '../state/store';
import { downloadSeconds, formatBytes, formatDuration } from './format';
import { useApp } from './StoreContext';

/** How long the download may take: at the speed the browser reports, or at two common speeds where it reports none. */
function estimate(d: DownloadPrompt): string {
  if (d.mbps) return `about ${formatDuration(downloadSeconds(d.bytes, d.mbps))} at ${d.mbps} Mbit/s, the speed the browser reports for this connection`;
  return `about ${formatDuration(downloadSeconds(d.bytes, 10))} at 10 Mbit/s, ${formatDuration(downloadSeconds(d.bytes, 100))} at 100 Mbit/s`;
}

function DownloadQuestion({ d }: { d: DownloadPrompt }) {
  const confirm = useApp((s) => s.confirmDownload);
  const decline = useApp((s) => s.declineDownload);
  return (
    <div className="pack-status download" role="alert" data-testid="download-prompt">
      <p>
        This model pack is a <strong data-testid="download-size">{formatBytes(d.bytes)}</strong> download ({estimate(d)}). It is kept in the browser's
        cache, so later visits start without downloading.
        {d.declined ? ' Nothing was downloaded: press Download when you are ready, or open a smaller pack below.' : ''}
      </p>
      <button type="button" onClick={() => void confirm()}>
        Download {formatBytes(d.bytes)}
      </button>
      {!d.declined && (
        <button type="button" onClick={decline}>
          Not now
        </button>
      )}
    </div>
  );
}

export function PackStatus() {
  const engineNote = useApp((s) => s.engineNote);
  return (
    <>
      <PackLine />
      {engineNote && (
        <p className="notice" role="status" data-testid="engine-note">
          {engineNote}
        </p>
      )}
    </>
  );
}

function PackLine() {
  const download = useApp((s) => s.download);
  const status = useApp((s) => s.packStatus);
  const progress = useApp((s) => s.progress);
  const pack = useApp((s) => s.pack);
  const error = useApp((s) => s.error);
  const request = useApp((s) => s.packRequest);
  const loadPack = useApp((s) => s.loadPack);
  if (status === 'confirm' && download) return <DownloadQuestion d={download} />;
  if (status === 'loading') {
    const total = progress?.totalBytes ?? 0;
    const loaded = progress?.loadedBytes ?? 0;
    if (progress?.phase === 'start') {
      // Every byte is here; the engine is making the model from them (seconds for a large pack, no bytes moving).
      return (
        <div className="pack-status" role="status" aria-live="polite" data-testid="pack-starting">
          <label htmlFor="pack-progress">Starting the model: all {formatBytes(total)} are here, the engine is building its model from them…</label>
          <progress id="pack-progress" />
        </div>
      );
    }
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
