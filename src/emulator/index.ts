export * from './prng';
export * from './dvs-emulator';
