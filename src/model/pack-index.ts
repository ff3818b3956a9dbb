/** Which pack the app opens: ?pack=<id or URL>, else the default named by models/index.json (vite.config.ts writes it). */

import { PackIndexError } from '../errors';

export { PackIndexError };

const HINT = 'open a pack below, or name one in the address (?pack=<id>)';

/** The pack URL to load; a missing or broken index is an error naming it, never a silent switch to another pack. */
export async function resolvePackUrl(params: URLSearchParams, base: string, fetchFn: typeof fetch = fetch): Promise<string> {
  const requested = params.get('pack');
  if (requested && /^https?:\/\//.test(requested)) return requested;
  if (requested) return `${base}models/${encodeURIComponent(requested)}/`;
  const file = `${base}models/index.json`;
  let response: Response;
  try {
    response = await fetchFn(file, { cache: 'no-cache' });
  } catch (e) {
    throw new PackIndexError(`the list of packs (${file}) could not be fetched (${(e as Error).message}); ${HINT}`);
  }
  if (!response.ok) throw new PackIndexError(`the list of packs (${file}) answered HTTP ${response.status}; ${HINT}`);
  let index: unknown;
  try {
    index = await response.json();
  } catch {
    throw new PackIndexError(`the list of packs (${file}) is not valid JSON; ${HINT}`);
  }
  const id = (index as { default?: unknown } | null)?.default;
  if (typeof id !== 'string' || !id) throw new PackIndexError(`the list of packs (${file}) names no default pack (no pack is installed?); ${HINT}`);
  return `${base}models/${encodeURIComponent(id)}/`;
}
