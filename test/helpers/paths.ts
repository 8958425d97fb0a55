/** Where tests find the repository and ../shared (the latter shared with the aedat-parser-ts tests). */

/** The repository root: tests run with it as the working directory (`npm test`). */
export const repoRoot = process.cwd();

export { SHARED_MISSING, makeTempDir, readSharedRecording, sharedDir, sharedRecording } from '../../packages/aedat-parser-ts/test/helpers/recordings';
