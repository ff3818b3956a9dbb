/** The store's pack intents: load a pack (asking before a large first download), and switch the engine. */
import { packIdentity } from '../adapters/persistence';
import type { PackInfo } from '../model/engine';
import type { StoreContext } from './context';
import { expectedGraph, LARGE_DOWNLOAD_BYTES } from './pack-cache';
import type { AppState } from './types';

type PackIntents = 'loadPack' | 'confirmDownload' | 'declineDownload' | 'switchEngine';

export function packActions(ctx: StoreContext): Pick<AppState, PackIntents> {
  const { set, get, engine, downloadCheck } = ctx;
  return {
    async loadPack(source, preference, opts = {}) {
      set({ packStatus: 'loading', progress: null, error: null, packRequest: { source, preference }, download: null });
      if (!opts.keepEngineNote) set({ engineNote: null });
      if (typeof source === 'string' && !opts.confirmed) {
        const need = await expectedGraph(preference)
          .then((graph) => downloadCheck(source, graph))
          .catch(() => null);
        if (need && need.bytes >= LARGE_DOWNLOAD_BYTES) {
          set({ packStatus: 'confirm', download: { ...need, source, preference, declined: false } });
          return;
        }
      }
      let pack: PackInfo;
      try {
        pack = await engine.loadPack(source, preference, (progress) => set({ progress }));
      } catch (e) {
        set({ packStatus: 'error', error: (e as Error).message });
        return;
      }
      set({ pack });
      await Promise.all([ctx.loadLibrary(packIdentity(pack.manifest), pack.manifest.lora.slots), ctx.loadHistory(pack.manifest.id)]);
      try {
        await ctx.bindActive();
      } catch (e) {
        set({ libraryNote: `The saved adapters could not be switched on: ${(e as Error).message}` });
      }
      set({ packStatus: 'ready' });
    },

    async confirmDownload() {
      const d = get().download;
      if (d) await get().loadPack(d.source, d.preference, { confirmed: true });
    },

    declineDownload() {
      const d = get().download;
      if (d) set({ download: { ...d, declined: true } });
    },

    async switchEngine(preference) {
      const request = get().packRequest;
      if (!request || get().generating || get().making || get().packStatus === 'loading') return;
      set({ engineNote: 'Switching the engine: the model is loaded again (the chat and the adapters stay)…' });
      await get().loadPack(request.source, preference, { keepEngineNote: true });
      const { pack, packStatus } = get();
      if (packStatus === 'ready' && pack) set({ engineNote: `Engine switched. Now running: ${pack.backendNote}.` });
      else if (packStatus === 'error') set({ engineNote: 'The engine could not be switched: the model did not load (see above).' });
      else set({ engineNote: null });
    },
  };
}
