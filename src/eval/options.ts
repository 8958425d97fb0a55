/** Parsing of the calibration and evaluation options (the CLI's and the library's). */
import type { SnnMode, ThetaRuleName } from '../confidence';
import type { ConversionMode } from '../snn/convert';
import { CONVERSION_MODES } from '../snn/model/operating-points';

/** How the paper rule searches θ: every distinct θ, the paper's 0.1 grid, or that grid plus 0.95 and 0.99. */
export type ThetaSearch = 'exact' | 'paper' | 'extended';

/** 'exact' | 'paper' | 'extended' ('grid', the name before the grids were told apart, is 'extended'). */
export function parseThetaSearch(v: string | undefined): ThetaSearch {
  const s = (v ?? 'exact').trim().toLowerCase();
  if (s === 'exact' || s === 'paper' || s === 'extended') return s;
  if (s === 'grid') return 'extended';
  throw new RangeError(`search must be exact, paper or extended (got '${v}')`);
}

/** 'paper' | 'non-inferior'. */
export function parseThetaRule(v: string | undefined): ThetaRuleName {
  const s = (v ?? 'paper').trim().toLowerCase();
  if (s === 'paper' || s === 'non-inferior') return s;
  throw new RangeError(`theta rule must be paper or non-inferior (got '${v}')`);
}

/** 'qcfs' | 'qffs' | 'both' → the list of modes. */
export function parseModes(v: string | undefined): ConversionMode[] {
  const s = (v ?? 'both').trim().toLowerCase();
  if (s === 'both') return [...CONVERSION_MODES];
  if (s === 'qcfs' || s === 'qffs') return [s];
  throw new RangeError(`mode must be qcfs, qffs or both (got '${v}')`);
}

export function snnMode(mode: ConversionMode): SnnMode {
  return mode === 'qffs' ? 'QFFS' : 'QCFS';
}

export type AlphaChoice = 'auto' | 'fit' | number;

/** 'auto' | 'fit' | a positive number. */
export function parseAlpha(v: string | undefined): AlphaChoice {
  const s = (v ?? 'auto').trim().toLowerCase();
  if (s === 'auto' || s === 'fit') return s;
  const n = Number(s);
  if (!Number.isFinite(n) || !(n > 0)) throw new RangeError(`alpha must be auto, fit or a positive number (got '${v}')`);
  return n;
}

