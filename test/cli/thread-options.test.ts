import { expect } from 'chai';
import { cliThreads, defaultThreads, describeThreads } from '../../src/cli/thread-options';

describe('thread defaults (serve, start, replay)', () => {
  it('one thread below 4 cores (measured: worker threads were slower on 2), else one worker per core but one', () => {
    expect([1, 2, 3, 4, 8, 16].map((n) => defaultThreads(n))).to.deep.equal([1, 1, 1, 3, 7, 15]);
  });

  it('--threads wins over the default, and the line says which and why', () => {
    expect(cliThreads({ threads: 3 })).to.deep.equal({ threads: 3, given: true });
    expect(cliThreads({})).to.deep.equal({ threads: defaultThreads(), given: false });
    expect(describeThreads(1, false, 2)).to.equal('classifying on 1 thread (all on the main thread): the default on this 2-core machine, where one thread measured faster than worker threads; --threads to change it');
    expect(describeThreads(7, false, 8)).to.equal('classifying on 7 worker threads (the main thread keeps the sockets): the default on this 8-core machine; --threads to change it');
    expect(describeThreads(2, true, 2)).to.equal('classifying on 2 worker threads (the main thread keeps the sockets): as given with --threads');
  });
});
