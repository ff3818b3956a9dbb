/** Worker side: turns requests into Engine calls and posts the replies. Knows nothing about ORT. */
import type { Engine } from './engine';
import { toErrorInfo } from '../errors';
import type { Request, Response } from './messages';

export class EngineWorkerHandler {
  constructor(
    private readonly engine: Engine,
    private readonly post: (msg: Response, transfer?: Transferable[]) => void,
  ) {}

  async onMessage(req: Request): Promise<void> {
    const { id } = req;
    try {
      switch (req.kind) {
        case 'loadPack': {
          const info = await this.engine.loadPack(req.content.source, req.content.preference, (p) => this.post({ kind: 'progress', id, content: p }));
          this.post({ kind: 'packLoaded', id, content: info });
          break;
        }
        case 'generate': {
          const stats = await this.engine.generate(req.content, (e) => this.post({ kind: 'token', id, content: e }));
          this.post({ kind: 'generated', id, content: stats });
          break;
        }
        case 'stop':
          this.engine.stop();
          this.post({ kind: 'ok', id, content: null });
          break;
        case 'setLora':
          await this.engine.setLora(req.content.tensors);
          this.post({ kind: 'ok', id, content: null });
          break;
        case 'bindAdapters':
          await this.engine.bindAdapters(req.content.adapters);
          this.post({ kind: 'ok', id, content: null });
          break;
        case 'forgetAdapter':
          await this.engine.forgetAdapter(req.content.id);
          this.post({ kind: 'ok', id, content: null });
          break;
        case 'logits': {
          const logits = await this.engine.logits(req.content.inputIds);
          this.post({ kind: 'logitsResult', id, content: { logits } }, [logits.buffer]);
          break;
        }
        case 'encodeSkill': {
          const enc = await this.engine.encodeSkill(req.content.text, req.content.chunkTokens);
          this.post({ kind: 'skillEncoded', id, content: enc }, [enc.hidden.buffer]);
          break;
        }
        case 'makeAdapter': {
          const made = await this.engine.makeAdapter(req.content.text);
          this.post({ kind: 'adapterMade', id, content: made }, Object.values(made.modules).flatMap((p) => [p.a.buffer, p.b.buffer]));
          break;
        }
        default: {
          const never: never = req;
          // Invariant: the client sends only the requests of messages.ts.
          throw new Error(`unknown request ${JSON.stringify(never)}`);
        }
      }
    } catch (err) {
      this.post({ kind: 'error', id, content: toErrorInfo(err) });
    }
  }
}
