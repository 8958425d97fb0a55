// A WebSocket feed that reconnects on its own: after a loss it waits 0.5 s, then twice as long
// after each failed attempt (at most 8 s, ±20 % jitter so that many pages do not return in step),
// and reports every change of state so that the page can say what is happening.

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 8000;

export class Feed {
  /**
   * @param {string} url ws:// or wss:// URL
   * @param {{ binary?: boolean, onMessage: (data: string | ArrayBuffer) => void, onState: (state: FeedState) => void }} o
   * @typedef {{ name: 'connecting' | 'open' | 'retrying', attempt: number, delayMs?: number, everOpened: boolean }} FeedState
   */
  constructor(url, o) {
    this.url = url;
    this.o = o;
    this.attempt = 0;
    this.everOpened = false;
    this.socket = null;
    this.timer = null;
    this.stopped = false;
    this.state = { name: 'connecting', attempt: 0, everOpened: false };
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000, 'page closed the feed');
  }

  get open() {
    return this.state.name === 'open';
  }

  connect() {
    this.report({ name: 'connecting', attempt: this.attempt });
    const ws = new WebSocket(this.url);
    if (this.o.binary) ws.binaryType = 'arraybuffer';
    this.socket = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.everOpened = true;
      this.report({ name: 'open', attempt: 0 });
    };
    ws.onmessage = (e) => this.o.onMessage(e.data);
    // onerror is always followed by onclose, where the retry is planned.
    ws.onerror = () => {};
    ws.onclose = () => {
      if (this.socket !== ws) return;
      this.socket = null;
      if (this.stopped) return;
      const delayMs = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** this.attempt) * (0.8 + 0.4 * Math.random());
      this.attempt++;
      this.report({ name: 'retrying', attempt: this.attempt, delayMs });
      this.timer = setTimeout(() => this.connect(), delayMs);
    };
  }

  report(s) {
    this.state = { ...s, everOpened: this.everOpened };
    this.o.onState(this.state);
  }
}
