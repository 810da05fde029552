// Alerts: the model, the engine that runs the detectors, configuration and baselines.
export type { Alert, AlertKind, AlertSink, AlertSpec, Category, Entity, EntityKind, Evidence, EvidenceValue, ProofLike, Severity } from './types';
export { SEVERITIES } from './types';
export { alertId, ALERT_ID_LENGTH } from './ids';
export { createEngine, type Engine, type EngineMode, type EngineOptions, type EngineStats, type DetectorStats } from './engine';
export { validateConfig, loadConfig, ConfigError, ENGINE_DEFAULTS, type ResolvedConfig, type EngineSettings, type DetectorSettings } from './config';
export { parseBaseline, loadBaseline, BASELINE_FORMAT, BASELINE_VERSION, type BaselineFile } from './baseline-file';
export { detectorCatalogue, type CatalogueEntry, type CatalogueTunable } from './catalogue';
export { BaselineError } from '../../detectors/lib/detector';
export type { InputEvent } from '../../detectors/lib/detector';
