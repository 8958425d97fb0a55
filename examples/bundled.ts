/** The bundled model and recording the examples use, by name (they ship in the package: see bundledRecording). */
import { bundledModelDir, bundledRecording } from 'spikestream';

/** The bundled default model: 11-class DVS128-Gesture-layout QCFS SNN, T = 16, 100 ms bins. */
export const BUNDLED_MODEL = bundledModelDir('gesture');
/** The bundled 28 s recording (AEDAT 3.1, 128×128) with 11 labelled gestures beside it. */
export const BUNDLED_RECORDING = bundledRecording('gestures/user30_natural.aedat');

/** `ws://host:port` from `http://host:port` (or a ws URL as is), without a trailing slash. */
export function wsBase(url: string): string {
  return url.replace(/^http(s?):/, 'ws$1:').replace(/\/+$/, '');
}
