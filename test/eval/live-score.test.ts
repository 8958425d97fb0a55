import { expect } from 'chai';
import { chooseLiveTheta, isLateAnswer, keepsConstraints, scoreLive, targetShortfall, windowsAt, type LiveScore } from '../../src/eval/live';
import { decisionKind, plotLiveTimeline } from '../../src/eval/live-figure';
import { isRightLive, liveCalibration, liveTrueLabel, NO_GESTURE } from '../../src/eval/live-score';
import { renderLiveMarkdown } from '../../src/eval/live-report';
import { makeDecision } from '../helpers/decision-fixture';

const ms = (x: number) => x * 1000;
// Two gestures: class 3 over (1.0 s, 3.0 s], class 5 over (4.0 s, 6.0 s].
const windows = [
  { tStart: ms(1000), tEnd: ms(3000), label: 3 },
  { tStart: ms(4000), tEnd: ms(6000), label: 5 },
];
/** A decision given at `at` ms with class `label`; confident unless said otherwise. */
const d = (at: number, label: number, o: { confident?: boolean; steps?: number; start?: number } = {}) =>
  makeDecision({
    label,
    eventTimeUs: ms(at),
    sampleStartUs: ms(o.start ?? at - 300),
    confident: o.confident ?? true,
    confidence: o.confident === false ? 0.2 : 0.8,
    steps: o.steps ?? 3,
    early: o.confident !== false,
    stoppedBy: o.confident === false ? 'max-steps' : 'confidence',
  });

describe('live scoring (decisions against label windows)', () => {
  it('a decision belongs to the window it was given in: start < t ≤ end', () => {
    expect(windowsAt(windows, ms(1000))).to.have.length(0);
    expect(windowsAt(windows, ms(1000) + 1)[0].label).to.equal(3);
    expect(windowsAt(windows, ms(3000))[0].label).to.equal(3);
    expect(windowsAt(windows, ms(3500))).to.have.length(0);
  });

  it('scores hand-made decisions: accuracy inside windows, first answer, outside share, uncertain apart', () => {
    const decisions = [
      d(800, 3), // before the first window: an answer outside
      d(1200, 7), // first answer in gesture 3: wrong
      d(1500, 3), // right, 500 ms after its start
      d(2000, 3, { confident: false, steps: 16 }), // uncertain: not an answer, never right or wrong
      d(3400, 3), // between the gestures: outside
      d(4300, 5), // first answer in gesture 5: right, 300 ms after its start
      d(5000, 2), // wrong
    ];
    const s = scoreLive([{ streamId: 'a', windows, decisions }]);
    expect(s).to.include({ streams: 1, gestures: 2, decisions: 7, confident: 6, uncertain: 1, confidentInside: 4, correctInside: 2, confidentOutside: 2, gesturesAnswered: 2, firstCorrect: 1 });
    // The answer 400 ms after gesture 3 ended names it: late, not a guess; the one before the first window is a guess.
    expect(s.lateAnswers).to.equal(1);
    expect(s.decisionAccuracy).to.equal(0.5);
    expect(s.gestureRecall).to.equal(0.5);
    expect(s.outsideShare).to.be.closeTo(2 / 6, 1e-12);
    expect(s.uncertainShare).to.be.closeTo(1 / 7, 1e-12);
    expect(s.timeToFirstCorrectMs.n).to.equal(2);
    expect(s.timeToFirstCorrectMs.median).to.be.closeTo(400, 1e-9); // 500 and 300 ms
    expect(s.minConfidentConfidence).to.equal(0.8);
    // Steps: 6 early answers at 3 of 16 save 13 each; the uncertain one ran all 16.
    expect(s.stepsRun).to.equal(6 * 3 + 16);
    expect(s.stepsSaved).to.equal(6 * 13);
    expect(s.perClass.find((c) => c.label === 3)).to.deep.equal({ label: 3, gestures: 1, firstCorrect: 0, confidentInside: 2, correctInside: 1 });
    expect(s.perClass.find((c) => c.label === 5)).to.deep.equal({ label: 5, gestures: 1, firstCorrect: 1, confidentInside: 2, correctInside: 1 });
  });

  it('a late answer names the gesture whose window ended at most 500 ms before; anything else outside is a guess', () => {
    expect(isLateAnswer(windows, { eventTimeUs: ms(3500), label: 3 })).to.equal(true);
    expect(isLateAnswer(windows, { eventTimeUs: ms(3501), label: 3 })).to.equal(false);
    expect(isLateAnswer(windows, { eventTimeUs: ms(3200), label: 5 })).to.equal(false);
    expect(isLateAnswer(windows, { eventTimeUs: ms(6100), label: 5 })).to.equal(true);
    expect(isLateAnswer(windows, { eventTimeUs: ms(900), label: 3 })).to.equal(false);
  });

  it('the first answer is the earliest by decision time, whatever the order given; a gesture with none is missed', () => {
    const s = scoreLive([{ streamId: 'a', windows, decisions: [d(2500, 7), d(1500, 3), d(5000, 5, { confident: false })] }]);
    expect(s.firstCorrect).to.equal(1);
    expect(s.gesturesAnswered).to.equal(1);
    expect(s.gestureRecall).to.equal(0.5);
    expect(s.timeToFirstCorrectMs).to.deep.equal({ n: 1, median: 500, p95: 500 });
  });

  it('nothing to score gives nulls, not NaN or a division by zero', () => {
    const s = scoreLive([{ streamId: 'a', windows: [], decisions: [] }]);
    expect(s.decisionAccuracy).to.equal(null);
    expect(s.gestureRecall).to.equal(null);
    expect(s.outsideShare).to.equal(null);
    expect(s.uncertainShare).to.equal(null);
    expect(s.timeToFirstCorrectMs).to.deep.equal({ n: 0, median: null, p95: null });
    expect(s.minConfidentConfidence).to.equal(null);
  });

  it('the live θ rule: the lowest θ meeting every target, else the smallest shortfall', () => {
    const score = (acc: number, recall: number, outside: number, saved = 60) => ({ decisionAccuracy: acc, gestureRecall: recall, outsideShare: outside, stepsSavedPct: saved }) as LiveScore;
    expect(targetShortfall(score(0.96, 0.92, 0.05))).to.equal(0);
    expect(targetShortfall(score(0.9, 0.92, 0.05))).to.be.closeTo(0.05, 1e-12);
    expect(targetShortfall(score(0.96, 0.92, 0.18))).to.be.closeTo(0.08, 1e-12);
    const points = [
      { theta: 0.9, score: score(0.99, 0.95, 0.02) },
      { theta: 0.5, score: score(0.9, 0.8, 0.2) },
      { theta: 0.7, score: score(0.96, 0.91, 0.08) },
    ];
    expect(chooseLiveTheta(points)).to.deep.include({ metTargets: true });
    expect(chooseLiveTheta(points).point.theta).to.equal(0.7);
    const none = chooseLiveTheta([
      { theta: 0.5, score: score(0.9, 0.8, 0.2) },
      { theta: 0.6, score: score(0.93, 0.85, 0.12) },
    ]);
    expect(none.metTargets).to.equal(false);
    expect(none.point.theta).to.equal(0.6);
    expect(() => chooseLiveTheta([])).to.throw(RangeError);
  });

  it('the live θ rule keeps the constraints first: steps saved ≥ 50 %, windowed accuracy within 1 point of T', () => {
    const score = (acc: number, outside: number, saved: number) => ({ decisionAccuracy: acc, gestureRecall: 0.95, outsideShare: outside, stepsSavedPct: saved }) as LiveScore;
    const windowed = (loss: number) => ({ n: 100, accuracy: 0.97 - loss, meanSteps: 5, loss });
    const points = [
      { theta: 0.2, score: score(0.96, 0.05, 70), windowed: windowed(0.03) }, // meets the targets, but loses 3 points windowed
      { theta: 0.3, score: score(0.97, 0.12, 60), windowed: windowed(0.01) }, // keeps the constraints, 2 points outside
      { theta: 0.4, score: score(0.98, 0.11, 45), windowed: windowed(0) }, // saves too little
    ];
    expect(keepsConstraints(points[0])).to.equal(false);
    expect(keepsConstraints(points[1])).to.equal(true);
    expect(keepsConstraints(points[2])).to.equal(false);
    expect(chooseLiveTheta(points)).to.deep.include({ metTargets: false, keptConstraints: true });
    expect(chooseLiveTheta(points).point.theta).to.equal(0.3);
    // No θ keeps them: the smallest shortfall over all, said so.
    const none = chooseLiveTheta([points[0], points[2]]);
    expect(none).to.deep.include({ metTargets: false, keptConstraints: false });
    expect(none.point.theta).to.equal(0.2);
    // Without a windowed measurement only the saving constrains.
    expect(keepsConstraints({ theta: 0.2, score: score(0.96, 0.05, 70) })).to.equal(true);
  });

  it('the figure marks each decision by how it scores; the Markdown report gives the figures and the targets', () => {
    expect(decisionKind(d(1500, 3), windows)).to.equal('right');
    expect(decisionKind(d(1500, 4), windows)).to.equal('wrong');
    expect(decisionKind(d(3500, 3), windows)).to.equal('outside');
    expect(decisionKind(d(1500, 3, { confident: false }), windows), 'uncertain first').to.equal('uncertain');
    const streams = [{ streamId: 'user1_led', windows, decisions: [d(1500, 3), d(3500, 3), d(5000, 4), d(5500, 5, { confident: false })] }];
    const svg = plotLiveTimeline(streams, ['a', 'b', 'c', 'clap']);
    expect(svg.startsWith('<svg')).to.equal(true);
    for (const kind of ['right', 'wrong', 'outside', 'uncertain']) expect(svg.match(new RegExp(`class="decision ${kind}"`, 'g'))).to.have.length(1);
    expect(svg).to.contain('user1_led');
    const md = renderLiveMarkdown({
      model: 'm', data: 'd', mode: 'qcfs', theta: 0.5, thetaSource: 'calibration', T: 16, binUs: 100_000, classes: ['a', 'b', 'c', 'clap', 'e', 'f'],
      segmentation: 'activity', score: scoreLive(streams), streams, seconds: 1,
    });
    expect(md).to.contain('| decision accuracy (answers inside a gesture window that name it) | 50.00');
    expect(md).to.match(/\| first answer right \| ≥ 90 % \| 50\.00 % \| \*\*missed\*\* \|/);
    expect(md).to.contain('![live timeline](live-timeline.svg)');
    expect(md).to.contain('## Shown confidence');
    expect(md).to.contain('![reliability of the live decisions\' confidence](live-reliability.svg)');
    expect(md).to.match(/\| ECE of the shown confidence, every decision \| ≤ 0\.05 \|/);
  });

  it('the one rule: the window holding the decision time gives the true class; none gives −1 (no gesture), never right', () => {
    expect(liveTrueLabel(windows, d(1500, 7))).to.equal(3);
    expect(liveTrueLabel(windows, d(3500, 3))).to.equal(NO_GESTURE);
    expect(liveTrueLabel(windows, d(1000, 3))).to.equal(NO_GESTURE); // a window's start is not inside it
    expect(liveTrueLabel(windows, d(3000, 3))).to.equal(3); // its end is
    // Overlapping windows: the one that names the decision's class wins.
    const overlapping = [...windows, { tStart: ms(2500), tEnd: ms(3200), label: 8 }];
    expect(liveTrueLabel(overlapping, d(2800, 8))).to.equal(8);
    expect(isRightLive(overlapping, d(2800, 8))).to.equal(true);
    expect(isRightLive(windows, d(3500, 3))).to.equal(false);
  });

  it('the shown confidence is calibrated over every decision, uncertain ones included, one outside every window wrong', () => {
    const at = (t: number, label: number, confidence: number, confident: boolean) => ({ ...d(t, label, { confident }), confidence });
    const decisions = [at(1500, 3, 0.95, true), at(3500, 3, 0.95, true), at(4500, 5, 0.35, false), at(5000, 2, 0.35, false)];
    const c = liveCalibration([{ streamId: 'a', windows, decisions }], { resamples: 200 });
    expect(c.n).to.equal(4);
    // Bin (0.9, 1]: one right of two at 0.95; bin (0.3, 0.4]: one right of two at 0.35.
    expect(c.ece.value).to.be.closeTo((2 * 0.45 + 2 * 0.15) / 4, 1e-12);
    expect(c.reliability.count[9]).to.equal(2);
    expect(c.ece.lo).to.be.at.most(c.ece.hi);
    expect(scoreLive([{ streamId: 'a', windows, decisions }]).calibration.ece.value).to.be.closeTo(c.ece.value, 1e-12);
  });
});
