// Which documents MoE Lens analyses, by URI scheme: one list for the language client's document selector, every
// extension view that asks for routing, and the server (which ignores any other document it is sent). Text the user
// wrote: files, untitled buffers, Jupyter notebook cells (vscode-notebook-cell:, synced by LSP notebook document sync,
// server/lsp/notebookCells.ts). Not: our own continuation documents (moe-lens-continuation:), output channels
// (output:), diff originals and history (git:, vscode-scm:, gitlens:), settings and other virtual documents — asking
// the server about them only filled the log with "is not open".

export const ANALYSED_SCHEMES = ['file', 'untitled', 'vscode-notebook-cell'] as const;

/** The scheme of a notebook cell's text document (VS Code's; the LSP notebook sync names cells by it too). */
export const NOTEBOOK_CELL_SCHEME = 'vscode-notebook-cell';

/** Whether a document with this URI scheme is analysed (a scheme, or a URI string like "file:///a.py"). */
export function isAnalysedScheme(schemeOrUri: string): boolean {
  const colon = schemeOrUri.indexOf(':');
  const scheme = colon < 0 ? schemeOrUri : schemeOrUri.slice(0, colon);
  return (ANALYSED_SCHEMES as readonly string[]).includes(scheme.toLowerCase());
}

/** The language client's document selector (every language: routing is about any text the model reads). */
export const analysedSelector = (): { scheme: string }[] => ANALYSED_SCHEMES.map((scheme) => ({ scheme }));
