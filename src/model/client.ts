/** Main-thread side of the engine: the same Engine interface, backed by messages to the worker. */
import type { Engine, GenerateParams, GenerateStats, LoraTensors, MadeAdapter, PackInfo, SkillEncoding, TokenEvent } from './engine';
import type { BackendPreference } from './env';
import { EngineError, PackError, type ErrorInfo } from './errors';
import type { Request, Response } from './messages';
import type { LoadProgress, PackSource } from './pack';

type Pending = { resolve: (v: never) => void; reject: (e: Error) => void; onEvent?: (r: Response) => void };

/** Minimal port so tests can stand in for a Worker. */
export interface Port {
  postMessage(msg: Request): void;
  onmessage: ((ev: MessageEvent<Response>) => void) | null;
}

export function fromErrorInfo(e: ErrorInfo): Error {
  if (e.name === 'PackError') return new PackError(e.code as PackError['code'], e.message, e.file);
  if (e.name === 'EngineError') return new EngineError(e.code as EngineError['code'], e.message);
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

export class EngineClient implements Engine {
  private nextId = 1;
  private pending = new Map<number, Pending>();

  constructor(private readonly port: Port) {
    port.onmessage = (ev) => this.onResponse(ev.data);
  }

  private onResponse(r: Response): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    switch (r.kind) {
      case 'progress':
      case 'token':
        p.onEvent?.(r);
        return;
      case 'error':
        this.pending.delete(r.id);
        p.reject(fromErrorInfo(r.content));
        return;
      default:
        this.pending.delete(r.id);
        p.resolve(r.content as never);
    }
  }

  private call<T>(req: Omit<Request, 'id'>, onEvent?: (r: Response) => void): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: never) => void, reject, onEvent });
      this.port.postMessage({ ...req, id } as Request);
    });
  }

  loadPack(source: PackSource, preference: BackendPreference, onProgress: (p: LoadProgress) => void): Promise<PackInfo> {
    return this.call({ kind: 'loadPack', content: { source, preference } }, (r) => r.kind === 'progress' && onProgress(r.content));
  }

  generate(params: GenerateParams, onToken: (e: TokenEvent) => void): Promise<GenerateStats> {
    return this.call({ kind: 'generate', content: params }, (r) => r.kind === 'token' && onToken(r.content));
  }

  stop(): void {
    void this.call({ kind: 'stop', content: null });
  }

  setLora(tensors: LoraTensors | null): Promise<void> {
    return this.call({ kind: 'setLora', content: { tensors } });
  }

  encodeSkill(text: string, chunkTokens: number): Promise<SkillEncoding> {
    return this.call({ kind: 'encodeSkill', content: { text, chunkTokens } });
  }

  makeAdapter(text: string): Promise<MadeAdapter> {
    return this.call({ kind: 'makeAdapter', content: { text } });
  }

  async logits(inputIds: number[]): Promise<Float32Array> {
    const r = await this.call<{ logits: Float32Array }>({ kind: 'logits', content: { inputIds } });
    return r.logits;
  }
}

export function createEngineClient(): EngineClient {
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'engine' });
  return new EngineClient(worker as unknown as Port);
}
