/**
 * `ws://…/decisions[?stream=id][&trace=1]`: decision subscribers (and, with the preview hub,
 * `ws://…/preview[?stream=id]`: the viewer's frames). The upgrade is refused when
 * shutting down (503), on a bad handshake (400/405), without the token (401), on a bad filter
 * (400) or over `maxSubscribers` (503, counting upgrades still in their handshake). Subscribers
 * have nothing to say: what they send is ignored.
 */
import type * as http from 'http';
import type { Duplex } from 'stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SubscriberFilter } from '../../../streams/sinks/to-subscribers';
import { parseSubscriberFilter } from '../subscribers';
import { CLOSE_GOING_AWAY } from '../close-codes';
import { gateRefusal, type UpgradeGate } from './handshake';

/** Where an accepted socket goes: the decision hub, or the viewer's preview hub. */
export interface SubscriberRegistry {
  readonly size: number;
  add(socket: WebSocket, filter: SubscriberFilter): unknown;
}

export interface SubscriberEndpointDeps extends UpgradeGate {
  readonly hub: SubscriberRegistry;
  readonly maxSubscribers: number;
}

export class SubscriberEndpoint {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false });
  private pending = 0;

  constructor(private readonly deps: SubscriberEndpointDeps) {
    this.wss.on('wsClientError', (err: Error, socket: Duplex) => deps.refuse(socket, { status: 400, message: err.message }));
  }

  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, query: URLSearchParams): void {
    const { hub, refuse } = this.deps;
    const gate = gateRefusal(this.deps, req, query);
    if (gate) return refuse(socket, gate.refusal);
    let filter;
    try {
      filter = parseSubscriberFilter(query);
    } catch (e) {
      return refuse(socket, { status: 400, message: (e as Error).message });
    }
    if (hub.size + this.pending >= this.deps.maxSubscribers) return refuse(socket, { status: 503, message: 'too many subscribers', headers: { 'Retry-After': '5' } });
    this.pending++;
    let settled = false;
    const settle = (): void => {
      if (!settled) {
        settled = true;
        this.pending--;
      }
    };
    socket.once('close', settle);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      settle();
      ws.on('error', () => undefined);
      ws.on('message', () => undefined);
      if (this.deps.closing()) {
        ws.close(CLOSE_GOING_AWAY, 'server shutting down');
        return;
      }
      hub.add(ws, filter);
    });
  }

  sockets(): WebSocket[] {
    return [...this.wss.clients];
  }

  dispose(): void {
    this.wss.close();
  }
}
