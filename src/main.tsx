import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createEngineClient } from './model/client';
import { resolvePackUrl } from './model/pack-index';
import type { BackendPreference } from './model/env';
import { createAppStore } from './state/store';
import { App } from './ui/App';
import { StoreContext } from './ui/StoreContext';
import './ui/styles.css';

const params = new URLSearchParams(location.search);
const preference = (params.get('backend') ?? 'auto') as BackendPreference;
const engine = createEngineClient();
const store = createAppStore(engine);
// A dead engine worker holds no model any more: the pack line says so and offers Retry (a new worker loads it again).
engine.onWorkerLost = (err) => store.setState({ packStatus: 'error', error: err.message });
// The browser tests read and drive the store; only test builds (`vite build --mode test`) and the dev server expose it.
if (import.meta.env.DEV || import.meta.env.MODE === 'test') (window as unknown as { appStore: typeof store }).appStore = store;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <StoreContext.Provider value={store}>
      <App />
    </StoreContext.Provider>
  </StrictMode>,
);

void resolvePackUrl(params, import.meta.env.BASE_URL).then(
  (url) => store.getState().loadPack(url, preference),
  (e: Error) => store.setState({ packStatus: 'error', error: e.message }),
);
