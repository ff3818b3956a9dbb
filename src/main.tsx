import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createEngineClient } from './model/client';
import type { BackendPreference } from './model/env';
import { createAppStore } from './state/store';
import { App } from './ui/App';
import { StoreContext } from './ui/StoreContext';
import './ui/styles.css';

/** Which pack to open: ?pack=<id or URL>, else the default named by models/index.json. */
async function resolvePackUrl(params: URLSearchParams): Promise<string> {
  const base = import.meta.env.BASE_URL;
  const requested = params.get('pack');
  if (requested && /^https?:\/\//.test(requested)) return requested;
  if (requested) return `${base}models/${encodeURIComponent(requested)}/`;
  try {
    const index = (await (await fetch(`${base}models/index.json`, { cache: 'no-cache' })).json()) as { default: string };
    return `${base}models/${encodeURIComponent(index.default)}/`;
  } catch {
    return `${base}models/tiny-random/`;
  }
}

const params = new URLSearchParams(location.search);
const preference = (params.get('backend') ?? 'auto') as BackendPreference;
const store = createAppStore(createEngineClient());
(window as unknown as { appStore: typeof store }).appStore = store;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <StoreContext.Provider value={store}>
      <App />
    </StoreContext.Provider>
  </StrictMode>,
);

void resolvePackUrl(params).then((url) => store.getState().loadPack(url, preference));
