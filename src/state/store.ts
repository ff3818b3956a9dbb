/** App state (zustand). Components render it and call its intents; only the store talks to the engine. */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Engine, GenerateStats, PackInfo } from '../model/engine';
import type { BackendPreference } from '../model/env';
import type { LoadProgress } from '../model/pack';
import type { ChatMessage } from '../model/tokenizer';

export interface ChatTurn extends ChatMessage {
  id: number;
  /** Set on assistant turns once they finish. */
  stats?: GenerateStats;
}

export interface Settings {
  maxNewTokens: number;
  temperature: number;
  topP: number;
}

export interface AppState {
  packStatus: 'idle' | 'loading' | 'ready' | 'error';
  progress: LoadProgress | null;
  pack: PackInfo | null;
  error: string | null;
  turns: ChatTurn[];
  generating: boolean;
  notice: string | null;
  settings: Settings;
  loadPack(baseUrl: string, preference: BackendPreference): Promise<void>;
  send(text: string): Promise<void>;
  stop(): void;
  clearChat(): void;
  updateSettings(patch: Partial<Settings>): void;
}

export const DEFAULT_SETTINGS: Settings = { maxNewTokens: 64, temperature: 0, topP: 0.95 };

export function createAppStore(engine: Engine): StoreApi<AppState> {
  let nextTurnId = 1;
  return createStore<AppState>()((set, get) => ({
    packStatus: 'idle',
    progress: null,
    pack: null,
    error: null,
    turns: [],
    generating: false,
    notice: null,
    settings: DEFAULT_SETTINGS,

    async loadPack(baseUrl, preference) {
      set({ packStatus: 'loading', progress: null, error: null });
      try {
        const pack = await engine.loadPack(baseUrl, preference, (progress) => set({ progress }));
        set({ pack, packStatus: 'ready' });
      } catch (e) {
        set({ packStatus: 'error', error: (e as Error).message });
      }
    },

    async send(text) {
      const content = text.trim();
      if (!content) {
        set({ notice: 'Type a message first.' });
        return;
      }
      if (get().generating || get().packStatus !== 'ready') return;
      const history: ChatMessage[] = get().turns.map(({ role, content }) => ({ role, content }));
      const user: ChatTurn = { id: nextTurnId++, role: 'user', content };
      const reply: ChatTurn = { id: nextTurnId++, role: 'assistant', content: '' };
      set({ turns: [...get().turns, user, reply], generating: true, notice: null });
      const patchReply = (patch: Partial<ChatTurn>) =>
        set({ turns: get().turns.map((t) => (t.id === reply.id ? { ...t, ...patch } : t)) });
      try {
        const { settings } = get();
        const stats = await engine.generate({ messages: [...history, { role: 'user', content }], ...settings }, (e) => {
          if (e.delta) patchReply({ content: (get().turns.find((t) => t.id === reply.id)?.content ?? '') + e.delta });
        });
        patchReply({ content: stats.text, stats });
        if (stats.truncatedTokens > 0) {
          set({ notice: `The conversation was longer than the model's context: the oldest ${stats.truncatedTokens} tokens were left out.` });
        }
      } catch (e) {
        set({ notice: `Generation failed: ${(e as Error).message}` });
      } finally {
        set({ generating: false });
      }
    },

    stop() {
      if (get().generating) engine.stop();
    },

    clearChat() {
      if (!get().generating) set({ turns: [], notice: null });
    },

    updateSettings(patch) {
      set({ settings: { ...get().settings, ...patch } });
    },
  }));
}
