/// <reference lib="webworker" />
/** The engine worker: owns the model and the GPU so the UI thread never stalls. */
import type { Request, Response } from './messages';
import { EngineSwitch } from './engine-switch';
import { OrtEngine } from './ort-engine';
import { WgslEngine } from './wgsl-engine';
import { EngineWorkerHandler } from './worker-handler';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const ortBase = new URL(`${import.meta.env.BASE_URL}ort/`, scope.location.origin).href;
const handler = new EngineWorkerHandler(new EngineSwitch({ ort: new OrtEngine(ortBase), wgsl: new WgslEngine() }), (msg: Response, transfer?: Transferable[]) =>
  scope.postMessage(msg, transfer ?? []),
);
scope.onmessage = (ev: MessageEvent<Request>) => void handler.onMessage(ev.data);
