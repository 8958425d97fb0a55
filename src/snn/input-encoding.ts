/**
 * What a frame's two channels hold.
 *
 * - `polarity` (Tonic's ToFrame, the DVS128 Gesture convention): channel 0 counts OFF events, 1 ON.
 * - `time-split`: channel 0 counts the events (either polarity) of the first half of the step, 1 those
 *   of the second half (by time for time bins, by event index for count bins).
 * - `time-ramp`: channel 0 counts the events (either polarity); channel 1 sums the same events each
 *   weighted by how far into the sample it came, w = (t − t_start) / (T · bin) clipped to [0, 1] (for
 *   count bins: the event's index in the sample over T · events per bin). Summed over steps, channel 1
 *   over channel 0 is the mean arrival time of each pixel's events: an "average timestamp image".
 *
 * Why the last two exist: a converted SNN integrates its input, so what it answers from after k steps
 * is (close to) the ANN's answer on the sum of the first k frames; the order of the steps is gone. With
 * polarity, a motion's direction is read from which polarity leads a moving edge — but a bright limb
 * moving right gives exactly the events of a dark limb moving left, so direction and contrast cannot be
 * told apart. Both time encodings are polarity-invariant by construction. `time-split` keeps the order
 * only inside each step (summed over steps it alternates early, late, early, … along a path, so only
 * the path's ends tell the direction); `time-ramp` keeps it across the whole sample, a ramp along the
 * path that survives the sum.
 */
export type InputEncoding = 'polarity' | 'time-split' | 'time-ramp';

export const INPUT_ENCODINGS: readonly InputEncoding[] = ['polarity', 'time-split', 'time-ramp'];

/** The encoding named by `value`, or a RangeError naming `what` (undefined → 'polarity'). */
export function parseInputEncoding(value: unknown, what = 'encoding'): InputEncoding {
  if (value === undefined) return 'polarity';
  if (value === 'polarity' || value === 'time-split' || value === 'time-ramp') return value;
  throw new RangeError(`${what} must be one of ${INPUT_ENCODINGS.join(', ')} (got ${JSON.stringify(value)})`);
}

/** The channels' names, for reports and the viewer. */
export function channelNames(encoding: InputEncoding): readonly [string, string] {
  if (encoding === 'time-split') return ['first half of the step', 'second half of the step'];
  if (encoding === 'time-ramp') return ['events', 'events weighted by their time in the sample'];
  return ['OFF', 'ON'];
}
