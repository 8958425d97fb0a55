export * from './dvs-emulator';
