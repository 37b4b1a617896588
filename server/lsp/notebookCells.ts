// Jupyter notebooks over LSP 3.17 notebook document sync: the client sends each notebook with its cells in order,
// and the cells' text documents go into the server's one document store (so hover, moeLens/routing and every other
// request treat a cell as a document). Under moeLens.notebook.context "cellsAbove" a cell is read after the cells
// above it (server/analysis/cellContext.ts); a change anywhere in a notebook re-schedules its cells, and the analyses
// (documentAnalyses.ts) re-run only those whose prefix changed, debounced per cell, so typing in a cell above
// costs one analysis per cell below after the typing stops. A closed notebook's cells close with it.
import { NotebookDocuments, type TextDocuments } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { cellsAbovePrefix } from '../analysis/cellContext';
import type { Server } from './serverState';

/** What the server declares at initialize: every cell of every notebook, whatever its language (markdown too). */
export const NOTEBOOK_SYNC = { notebookSelector: [{ notebook: '*', cells: [{ language: '*' }] }] };

export class NotebookCells {
  readonly notebooks: NotebookDocuments<TextDocument>;

  constructor(private readonly documents: TextDocuments<TextDocument>) {
    this.notebooks = new NotebookDocuments(documents);
  }

  /** The text of the non-empty cells above this cell, as the model reads it; undefined for a first cell or a non-cell. */
  prefix(cellUri: string): { text: string; cells: number } | undefined {
    const notebook = this.notebooks.findNotebookDocumentForCell(cellUri);
    const index = notebook ? notebook.cells.findIndex((c) => c.document === cellUri) : -1;
    if (!notebook || index <= 0) return undefined;
    const above = notebook.cells.slice(0, index).map((c) => this.documents.get(c.document)?.getText() ?? '').filter((t) => t.length > 0);
    return above.length ? { text: cellsAbovePrefix(above), cells: above.length } : undefined;
  }
}

/** What the model reads before this document: a notebook cell's cells above (unless "cellAlone"), else nothing. */
export function cellPrefix(s: Pick<Server, 'notebookCells' | 'state'>, uri: string): { text: string; cells: number } | undefined {
  return s.state.settings.notebook?.context === 'cellAlone' ? undefined : s.notebookCells.prefix(uri);
}

/** Listens for the notebook notifications; a change re-schedules the notebook's cells when they are read in context. */
export function registerNotebooks(s: Server): void {
  s.notebookCells.notebooks.onDidChange((e) => {
    if (s.state.settings.notebook?.context === 'cellAlone') return;
    for (const cell of e.notebookDocument.cells) if (s.documents.get(cell.document)) s.analyses.schedule(cell.document);
  });
  s.notebookCells.notebooks.listen(s.connection);
}
