/// <reference lib="webworker" />
/** The engine worker: owns the model and the GPU so the UI thread never stalls. */
import type { Request, Response } from './messages';
import { OrtEngine } from './ort-engine';
import { EngineWorkerHandler } from './worker-handler';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const ortBase = new URL(`${import.meta.env.BASE_URL}ort/`, scope.location.origin).href;
const handler = new EngineWorkerHandler(new OrtEngine(ortBase), (msg: Response, transfer?: Transferable[]) =>
  scope.postMessage(msg, transfer ?? []),
);
scope.onmessage = (ev: MessageEvent<Request>) => void handler.onMessage(ev.data);
