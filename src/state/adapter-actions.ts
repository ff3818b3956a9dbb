/** The store's adapter intents: make one from a skill, switch on/off, scale, rename, delete, export and import. */
import { exportGguf } from '../adapters/gguf';
import { exportPeftZip, importPeftFiles } from '../adapters/peft';
import { packIdentity } from '../adapters/persistence';
import { parseSkill } from '../adapters/skill';
import { MAKING_NOTICE } from './chat-actions';
import { adapterBytes, fileStem, inUse, type StoreContext } from './context';
import type { AdapterEntry, AppState, ExportedFile } from './types';

type AdapterIntents = 'makeAdapter' | 'toggleAdapter' | 'setAdapterScale' | 'removeAdapter' | 'renameAdapter' | 'setAdapterQuery' | 'exportAdapter' | 'importAdapter';

export function adapterActions(ctx: StoreContext): Pick<AppState, AdapterIntents> {
  const { set, get, engine, library } = ctx;
  return {
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
      let failure: unknown = null;
      try {
        const made = await engine.makeAdapter(skill.text);
        const entry: AdapterEntry = {
          id: crypto.randomUUID(),
          name: skill.name,
          skillText: skill.text,
          ...packIdentity(pack.manifest),
          createdAt: Date.now(),
          scale: 1,
          active: inUse(get().adapters).length < pack.manifest.lora.slots,
          modules: made.modules,
          stats: {
            tokens: made.tokens, chunks: made.chunks, droppedTokens: made.droppedTokens, encodeMs: made.encodeMs, hypernetMs: made.hypernetMs,
            bytes: adapterBytes(made.modules), device: made.device,
          },
          importedFrom: null,
          mismatch: null,
        };
        const notes = [...skill.warnings];
        if (made.chunks > 1) notes.push(`The skill is longer than one encoder chunk: it was read in ${made.chunks} chunks.`);
        if (made.droppedTokens > 0) notes.push(`The last ${made.droppedTokens} tokens of the skill were beyond the encoder's limit and were left out.`);
        if (made.device === 'cpu' && pack.backend === 'webgpu') {
          notes.push('The GPU could not run the hypernetwork (it may be short of memory), so this adapter was made on the CPU: the same adapter, made more slowly.');
        }
        await ctx.addAdapter(entry, notes, 'skillNote');
      } catch (e) {
        failure = e;
        set({ skillNote: `The adapter could not be made: ${(e as Error).message}` });
      } finally {
        // A message refused while the adapter was made is over with it.
        set({ making: false, notice: get().notice === MAKING_NOTICE ? null : get().notice });
      }
      await ctx.restartAfterDeviceLoss(failure, 'skillNote');
    },

    async toggleAdapter(id) {
      const slots = get().pack?.manifest.lora.slots ?? 0;
      const target = get().adapters.find((a) => a.id === id);
      if (!target) return;
      if (target.mismatch) {
        set({ libraryNote: target.mismatch });
        return;
      }
      if (!target.active && inUse(get().adapters).length >= slots) {
        set({ skillNote: `This pack has ${slots} adapter slots: switch another adapter off first.` });
        return;
      }
      const entry = ctx.patchAdapter(id, { active: !target.active });
      await Promise.all([ctx.saveMeta(entry), ctx.bindActive()]);
    },

    async setAdapterScale(id, scale) {
      const entry = ctx.patchAdapter(id, { scale });
      await Promise.all([ctx.saveMeta(entry), ctx.bindActive()]);
    },

    async removeAdapter(id) {
      set({ adapters: get().adapters.filter((a) => a.id !== id) });
      await Promise.all([ctx.persist('deleting the adapter', () => library.remove(id)), ctx.bindActive().finally(() => engine.forgetAdapter(id))]);
    },

    async renameAdapter(id, name) {
      const clean = name.trim().replace(/\s+/g, ' ');
      const target = get().adapters.find((a) => a.id === id);
      if (!target || clean === target.name) return;
      if (!clean) {
        set({ libraryNote: 'An adapter needs a name: the old one is kept.' });
        return;
      }
      await ctx.saveMeta(ctx.patchAdapter(id, { name: clean }));
    },

    setAdapterQuery(query) {
      set({ adapterQuery: query });
    },

    exportAdapter(id, format, save) {
      const pack = get().pack;
      const target = get().adapters.find((a) => a.id === id);
      if (!pack || !target) return null;
      if (target.mismatch) {
        set({ libraryNote: `${target.mismatch} It can only be exported with that pack loaded.` });
        return null;
      }
      let file: ExportedFile;
      try {
        file = format === 'peft'
          ? { name: `${fileStem(target.name)}-peft.zip`, bytes: exportPeftZip(target, pack.manifest), type: 'application/zip' }
          : { name: `${fileStem(target.name)}.gguf`, bytes: exportGguf(target, pack.manifest), type: 'application/octet-stream' };
      } catch (e) {
        set({ libraryNote: `"${target.name}" could not be exported: ${(e as Error).message}` });
        return null;
      }
      try {
        save?.(file);
      } catch (e) {
        // The browser refused the file (out of memory for the Blob, downloads blocked): the adapter itself is kept.
        set({ libraryNote: `${file.name} could not be saved: ${(e as Error).message}` });
        return null;
      }
      return file;
    },

    async importAdapter(files) {
      const pack = get().pack;
      if (!pack || files.length === 0) return;
      const names = files.map((f) => f.name).join(', ');
      let imported;
      try {
        const named = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
        imported = await importPeftFiles(named, pack.manifest);
      } catch (e) {
        set({ libraryNote: `${names} could not be imported: ${(e as Error).message}` });
        return;
      }
      const identity = packIdentity(pack.manifest);
      const name = imported.name ?? files[0].name.replace(/\.(zip|json|safetensors)$/i, '');
      const notes = [`Imported "${name}".`, ...imported.notes];
      if (imported.packSha256 && (imported.packId !== identity.packId || imported.packSha256 !== identity.packSha256)) {
        notes.push(`It was exported from other weights (pack "${imported.packId}"); its shapes fit this pack, so it was loaded, but it may act differently here.`);
      } else if (!imported.packSha256 && imported.baseModel && imported.baseModel !== identity.packId) {
        notes.push(`It names "${imported.baseModel}" as its base model; its shapes fit this pack.`);
      }
      const entry: AdapterEntry = {
        id: crypto.randomUUID(),
        name,
        skillText: imported.skillText ?? '',
        ...identity,
        createdAt: Date.now(),
        scale: 1,
        active: inUse(get().adapters).length < pack.manifest.lora.slots,
        modules: imported.modules,
        stats: { tokens: 0, chunks: 0, droppedTokens: 0, encodeMs: 0, hypernetMs: 0, bytes: adapterBytes(imported.modules), device: 'file' },
        importedFrom: names,
        mismatch: null,
      };
      await ctx.addAdapter(entry, notes, 'libraryNote');
    },
  };
}
