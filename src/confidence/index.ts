export * from './confidence';
export * from './decide';
export * from './temperature';
export * from './trace';
export * from './threshold';
export * from './oracle';
export * from './report';
export * from './plots';
