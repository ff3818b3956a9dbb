/** App state (zustand). Components render it and call its intents; only the store talks to the engine. */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Engine } from '../model/engine';
import { adapterActions } from './adapter-actions';
import { chatActions } from './chat-actions';
import { createContext } from './context';
import { packActions } from './pack-actions';
import { readSettings } from './settings';
import type { AppOptions, AppState } from './types';

export { BUSY_NOTICE, MAKING_NOTICE } from './chat-actions';
export { DEFAULT_SETTINGS, effectiveMaxNewTokens, maxNewTokensFor, readSettings } from './settings';
export type * from './types';

export function createAppStore(engine: Engine, options: AppOptions = {}): StoreApi<AppState> {
  return createStore<AppState>()((set, get) => {
    const ctx = createContext(set, get, engine, options);
    return {
      packStatus: 'idle',
      progress: null,
      pack: null,
      error: null,
      turns: [],
      generating: false,
      notice: null,
      clearedTurns: null,
      historyNote: null,
      settings: readSettings(ctx.settingsStorage.load()),
      download: null,
      engineNote: null,
      adapters: [],
      packRequest: null,
      making: false,
      skillNote: null,
      libraryNote: null,
      pendingWrites: 0,
      adapterQuery: '',
      compare: null,
      ...packActions(ctx),
      ...chatActions(ctx),
      ...adapterActions(ctx),
    };
  });
}
