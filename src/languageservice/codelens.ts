import { RUN_COMMAND, RUN_SWEEP_COMMAND } from '../shared/lsp-protocol';
import type { ExperimentDocument } from './document';
import type { CodeLens } from './types';

/**
 * "▶ Run experiment" at the top of every experiment file, and "▶ Run sweep" when it has a `sweep`
 * section. The commands are the extension's; the argument is the document URI.
 */
export function codeLens(doc: ExperimentDocument): CodeLens[] {
  const { uri } = doc;
  const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  const lenses: CodeLens[] = [{ range, command: { title: '▶ Run experiment', command: RUN_COMMAND, arguments: [uri] } }];
  if (doc.positions.entries.some((e) => e.path.length === 1 && e.key === 'sweep')) {
    lenses.push({ range, command: { title: '▶ Run sweep', command: RUN_SWEEP_COMMAND, arguments: [uri] } });
  }
  return lenses;
}
