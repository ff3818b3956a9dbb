/// <reference lib="webworker" />
/** The engine worker: owns the model and the GPU so the UI thread never stalls. */
import type { Request, Response } from './messages';
import { OrtBackend } from './ort-backend';
import { SkillEngine } from './skill-engine';
import { WgslBackend } from './wgsl-backend';
import { EngineWorkerHandler } from './worker-handler';

const scope = self as unknown as DedicatedWorkerGlobalScope;

/**
 * onnxruntime-web starts its wasm threads as nested workers but listens for their errors only once its module is
 * compiled: a thread script refused or missing before then (seen: /ort/ served without COEP) left the load waiting forever.
 */
const NativeWorker = globalThis.Worker;
globalThis.Worker = class extends NativeWorker {
  constructor(url: string | URL, options?: WorkerOptions) {
    super(url, options);
    this.addEventListener('error', (e: Event) => {
      const what = (e as ErrorEvent).message || 'its script was refused or not found';
      const fatal: Response = { kind: 'fatal', id: 0, content: { name: 'EngineError', code: 'worker', message: `a WebAssembly thread failed to start or run (${String(url)}): ${what}` } };
      scope.postMessage(fatal);
    });
  }
};

const ortBase = new URL(`${import.meta.env.BASE_URL}ort/`, scope.location.origin).href;
const handler = new EngineWorkerHandler(new SkillEngine({ ort: new OrtBackend(ortBase), wgsl: new WgslBackend() }), (msg: Response, transfer?: Transferable[]) =>
  scope.postMessage(msg, transfer ?? []),
);
scope.onmessage = (ev: MessageEvent<Request>) => void handler.onMessage(ev.data);
