import type { AlertKind } from '../../shared/protocol';

/** Every alert kind, for guards (the protocol declares the type only). */
export const ALERT_KIND_LIST: readonly AlertKind[] = ['nan', 'explosion', 'collapse', 'collapse-at-mask', 'mask-integrity'];
