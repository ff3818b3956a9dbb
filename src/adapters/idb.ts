/** The small IndexedDB plumbing the adapter library and the chat history share: each keeps its own database. */

/** A request's result as a promise. */
export function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/** Resolves when the transaction commits; rejects (with the cause, e.g. QuotaExceededError) when it aborts. */
export function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new DOMException('The transaction was aborted', 'AbortError'));
    tx.onerror = () => undefined; // onabort follows with the same error
  });
}

/**
 * Open (and create or upgrade with `upgrade`) database `name` at `version`. Rejects with what `factory.open` throws,
 * the request's error, or `blocked()` when another tab holds an older version open.
 */
export function openDatabase(factory: IDBFactory, name: string, version: number, upgrade: (db: IDBDatabase) => void, blocked: () => Error): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    let req: IDBOpenDBRequest;
    try {
      req = factory.open(name, version);
    } catch (e) {
      reject(e);
      return;
    }
    req.onupgradeneeded = () => upgrade(req.result);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(blocked());
  });
}

/** The page's IndexedDB, or undefined: merely reading `indexedDB` throws where site data is blocked. */
export function pageIndexedDb(): IDBFactory | undefined {
  try {
    return globalThis.indexedDB ?? undefined;
  } catch {
    return undefined;
  }
}
