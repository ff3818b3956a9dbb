/** App state (zustand). Components render it and call its intents; only the store talks to the engine. */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { parseSkill } from '../adapters/skill';
import { composeSlots } from '../adapters/slots';
import type { AdapterModules, Engine, GenerateStats, PackInfo } from '../model/engine';
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

export interface AdapterEntry {
  id: string;
  name: string;
  skillText: string;
  packId: string;
  createdAt: number;
  scale: number;
  active: boolean;
  modules: AdapterModules;
  stats: { tokens: number; chunks: number; droppedTokens: number; encodeMs: number; hypernetMs: number; bytes: number; device: string };
}

export type CompareMode = 'base' | 'icl' | 'adapter';
export interface CompareResult {
  message: string;
  answers: Partial<Record<CompareMode, { text: string; stats: GenerateStats }>>;
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
  adapters: AdapterEntry[];
  making: boolean;
  skillNote: string | null;
  compare: CompareResult | null;
  loadPack(baseUrl: string, preference: BackendPreference): Promise<void>;
  send(text: string): Promise<void>;
  stop(): void;
  clearChat(): void;
  updateSettings(patch: Partial<Settings>): void;
  makeAdapter(skill: string): Promise<void>;
  toggleAdapter(id: string): Promise<void>;
  setAdapterScale(id: string, scale: number): Promise<void>;
  removeAdapter(id: string): Promise<void>;
  runCompare(message: string, skillText: string): Promise<void>;
}

export const DEFAULT_SETTINGS: Settings = { maxNewTokens: 64, temperature: 0, topP: 0.95 };

export function createAppStore(engine: Engine): StoreApi<AppState> {
  let nextTurnId = 1;
  return createStore<AppState>()((set, get) => {
    /** Bind the active adapters' composition (or zeros) to the engine. */
    const bindActive = async () => {
      const pack = get().pack;
      if (!pack) return;
      const active = get().adapters.filter((a) => a.active && a.packId === pack.manifest.id);
      await engine.setLora(composeSlots(active, pack.manifest.architecture, pack.manifest.lora));
    };
    return {
    packStatus: 'idle',
    progress: null,
    pack: null,
    error: null,
    turns: [],
    generating: false,
    notice: null,
    settings: DEFAULT_SETTINGS,
    adapters: [],
    making: false,
    skillNote: null,
    compare: null,

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

    async makeAdapter(input) {
      const pack = get().pack;
      if (!pack || get().making || get().generating) return;
      let skill;
      try {
        skill = parseSkill(input);
      } catch (e) {
        set({ skillNote: (e as Error).message });
        return;
      }
      set({ making: true, skillNote: 'Making the adapter…' });
      try {
        const made = await engine.makeAdapter(skill.text);
        const bytes = Object.values(made.modules).reduce((n, p) => n + p.a.byteLength + p.b.byteLength, 0);
        const entry: AdapterEntry = {
          id: crypto.randomUUID(),
          name: skill.name,
          skillText: skill.text,
          packId: pack.manifest.id,
          createdAt: Date.now(),
          scale: 1,
          active: get().adapters.filter((a) => a.active).length < pack.manifest.lora.slots,
          modules: made.modules,
          stats: { tokens: made.tokens, chunks: made.chunks, droppedTokens: made.droppedTokens, encodeMs: made.encodeMs, hypernetMs: made.hypernetMs, bytes, device: made.device },
        };
        const notes = [...skill.warnings];
        if (made.chunks > 1) notes.push(`The skill is longer than one encoder chunk: it was read in ${made.chunks} chunks.`);
        if (made.droppedTokens > 0) notes.push(`The last ${made.droppedTokens} tokens of the skill were beyond the encoder's limit and were left out.`);
        set({ adapters: [...get().adapters, entry], skillNote: notes.join(' ') || null });
        await bindActive();
      } catch (e) {
        set({ skillNote: `The adapter could not be made: ${(e as Error).message}` });
      } finally {
        set({ making: false });
      }
    },

    async toggleAdapter(id) {
      const slots = get().pack?.manifest.lora.slots ?? 0;
      const target = get().adapters.find((a) => a.id === id);
      if (!target) return;
      if (!target.active && get().adapters.filter((a) => a.active).length >= slots) {
        set({ skillNote: `This pack has ${slots} adapter slots: switch another adapter off first.` });
        return;
      }
      set({ adapters: get().adapters.map((a) => (a.id === id ? { ...a, active: !a.active } : a)) });
      await bindActive();
    },

    async setAdapterScale(id, scale) {
      set({ adapters: get().adapters.map((a) => (a.id === id ? { ...a, scale } : a)) });
      await bindActive();
    },

    async removeAdapter(id) {
      set({ adapters: get().adapters.filter((a) => a.id !== id) });
      await bindActive();
    },

    async runCompare(message, skillText) {
      const content = message.trim();
      if (!content || get().generating || !get().pack) return;
      const active = get().adapters.filter((a) => a.active);
      const result: CompareResult = { message: content, answers: {} };
      set({ compare: result, generating: true });
      const user: ChatMessage = { role: 'user', content };
      const modes: [CompareMode, () => Promise<void>, ChatMessage[]][] = [
        ['base', () => engine.setLora(null), [user]],
        ['icl', () => engine.setLora(null), [{ role: 'system', content: skillText }, user]],
        ['adapter', bindActive, [user]],
      ];
      try {
        for (const [mode, bind, messages] of modes) {
          if (mode === 'icl' && !skillText.trim()) continue;
          if (mode === 'adapter' && active.length === 0) continue;
          await bind();
          const stats = await engine.generate({ messages, ...get().settings }, () => undefined);
          result.answers = { ...result.answers, [mode]: { text: stats.text, stats } };
          set({ compare: { ...result } });
        }
      } catch (e) {
        set({ notice: `Compare failed: ${(e as Error).message}` });
      } finally {
        await bindActive();
        set({ generating: false });
      }
    },
  };
  });
}
