/** Typed errors: every failure the user can meet says what went wrong and where. */

export type PackErrorCode =
  | 'manifest-invalid'
  | 'format-version'
  | 'file-missing'
  | 'checksum-mismatch'
  | 'truncated'
  | 'network';

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

export class EngineError extends Error {
  constructor(
    readonly code: 'no-pack' | 'no-hypernet' | 'busy' | 'backend' | 'input' | 'device-lost' | 'worker',
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

/** A plain, structured-clone-safe view of any error, for the worker boundary. */
export interface ErrorInfo {
  name: string;
  code?: string;
  message: string;
  file?: string;
}

export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof PackError) return { name: err.name, code: err.code, message: err.message, file: err.file };
  if (err instanceof EngineError) return { name: err.name, code: err.code, message: err.message };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}
