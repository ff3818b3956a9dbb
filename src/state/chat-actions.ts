/** The store's chat intents: send, regenerate, stop, clear and undo, settings, and Compare (base / in context / adapter). */
import type { ChatMessage } from '../model/tokenizer';
import { inUse, liveCounter, type StoreContext } from './context';
import { effectiveMaxNewTokens } from './settings';
import type { AppState, ChatTurn, CompareMode, CompareResult } from './types';

/** Said when a message is sent while an answer is being written: one generation runs at a time. */
export const BUSY_NOTICE = 'One answer at a time: wait for this one to finish, or press Stop, then send your message.';
/** Said when a message is sent while an adapter is being made: the model reads the skill then, one job at a time. */
export const MAKING_NOTICE = 'An adapter is being made: wait for it to finish, then send your message.';

type ChatIntents = 'send' | 'regenerate' | 'stop' | 'clearChat' | 'undoClear' | 'updateSettings' | 'runCompare';

export function chatActions(ctx: StoreContext): Pick<AppState, ChatIntents> {
  const { set, get, engine, settingsStorage } = ctx;
  /** Answer the conversation `turns` (it ends with the user's message): the reply streams into a new turn. */
  const answer = async (turns: ChatTurn[]) => {
    const { settings } = get();
    const maxNewTokens = effectiveMaxNewTokens(get());
    const adapters = inUse(get().adapters).map(({ name, scale }) => ({ name, scale }));
    const reply: ChatTurn = { id: ctx.nextTurnId++, role: 'assistant', content: '', adapters, maxNewTokens };
    set({ turns: [...turns, reply], generating: true, notice: null, clearedTurns: null });
    // The question is saved before the answer comes, so closing the page meanwhile keeps it.
    void ctx.saveHistory(turns);
    const patchReply = (patch: Partial<ChatTurn>) =>
      set({ turns: get().turns.map((t) => (t.id === reply.id ? { ...t, ...patch } : t)) });
    const system = settings.systemPrompt.trim();
    const messages: ChatMessage[] = [
      ...(system ? [{ role: 'system' as const, content: system }] : []),
      ...turns.map(({ role, content }) => ({ role, content })),
    ];
    const live = liveCounter();
    let failure: unknown = null;
    try {
      const params = { messages, maxNewTokens, temperature: settings.temperature, topP: settings.topP };
      const stats = await engine.generate(params, (e) => {
        patchReply({ content: (get().turns.find((t) => t.id === reply.id)?.content ?? '') + e.delta, live: live.tick() });
      });
      patchReply({ content: stats.text, stats, live: undefined });
      if (stats.truncatedTokens > 0) {
        set({ notice: `The conversation was longer than the model's context: the oldest ${stats.truncatedTokens} tokens were left out.` });
      }
    } catch (e) {
      failure = e;
      patchReply({ live: undefined });
      set({ notice: `Generation failed: ${(e as Error).message}` });
    } finally {
      // A busy note was about this answer, which is over now.
      set({ generating: false, notice: get().notice === BUSY_NOTICE ? null : get().notice });
    }
    await ctx.saveHistory();
    await ctx.restartAfterDeviceLoss(failure, 'notice');
  };
  return {
    async send(text) {
      if (get().generating) {
        set({ notice: BUSY_NOTICE });
        return;
      }
      if (get().making) {
        set({ notice: MAKING_NOTICE });
        return;
      }
      const content = text.trim();
      if (!content) {
        set({ notice: 'Type a message first.' });
        return;
      }
      if (get().packStatus !== 'ready') return;
      await answer([...get().turns, { id: ctx.nextTurnId++, role: 'user', content }]);
    },

    async regenerate() {
      const turns = get().turns;
      if (get().generating || get().making || get().packStatus !== 'ready' || turns.at(-1)?.role !== 'assistant') return;
      // The last answer is replaced: asked again from the same conversation (a new seed when sampling).
      await answer(turns.slice(0, -1));
    },

    stop() {
      if (!get().generating) return;
      ctx.compareStopped = true;
      engine.stop();
    },

    clearChat() {
      const turns = get().turns;
      if (get().generating || turns.length === 0) return;
      set({ turns: [], clearedTurns: turns, notice: null });
      void ctx.saveHistory();
    },

    undoClear() {
      const cleared = get().clearedTurns;
      if (!cleared || get().generating) return;
      // Messages sent since the Clear stay, after the ones brought back.
      set({ turns: [...cleared, ...get().turns], clearedTurns: null });
      void ctx.saveHistory();
    },

    updateSettings(patch) {
      set({ settings: { ...get().settings, ...patch } });
      settingsStorage.save(get().settings);
    },

    async runCompare(message, source) {
      const content = message.trim();
      const pack = get().pack;
      if (!content || get().generating || !pack) return;
      const chosen = 'adapterId' in source ? get().adapters.find((a) => a.id === source.adapterId && !a.mismatch) : undefined;
      if ('adapterId' in source && !chosen) {
        set({ notice: 'Compare: that adapter is gone or was made for another pack; pick another.' });
        return;
      }
      // One skill for both: the adapter's own skill text goes in context, or the text box's when no adapter is picked.
      const skillText = chosen ? chosen.skillText : 'skillText' in source ? source.skillText : '';
      const skillName = chosen ? chosen.name : null;
      const result: CompareResult = { message: content, skillName, answers: {}, running: null, maxNewTokens: effectiveMaxNewTokens(get()) };
      const skipped: Partial<Record<CompareMode, string>> = {};
      if (!skillText.trim()) {
        skipped.icl = chosen ? `Skipped: "${chosen.name}" was imported without its skill text, so there is nothing to put in context.` : 'Skipped: the skill text box is empty.';
      }
      if (!chosen) skipped.adapter = 'Skipped: no adapter is picked. Make an adapter from this skill first, then compare.';
      for (const [mode, why] of Object.entries(skipped)) result.answers[mode as CompareMode] = { text: '', skipped: why };
      ctx.compareStopped = false;
      set({ compare: { ...result }, generating: true, notice: null });
      const publish = () => set({ compare: { ...result, answers: { ...result.answers } } });
      const user: ChatMessage = { role: 'user', content };
      const modes: [CompareMode, () => Promise<void>, ChatMessage[]][] = [
        ['base', () => engine.setLora(null), [user]],
        // Trimmed as the chat's system prompt is, so the two put the same tokens in context.
        ['icl', () => engine.setLora(null), [{ role: 'system', content: skillText.trim() }, user]],
        // Only the picked adapter, at its own scale: the adapters switched on in the list play no part.
        ['adapter', () => engine.bindAdapters(chosen ? [chosen] : []), [user]],
      ];
      let failure: unknown = null;
      try {
        for (const [mode, bind, messages] of modes) {
          if (skipped[mode]) continue;
          if (ctx.compareStopped) {
            result.answers[mode] = { text: '', skipped: 'Not run: Compare was stopped.' };
            continue;
          }
          await bind();
          result.running = mode;
          result.answers[mode] = { text: '' };
          publish();
          const live = liveCounter();
          const { settings } = get();
          const stats = await engine.generate(
            { messages, maxNewTokens: result.maxNewTokens, temperature: settings.temperature, topP: settings.topP },
            (e) => {
              result.answers[mode] = { text: (result.answers[mode]?.text ?? '') + e.delta, live: live.tick() };
              publish();
            },
          );
          result.answers[mode] = { text: stats.text, stats };
          publish();
        }
      } catch (e) {
        failure = e;
        set({ notice: `Compare failed: ${(e as Error).message}` });
      } finally {
        result.running = null;
        publish();
        try {
          await ctx.bindActive();
        } finally {
          set({ generating: false });
        }
      }
      await ctx.restartAfterDeviceLoss(failure, 'notice');
    },
  };
}
