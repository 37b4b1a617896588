// FILE|GLOB arguments of `moe-lens stats` -> files. Shells expand globs already; this covers quoted patterns and
// shells that do not (`*` within a path segment, `**` across folders, `?`), in sorted order.
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const GLOB = /[*?]/;

/** A glob as a regular expression over '/'-separated relative paths. */
export function globRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      re += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === '.git') continue;
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (st?.isDirectory()) walk(p, out);
    else if (st?.isFile()) out.push(p);
  }
}

/** Each argument: a path as is, or the files its glob matches (none: the pattern itself, so the caller reports it). */
export function expandGlobs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    if (!GLOB.test(a)) {
      out.push(a);
      continue;
    }
    const parts = a.split(/[\\/]/);
    const fixed = parts.slice(0, parts.findIndex((p) => GLOB.test(p)));
    const root = fixed.length ? fixed.join('/') || '/' : '.';
    const re = globRegExp(parts.slice(fixed.length).join('/'));
    const found: string[] = [];
    if (statSync(root, { throwIfNoEntry: false })?.isDirectory()) walk(root, found);
    const matched = found.filter((f) => re.test(relative(root, f).split(sep).join('/'))).sort();
    out.push(...(matched.length ? matched : [a]));
  }
  return out;
}
