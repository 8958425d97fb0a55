/**
 * A named weight tensor as plain data. Apart from ann.ts so that what only handles weights
 * (conversion, model files, the public types) never pulls TF.js's declarations into a user's build.
 */
export interface NamedWeight {
  name: string;
  shape: number[];
  data: Float32Array;
}
