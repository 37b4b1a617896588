// Text that came from a file (expert labels from a cache or a model's profile corpus, token text) shown in the UI.
// In Markdown (hovers) it is escaped so that it stays text: no link, image, HTML or autolinked URL can render from it.
// In quick picks and tree items (plain strings with codicon syntax) "$(" is escaped so no icon renders. Pure.

/** Every ASCII punctuation character Markdown (CommonMark + GFM autolinks) can give meaning to. */
const MARKDOWN_SPECIAL = /[\\`*_{}[\]()#+\-.!|<>~&:"'=/@$%^]/g;

/** The text as literal Markdown: punctuation backslash-escaped, line breaks and control characters as spaces. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\x00-\x1f\x7f\u2028\u2029]/g, ' ').replace(MARKDOWN_SPECIAL, (c) => `\\${c}`);
}

/** For plain-text UI (quick pick items, tree descriptions and tooltips): no control characters, no codicon syntax. */
export function plainLabel(text: string, max = 200): string {
  const flat = text.replace(/[\x00-\x1f\x7f\u2028\u2029]/g, ' ').replace(/\$\(/g, '$\u200b(');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
