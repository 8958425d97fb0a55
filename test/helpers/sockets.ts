/** A WebSocket stand-in for sinks that send to sockets: it records what it is sent; its backlog is whatever the test sets. */
import { EventEmitter } from 'events';

export class FakeSocket<T = string> extends EventEmitter {
  readyState = 1;
  bufferedAmount = 0;
  sent: T[] = [];
  terminated = false;
  closedWith: number | undefined;
  send(data: T): void {
    this.sent.push(data);
  }
  close(code?: number): void {
    this.closedWith = code;
    this.readyState = 3;
    this.emit('close');
  }
  terminate(): void {
    this.terminated = true;
    this.close(1006);
  }
}
