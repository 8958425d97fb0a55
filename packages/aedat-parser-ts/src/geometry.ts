/** Sensor size in pixels. Coordinates satisfy 0 <= x < width, 0 <= y < height. */
export interface Geometry {
  readonly width: number;
  readonly height: number;
}
