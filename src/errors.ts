/**
 * Typed errors: every failure the user can meet says what went wrong and where. A leaf module (it imports nothing
 * of the project), so every layer and both sides of the worker use the same classes. Each error has a code; an
 * error crosses the worker as an ErrorInfo (toErrorInfo) and comes back as the same class (fromErrorInfo).
 */

export type PackErrorCode =
  | 'manifest-invalid'
  | 'format-version'
  | 'file-missing'
  | 'checksum-mismatch'
  | 'truncated'
  | 'network';

/** A model pack that cannot be loaded: its manifest, a file, a checksum; `file` names the culprit where known. */
export class PackError extends Error {
  constructor(
    readonly code: PackErrorCode,
    message: string,
    readonly file?: string,
  ) {
    super(message);
    this.name = 'PackError';
  }
}

export type EngineErrorCode = 'no-pack' | 'no-hypernet' | 'busy' | 'backend' | 'input' | 'device-lost' | 'worker';

/** An engine that cannot do what was asked: no pack yet, a backend that fails, a lost device, a dead worker. */
export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** The error both engines give once their GPU device is lost: the store restarts the model on it. */
export function deviceLostError(reason: string): EngineError {
  return new EngineError('device-lost', `the GPU device was lost (${reason})`);
}

/** The list of packs (models/index.json) cannot say which pack to open. */
export class PackIndexError extends Error {
  readonly code = 'pack-index';
  constructor(message: string) {
    super(message);
    this.name = 'PackIndexError';
  }
}

/** misuse: a bad shape or too large a dispatch; gpu: an error the GPU reported; no-adapter: WebGPU has no adapter. */
export type KernelErrorCode = 'misuse' | 'gpu' | 'no-adapter';

/** A kernel misuse (bad shape, too large a dispatch) or a GPU error, prefixed with the kernel or job name. */
export class KernelError extends Error {
  constructor(
    message: string,
    readonly code: KernelErrorCode = 'misuse',
  ) {
    super(message);
    this.name = 'KernelError';
  }
}

/** A refusal the user reads as it is: it names the adapter file, tensor or setting that does not fit. */
export class AdapterFormatError extends Error {
  readonly code = 'adapter-format';
  constructor(message: string) {
    super(message);
    this.name = 'AdapterFormatError';
  }
}

/** A skill text (pasted or dropped) that cannot be used: empty, too large, binary. */
export class SkillInputError extends Error {
  readonly code = 'skill-input';
  constructor(message: string) {
    super(message);
    this.name = 'SkillInputError';
  }
}

/** A zip archive that cannot be read or written. */
export class ZipError extends Error {
  readonly code = 'zip';
  constructor(message: string) {
    super(message);
    this.name = 'ZipError';
  }
}

export type StorageProblem = 'unavailable' | 'quota' | 'failed';

/** The browser's storage (IndexedDB) failed: what happened to the user's data, in words. */
export class StorageError extends Error {
  constructor(
    readonly problem: StorageProblem,
    message: string,
  ) {
    super(message);
    this.name = 'StorageError';
  }

  get code(): StorageProblem {
    return this.problem;
  }
}

/** A plain, structured-clone-safe view of any error, for the worker boundary. */
export interface ErrorInfo {
  name: string;
  code?: string;
  message: string;
  file?: string;
}

/** How each typed error is rebuilt from its ErrorInfo: one entry per class above. */
const REBUILD = {
  PackError: (e) => new PackError(e.code as PackErrorCode, e.message, e.file),
  EngineError: (e) => new EngineError(e.code as EngineErrorCode, e.message),
  PackIndexError: (e) => new PackIndexError(e.message),
  KernelError: (e) => new KernelError(e.message, (e.code as KernelErrorCode | undefined) ?? 'misuse'),
  AdapterFormatError: (e) => new AdapterFormatError(e.message),
  SkillInputError: (e) => new SkillInputError(e.message),
  ZipError: (e) => new ZipError(e.message),
  StorageError: (e) => new StorageError(e.code as StorageProblem, e.message),
} satisfies Record<string, (e: ErrorInfo) => Error>;

export type TypedErrorName = keyof typeof REBUILD;
export const TYPED_ERROR_NAMES = Object.keys(REBUILD) as TypedErrorName[];

export function toErrorInfo(err: unknown): ErrorInfo {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const info: ErrorInfo = { name: err.name, message: err.message };
  const { code, file } = err as { code?: unknown; file?: unknown };
  if (typeof code === 'string') info.code = code;
  if (typeof file === 'string') info.file = file;
  return info;
}

/** The error an ErrorInfo describes: the same class for the typed errors above, else an Error of the same name. */
export function fromErrorInfo(e: ErrorInfo): Error {
  if (Object.hasOwn(REBUILD, e.name)) return REBUILD[e.name as TypedErrorName](e);
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}
