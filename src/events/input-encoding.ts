/**
 * What a frame's two channels hold.
 *
 * - `polarity` (Tonic's ToFrame, the DVS128 Gesture convention): channel 0 counts OFF events, 1 ON.
 * - `time-split`: channel 0 counts the events (either polarity) of the first half of the step, 1 those
 *   of the second half (by time for time bins, by event index for count bins).
 *
 * Why `time-split` exists: a network that integrates frames over steps (an ANN trained on the mean of
 * the first k frames, converted to integrate-and-fire) sees no order between steps, so the direction
 * of a motion must be readable inside one frame. With polarity it is read from which polarity leads a
 * moving edge, and a bright limb moving right gives exactly the events of a dark limb moving left:
 * direction and contrast cannot be told apart. The two halves of a step show the direction by where
 * the later events lie against the earlier ones, whatever the contrast, so the encoding is
 * polarity-invariant by construction.
 */
export type InputEncoding = 'polarity' | 'time-split';

export const INPUT_ENCODINGS: readonly InputEncoding[] = ['polarity', 'time-split'];

/** The encoding named by `value`, or a RangeError naming `what` (undefined → 'polarity'). */
export function parseInputEncoding(value: unknown, what = 'encoding'): InputEncoding {
  if (value === undefined) return 'polarity';
  if (value === 'polarity' || value === 'time-split') return value;
  throw new RangeError(`${what} must be one of ${INPUT_ENCODINGS.join(', ')} (got ${JSON.stringify(value)})`);
}

/** The channels' names, for reports and the viewer. */
export function channelNames(encoding: InputEncoding): readonly [string, string] {
  return encoding === 'time-split' ? ['first half of the step', 'second half of the step'] : ['OFF', 'ON'];
}
