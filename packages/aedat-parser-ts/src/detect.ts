import type { FormatName } from './decoder.js';
import { FormatError } from './format-error.js';
import { looksLikeAedat2 } from './aedat2.js';
import { looksLikeAedat3 } from './aedat3/index.js';
import { looksLikeAedat4 } from './aedat4/index.js';
import { looksLikeNmnist } from './nmnist.js';
import { looksLikePropheseeDat } from './prophesee-dat.js';
import { looksLikeEvt2 } from './evt2.js';
import { looksLikeEvt3 } from './evt3.js';
import { looksLikeCsv } from './csv.js';

/** How many leading bytes `detectFormat` wants to see (Prophesee headers can be long). */
export const DETECT_HEAD_BYTES = 64 * 1024;

/**
 * The format of a file from its first bytes. Headers decide (magic lines for AEDAT, `% evt`
 * lines for Prophesee RAW, `%` lines for DAT); N-MNIST `.bin` has no header, so it is chosen
 * only by its extension and a size that is a multiple of 5.
 */
export function detectFormat(head: Uint8Array, fileName = '<input>', fileSize?: number): FormatName {
  if (looksLikeAedat4(head)) return 'aedat4';
  if (looksLikeAedat3(head)) return 'aedat3';
  if (looksLikeAedat2(head)) return 'aedat2';
  if (looksLikeEvt3(head)) return 'evt3';
  if (looksLikeEvt2(head)) return 'evt2';
  if (looksLikePropheseeDat(head)) return 'prophesee-dat';
  if (looksLikeCsv(head)) return 'csv';
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.bin') && (fileSize === undefined || fileSize % 5 === 0) && looksLikeNmnist(head)) return 'nmnist';
  throw new FormatError(
    'detect',
    0,
    'unrecognised event file: no AEDAT 2.0/3.1/4.0 magic line, no Prophesee header, no t,x,y,p CSV column line, and not an N-MNIST .bin (size a multiple of 5)',
    fileName,
  );
}
