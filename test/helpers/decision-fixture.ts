import type { Decision } from '../../streams/types';

/** A complete, plausible `Decision` for tests: an early, confident answer at step 4 of 16; override what the test is about. */
export function makeDecision(o: Partial<Decision> = {}): Decision {
  return {
    streamId: 's',
    sampleId: 's#0',
    label: 1,
    className: 'b',
    confidence: 0.9,
    paperConfidence: 0.9,
    stopRule: 'paper',
    confident: true,
    steps: 4,
    maxSteps: 16,
    early: true,
    stoppedBy: 'confidence',
    sampleStartUs: 1_000_000,
    eventTimeUs: 1_400_000,
    latencyMs: 2,
    eventsConsumed: 1000,
    spikesPerNeuron: 0.1,
    ...o,
  };
}
