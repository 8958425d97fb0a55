/**
 * The models and recordings shipped in the package, reachable by name wherever spikestream is
 * installed: `loadClassifierModel('gesture')`, `bundledRecording('gestures/user30_natural.aedat')`.
 */
import * as fs from 'fs';
import * as path from 'path';

/** The bundled models, by name (folders under the package's `models/`). */
export const BUNDLED_MODELS = ['gesture', 'saccade-mnist', 'saccade-fashion'] as const;
export type BundledModelName = (typeof BUNDLED_MODELS)[number];

/** A model folder or a bundled model name that is neither. */
export class ModelNotFoundError extends Error {
  override readonly name = 'ModelNotFoundError';
}

/** A bundled recording's name that is none. */
export class RecordingNotFoundError extends Error {
  override readonly name = 'RecordingNotFoundError';
}

/** The installed package's folder (the one holding `models/` and `recordings/`): the nearest above the compiled code. */
export function packageRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'models', 'gesture', 'spikestream.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '..', '..', '..', '..');
  }
}

export function isBundledModelName(name: string): name is BundledModelName {
  return (BUNDLED_MODELS as readonly string[]).includes(name);
}

/** The folder of a bundled model. */
export function bundledModelDir(name: BundledModelName): string {
  return path.join(packageRoot(), 'models', name);
}

/** The full path of a bundled recording, e.g. `gestures/user30_natural.aedat`; a name that is none is an error listing them. */
export function bundledRecording(name: string): string {
  const root = path.join(packageRoot(), 'recordings');
  const file = path.resolve(root, name);
  if (file.startsWith(root + path.sep) && fs.existsSync(file) && fs.statSync(file).isFile()) return file;
  const known = listFiles(root).filter((f) => !/(\.md|\.txt|\.csv)$/.test(f));
  throw new RecordingNotFoundError(`no bundled recording '${name}' (bundled: ${known.join(', ')})`);
}

/**
 * The model folder `dirOrName` names: an existing folder as given, else a bundled model's folder.
 * Neither is a ModelNotFoundError naming the full path looked at and the bundled names.
 */
export function resolveModelDir(dirOrName: string): string {
  const dir = modelDirFor(dirOrName);
  if (fs.existsSync(path.join(dir, 'spikestream.json'))) return dir;
  const why = fs.existsSync(dir) ? 'holds no spikestream.json' : 'does not exist';
  throw new ModelNotFoundError(`${path.resolve(dir)} ${why}: give a model folder or a bundled model name (${BUNDLED_MODELS.join(', ')})`);
}

/** The path as given when it exists (a folder of that name wins), else a bundled model's folder when it is one's name. */
export function modelDirFor(dirOrName: string): string {
  return !fs.existsSync(dirOrName) && isBundledModelName(dirOrName) ? bundledModelDir(dirOrName) : dirOrName;
}

function listFiles(dir: string, prefix = ''): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}
