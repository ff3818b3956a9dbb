import { describe, expect, it } from 'vitest';
import { resolvePackUrl } from './pack-index';

/** fetch answering with a real Response (Node's), or failing as fetch does offline. */
const answer = (body: string | Error, status = 200) => (async () => {
  if (body instanceof Error) throw body;
  return new Response(body, { status, headers: { 'Content-Type': 'application/json' } });
}) as unknown as typeof fetch;

const resolve = (search: string, fetchFn: typeof fetch) => resolvePackUrl(new URLSearchParams(search), '/', fetchFn);

describe('resolvePackUrl', () => {
  it('opens the pack the address names, without reading the index', async () => {
    const never = (() => Promise.reject(new Error('fetched'))) as unknown as typeof fetch;
    await expect(resolve('?pack=tiny-random', never)).resolves.toBe('/models/tiny-random/');
    await expect(resolve('?pack=https://example.org/p/', never)).resolves.toBe('https://example.org/p/');
  });

  it('opens the default the index names', async () => {
    await expect(resolve('', answer('{"default":"gemma-3-270m","packs":["gemma-3-270m"]}'))).resolves.toBe('/models/gemma-3-270m/');
  });

  it.each([
    ['a 404', answer('not found', 404), /the list of packs \(\/models\/index\.json\) answered HTTP 404; open a pack below/],
    ['bad JSON', answer('{"default": '), /the list of packs \(\/models\/index\.json\) is not valid JSON/],
    ['no default', answer('{"default":null,"packs":[]}'), /names no default pack/],
    ['a network failure', answer(new TypeError('Failed to fetch')), /could not be fetched \(Failed to fetch\)/],
  ])('refuses %s with a message naming the index, never another pack', async (_what, fetchFn, message) => {
    await expect(resolve('', fetchFn)).rejects.toThrow(message);
  });
});
