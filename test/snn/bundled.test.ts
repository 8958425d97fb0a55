import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { BUNDLED_MODELS, bundledModelDir, bundledRecording, ModelNotFoundError, modelDirFor, RecordingNotFoundError, packageRoot, resolveModelDir } from '../../src/snn/model/bundled';
import { loadClassifierModel } from '../../src/snn/model/classifier-model';
import { makeTempDir, repoRoot } from '../helpers/paths';

describe('bundled models and recordings by name', () => {
  it('finds the package root and every bundled model in it', () => {
    expect(packageRoot()).to.equal(repoRoot);
    for (const name of BUNDLED_MODELS) expect(fs.existsSync(path.join(bundledModelDir(name), 'spikestream.json')), name).to.equal(true);
  });

  it('loadClassifierModel takes a bundled name or a folder; a folder of that name here wins', () => {
    expect(loadClassifierModel('saccade-mnist').dir).to.equal(bundledModelDir('saccade-mnist'));
    expect(resolveModelDir(path.join(repoRoot, 'models', 'gesture'))).to.equal(path.join(repoRoot, 'models', 'gesture'));
    const cwd = process.cwd();
    const dir = makeTempDir();
    try {
      fs.mkdirSync(path.join(dir, 'gesture'));
      process.chdir(dir);
      expect(modelDirFor('gesture')).to.equal('gesture');
      expect(() => resolveModelDir('gesture')).to.throw(ModelNotFoundError, `${path.join(fs.realpathSync(dir), 'gesture')} holds no spikestream.json`);
    } finally {
      process.chdir(cwd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a name that is no model says what it looked at and which names exist', () => {
    expect(() => resolveModelDir('gestures')).to.throw(ModelNotFoundError, /gestures does not exist: give a model folder or a bundled model name \(gesture, saccade-mnist, saccade-fashion\)/);
  });

  it('bundledRecording gives the full path; an unknown name or a path out of recordings/ lists the bundled ones', () => {
    expect(bundledRecording('gestures/user30_natural.aedat')).to.equal(path.join(repoRoot, 'recordings', 'gestures', 'user30_natural.aedat'));
    for (const bad of ['gestures/nope.aedat', '../package.json', 'gestures']) {
      expect(() => bundledRecording(bad), bad).to.throw(RecordingNotFoundError, /no bundled recording .*gestures\/user30_natural\.aedat/);
    }
  });
});
