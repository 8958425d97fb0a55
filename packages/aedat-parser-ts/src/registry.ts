import type { EventDecoder, FormatName } from './decoder.js';
import { Aedat2Decoder } from './aedat2.js';
import { Aedat3Decoder } from './aedat3/index.js';
import { Aedat4Decoder } from './aedat4/index.js';
import { NmnistDecoder } from './nmnist.js';
import { PropheseeDatDecoder } from './prophesee-dat.js';
import { Evt2Decoder } from './evt2.js';
import { Evt3Decoder } from './evt3.js';
import { CsvDecoder } from './csv.js';

export const FORMAT_NAMES: readonly FormatName[] = ['aedat2', 'aedat3', 'aedat4', 'nmnist', 'prophesee-dat', 'evt2', 'evt3', 'csv'];

export function isFormatName(s: string): s is FormatName {
  return (FORMAT_NAMES as readonly string[]).includes(s);
}

/** A fresh incremental decoder for `format`. */
export function createDecoder(format: FormatName): EventDecoder {
  switch (format) {
    case 'aedat2':
      return new Aedat2Decoder();
    case 'aedat3':
      return new Aedat3Decoder();
    case 'aedat4':
      return new Aedat4Decoder();
    case 'nmnist':
      return new NmnistDecoder();
    case 'prophesee-dat':
      return new PropheseeDatDecoder();
    case 'evt2':
      return new Evt2Decoder();
    case 'evt3':
      return new Evt3Decoder();
    case 'csv':
      return new CsvDecoder();
  }
}
