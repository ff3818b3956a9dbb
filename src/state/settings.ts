/** Chat settings: defaults, the pack-dependent answer length, and where they are kept between visits. */
import type { AppState, Settings, SettingsStorage } from './types';

export const DEFAULT_SETTINGS: Settings = { maxNewTokens: null, temperature: 0, topP: 0.95, systemPrompt: '' };

/**
 * The default answer length for a pack: a quarter of its context, from 64 to 512 tokens. 64 cut most chat answers
 * short; more than a quarter would push a small model's conversation out of its context after one or two turns.
 */
export function maxNewTokensFor(contextLength: number): number {
  return Math.min(512, Math.max(64, Math.floor(contextLength / 4)));
}

/** The Max new tokens that applies now: the user's number, else the pack's default. */
export function effectiveMaxNewTokens(s: Pick<AppState, 'settings' | 'pack'>): number {
  return s.settings.maxNewTokens ?? maxNewTokensFor(s.pack?.manifest.generation.contextLength ?? 2048);
}

const SETTINGS_KEY = 'parametric-skills-settings';

/** localStorage, where the page may use it; settings then simply last for the session. */
export const localSettings: SettingsStorage = {
  load() {
    try {
      return JSON.parse(globalThis.localStorage?.getItem(SETTINGS_KEY) ?? 'null');
    } catch {
      return null;
    }
  },
  save(settings) {
    try {
      globalThis.localStorage?.setItem(SETTINGS_KEY, JSON.stringify(settings));
    } catch {
      // storage blocked or full: the settings hold for this session
    }
  },
};

/** Saved settings, each value checked and clamped as the Settings form does; anything unreadable is the default. */
export function readSettings(raw: unknown): Settings {
  const r = (raw ?? {}) as Partial<Record<keyof Settings, unknown>>;
  const num = (v: unknown, lo: number, hi: number, d: number) => (typeof v === 'number' && Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : d);
  return {
    maxNewTokens: typeof r.maxNewTokens === 'number' && Number.isFinite(r.maxNewTokens) ? Math.round(num(r.maxNewTokens, 1, 4096, 1)) : null,
    temperature: num(r.temperature, 0, 2, DEFAULT_SETTINGS.temperature),
    topP: num(r.topP, 0.05, 1, DEFAULT_SETTINGS.topP),
    systemPrompt: typeof r.systemPrompt === 'string' ? r.systemPrompt : DEFAULT_SETTINGS.systemPrompt,
  };
}
