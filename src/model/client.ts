/** Main-thread side of the engine: the same Engine interface, backed by messages to the worker. */
import type { AdapterModules, Engine, GenerateParams, GenerateStats, LoraTensors, MadeAdapter, PackInfo, SkillEncoding, SlotAdapter, TokenEvent } from './engine';
import type { BackendPreference } from './env';
import { EngineError, fromErrorInfo } from '../errors';
import type { Request, Response } from './messages';
import type { LoadProgress, PackSource } from './pack';

type Pending = { resolve: (v: never) => void; reject: (e: Error) => void; onEvent?: (r: Response) => void };

/** Minimal port so tests can stand in for a Worker. */
export interface Port {
  postMessage(msg: Request): void;
  onmessage: ((ev: MessageEvent<Response>) => void) | null;
  /** A Worker's script that fails to load, or an error nothing inside it caught (e.g. a wasm thread that cannot start). */
  onerror?: ((ev: Event) => void) | null;
  onmessageerror?: ((ev: MessageEvent) => void) | null;
  terminate?(): void;
}

/** What a dead worker's error event says, as an EngineError the UI can show. */
export function workerStoppedError(ev: Event | null): EngineError {
  const e = ev as Partial<ErrorEvent> | null;
  const where = e?.filename ? ` (${e.filename}${e.lineno ? `:${e.lineno}` : ''})` : '';
  const what = e?.message ? `${e.message}${where}` : ev?.type === 'messageerror' ? 'a message from it could not be read' : `its script could not be loaded or run${where}`;
  return new EngineError('worker', `the engine worker stopped: ${what}`);
}

export { fromErrorInfo };

export class EngineClient implements Engine {
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private port: Port | null = null;
  /** A failed load may leave the worker unusable (onnxruntime-web keeps a failed wasm start): the next load starts afresh. */
  private loadFailed = false;
  /**
   * The adapters the current worker holds, by id: the very tensors sent, so an adapter is sent once per worker and
   * pack (a new worker or a pack load starts empty; `heldEpoch` counts those starts).
   */
  private held = new Map<string, AdapterModules>();
  private heldEpoch = 0;
  /** Called once each time the worker dies, after its calls in flight were rejected with the same error. */
  onWorkerLost: ((err: EngineError) => void) | null = null;

  constructor(private readonly open: () => Port) {
    this.connect();
  }

  private connect(): Port {
    if (this.port) return this.port;
    this.forgetHeld();
    const port = this.open();
    port.onmessage = (ev) => {
      if (ev.data.kind === 'fatal') this.lose(port, new EngineError('worker', `the engine worker stopped: ${ev.data.content.message}`));
      else this.onResponse(ev.data);
    };
    port.onerror = (ev) => {
      ev.preventDefault();
      this.lose(port, workerStoppedError(ev));
    };
    port.onmessageerror = (ev) => this.lose(port, workerStoppedError(ev));
    this.port = port;
    return port;
  }

  /** A dead worker never answers: every call in flight fails now, and the next call starts a new worker. */
  private lose(port: Port, err: EngineError): void {
    if (this.port !== port) return;
    this.port = null;
    this.forgetHeld();
    port.terminate?.();
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(err);
    this.onWorkerLost?.(err);
  }

  private forgetHeld(): void {
    this.held = new Map();
    this.heldEpoch++;
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
      const port = this.connect();
      this.pending.set(id, { resolve: resolve as (v: never) => void, reject, onEvent });
      port.postMessage({ ...req, id } as Request);
    });
  }

  async loadPack(source: PackSource, preference: BackendPreference, onProgress: (p: LoadProgress) => void): Promise<PackInfo> {
    if (this.loadFailed && this.port && this.pending.size === 0) {
      this.port.terminate?.();
      this.port = null;
    }
    // The worker drops the adapters it holds on a load: they belong to the previous pack.
    this.forgetHeld();
    try {
      const info = await this.call<PackInfo>({ kind: 'loadPack', content: { source, preference } }, (r) => r.kind === 'progress' && onProgress(r.content));
      this.loadFailed = false;
      return info;
    } catch (e) {
      this.loadFailed = true;
      throw e;
    }
  }

  generate(params: GenerateParams, onToken: (e: TokenEvent) => void): Promise<GenerateStats> {
    return this.call({ kind: 'generate', content: params }, (r) => r.kind === 'token' && onToken(r.content));
  }

  stop(): void {
    // Nothing waits on a stop: a worker that died meanwhile has stopped anyway.
    this.call({ kind: 'stop', content: null }).catch(() => undefined);
  }

  setLora(tensors: LoraTensors | null): Promise<void> {
    return this.call({ kind: 'setLora', content: { tensors } });
  }

  /** Ids and scales; an adapter's tensors only where this worker does not hold them yet. */
  async bindAdapters(adapters: readonly SlotAdapter[]): Promise<void> {
    this.connect();
    const epoch = this.heldEpoch;
    const sent = adapters.map(({ id, scale, modules }) => (modules && this.held.get(id) !== modules ? { id, scale, modules } : { id, scale }));
    await this.call({ kind: 'bindAdapters', content: { adapters: sent } });
    if (epoch !== this.heldEpoch) return;
    for (const { id, modules } of adapters) if (modules) this.held.set(id, modules);
  }

  async forgetAdapter(id: string): Promise<void> {
    if (!this.held.delete(id)) return;
    await this.call({ kind: 'forgetAdapter', content: { id } });
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
  return new EngineClient(() => new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'engine' }) as unknown as Port);
}
