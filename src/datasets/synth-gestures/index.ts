/**
 * Synthetic hand/arm gestures in the DVS128 Gesture layout.
 *
 * A procedural scene (128×128 linear intensity) of a lit, person-like figure — textured
 * background, torso, neck, head, and two arms (upper arm, forearm, hand) drawn as soft-edged
 * capsules — whose wrists follow each class's trajectory; elbows come from two-link inverse
 * kinematics. The scene is fed through the DVS emulator (src/emulator) frame by frame at an
 * adaptive frame rate (the arms move at most ~0.5 px per frame, 0.5–10 ms per frame), and only
 * the pixels the arms covered in the previous or the current frame are re-rendered and
 * re-emulated (the rest of the scene is static; it contributes background noise only).
 *
 * One "user file" is one continuous recording: a lead-in at rest, then every class once (plus
 * a few repeats) in a shuffled order, each gesture ≥ 1.5 s between short pauses in which the
 * arms move from and back to rest. Labels are the gesture windows, in the recording's µs.
 *
 * Coordinates: the camera faces the subject; the subject's right arm is on the image's left
 * (small x); origin upper-left as in AEDAT 3.1. "Clockwise" is as seen by the camera.
 *
 * Per-class motion energy is normalised: each gesture instance is time-scaled so that the area
 * its limbs sweep per second (an estimate of its event rate) matches a per-subject target,
 * with a per-class gain measured on a pilot set for what the estimate misses (arms in front of
 * the torso show less contrast than against the background). Total event counts therefore
 * carry almost no class information; the motion itself does.
 *
 * The parts: params (sizes, lightings, types, body proportions), motion (trajectories and IK),
 * plan, scene (rendering), emulate, files (the DVS128 Gesture folder).
 */
export {
  LIGHTING_PARAMS,
  lightingParams,
  SYNTH_CLASS_IDS,
  SYNTH_HEIGHT,
  SYNTH_LIGHTINGS,
  SYNTH_WIDTH,
  SYNTH_WORLDS,
  type BodyProportions,
  type Distractor,
  type GestureSegment,
  type GestureStyle,
  type SynthWorld,
  type WorldParams,
  type LightingParams,
  type PlanOptions,
  type RecordingPlan,
  type SubjectParams,
} from './params';
export { CLASS_RATE_GAIN, makeSubject, planRecording } from './plan';
export { gestureWrists, Skeleton, wristsAt } from './motion';
export { GestureScene } from './scene';
export { drawWorld, makeRandomizedSubject } from './world';
export { perturbationNamed, SYNTH_PERTURBATIONS, type Perturbation } from './perturb';
export { emulateRecording, type EmulateRecordingOptions, type EmulateRecordingStats } from './emulate';
export {
  generateSynthGestures,
  labelsCsv,
  planSynthGestures,
  trialBaseName,
  writeSynthRecording,
  type SynthFileSummary,
  type SynthGesturesOptions,
  type SynthGesturesProgress,
  type SynthGesturesResult,
} from './files';
