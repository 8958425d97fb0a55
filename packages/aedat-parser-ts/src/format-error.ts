/**
 * A decoder's or loader's report of bad input: which file, where in it, and why.
 * `file` is filled in by whoever knows the path (file sources, loaders); decoders that only
 * see bytes leave it undefined and callers attach it with `withFile`.
 */
export class FormatError extends Error {
  override readonly name: string = 'FormatError';
  constructor(
    readonly format: string,
    /** Byte offset from the start of the input (or line number for text formats, see `unit`). */
    readonly offset: number,
    readonly reason: string,
    readonly file?: string,
    readonly unit: 'byte' | 'line' = 'byte',
  ) {
    super(`${file ?? '<input>'}: ${format} ${unit} ${offset}: ${reason}`);
  }

  withFile(file: string): FormatError {
    return new FormatError(this.format, this.offset, this.reason, file, this.unit);
  }
}

/** Rethrows FormatErrors with the file name attached; other errors pass through unchanged. */
export function attachFile(err: unknown, file: string): unknown {
  if (err instanceof FormatError && err.file === undefined) return err.withFile(file);
  return err;
}
