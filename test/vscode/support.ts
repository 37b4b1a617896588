// Shared by the extension-host tests (bundled into each test file by esbuild).

export const EXT = 'moe-lens.moe-lens';

/** Polls `f` until it gives a truthy value (the extension and its server work asynchronously). */
export async function until<T>(f: () => Promise<T | undefined> | T | undefined, ms = 90000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}
