// The ids of every MoE Lens command, in package.json's order. Pure (no vscode import): extension/commands.ts keys
// its table by these types, so a command without a handler (or a handler without an id) fails to compile, and
// test/unit/commands.test.ts holds this list to package.json's contributes.commands.

export const COMMAND_IDS = [
  'moeLens.selectHeatmap',
  'moeLens.showRoutingPanel',
  'moeLens.disableExpert',
  'moeLens.forceExpert',
  'moeLens.biasExpert',
  'moeLens.resetExpert',
  'moeLens.resetAllExperts',
  'moeLens.toggleExpertAtCursor',
  'moeLens.savePreset',
  'moeLens.loadPreset',
  'moeLens.deletePreset',
  'moeLens.exportSteering',
  'moeLens.importSteering',
  'moeLens.compareContinuation',
  'moeLens.findContrastiveExperts',
  'moeLens.selectModel',
  'moeLens.importModel',
  'moeLens.deleteImportedModel',
  'moeLens.verifyModel',
  'moeLens.routingStatistics',
  'moeLens.pruneExperts',
  'moeLens.applyPruningAsSteering',
  'moeLens.exportPrunedModel',
  'moeLens.useExportedModel',
  'moeLens.expertOffloading',
  'moeLens.openRoutingTrace',
  'moeLens.closeRoutingTrace',
  'moeLens.restartServer',
  'moeLens.showOutput',
  'moeLens.openRoutingPanelBeside',
  'moeLens.toggleHoverLayers',
  'moeLens.openSample',
  'moeLens.exportRouting',
] as const;

/** For tests and scripts, not in package.json: decorated token counts, a document's expert usage, the whole state. */
export const DEBUG_COMMAND_IDS = ['moeLens._debugDecorationCounts', 'moeLens._debugUsage', 'moeLens._debugState'] as const;

export type CommandId = (typeof COMMAND_IDS)[number] | (typeof DEBUG_COMMAND_IDS)[number];
