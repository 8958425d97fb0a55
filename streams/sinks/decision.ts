/** Decision and StepTrace live in streams/types.ts; re-exported here for the sinks. */
export type { Decision, StepTrace, StopReason } from '../types';
