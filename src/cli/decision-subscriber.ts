import WebSocket from 'ws';
import type { Decision } from '../../streams/types';
import { formatDecision } from './decisions';
import { printJson } from './output';

/** A real subscriber over WebSocket: what it receives is what gets printed (and kept in `received` for the summary). */
export async function printingSubscriber(base: string, json: boolean, classes: readonly string[], received: Decision[]): Promise<WebSocket> {
  const subscriber = new WebSocket(`${base}/decisions`);
  await new Promise<void>((resolve, reject) => {
    subscriber.once('open', () => resolve());
    subscriber.once('error', reject);
  });
  subscriber.on('message', (data) => {
    const { type, ...d } = JSON.parse(String(data)) as { type: string } & Decision;
    if (type !== 'decision') return;
    received.push(d);
    if (json) printJson({ type: 'decision', ...d });
    else process.stdout.write(`${formatDecision(d, classes)}\n`);
  });
  return subscriber;
}
