/** Event batches for tests: the seeded generator lives with the decoder tests' fixtures. */
export { randomEvents } from '../../packages/aedat-parser-ts/test/helpers/fixtures';
