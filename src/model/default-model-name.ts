// In a module of its own, without imports, so that the web page (web/main.ts) can name the default model too.
/**
 * The model `--method isfuse` uses when neither a model nor a weights file is named: the paper's recipe
 * (docs/TRAINING.md). A model trained with another loss takes its place only when it out-ranks it (docs/QUALITY.md).
 */
export const DEFAULT_MODEL_NAME = 'isfuse-paper';
