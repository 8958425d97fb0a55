/** Resolves once `stop` has run after the first SIGINT or SIGTERM (a second signal changes nothing). */
export function stopOnSignal(stop: (signal: string) => Promise<unknown>): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      stop(signal).then(
        () => resolve(),
        () => resolve(),
      );
    };
    process.once('SIGINT', () => onSignal('SIGINT'));
    process.once('SIGTERM', () => onSignal('SIGTERM'));
  });
}
