/**
 * A minimal finished run summary for tests that need a run folder to read as finished: one sparse
 * net of one step, zero metrics, and flow points whose EGF₂ values are `egf2` (their mean is the
 * net's flow average).
 */
import type { RunSummary } from '../../src/shared/protocol';

export function finishedSummary(runId: string, runDir: string, egf2: number[] = [1, 2, 3]): RunSummary {
  const zero = { loss: 0, accuracy: 0 };
  return {
    runId,
    runDir,
    backend: 'cpu',
    finished: true,
    stopped: false,
    nets: [
      {
        net: 'sparse',
        steps: 1,
        epochs: 1,
        final: { train: zero, validation: zero, test: zero },
        flowAverage: { egf1: 0, egf2: egf2.reduce((a, b) => a + b, 0) / egf2.length, g1: 0, g2: 0 },
        flowPoints: egf2.map((v, index) => ({ net: 'sparse', epoch: index, index, egf1: 0, egf2: v, g1: 0, g2: 0 })),
        layers: [],
        msPerStep: 1,
      },
    ],
    alerts: [],
    startedAt: '2026-01-01T00:00:00Z',
    endedAt: '2026-01-01T00:01:00Z',
  };
}
