/**
 * Minimal typings for the untyped `smpp` package (0.5), covering only what the SMPP
 * transport and the test SMSC use. PDU fields are dynamic, hence the index signature.
 */
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer, Socket } from 'node:net';

  export interface DecodedMessage {
    message: string | Buffer;
    udh?: Buffer[];
  }

  export class PDU {
    constructor(command: string, options?: Record<string, unknown>);
    command: string;
    command_id: number;
    command_status: number;
    sequence_number: number;
    [field: string]: unknown;
    isResponse(): boolean;
    response(options?: Record<string, unknown>): PDU;
  }

  export type ResponseCallback = (pdu: PDU) => void;

  export class Session extends EventEmitter {
    socket: Socket;
    send(pdu: PDU, responseCallback?: ResponseCallback, sendCallback?: ResponseCallback): boolean;
    bind_transceiver(options: Record<string, unknown>, responseCallback?: ResponseCallback): boolean;
    submit_sm(options: Record<string, unknown>, responseCallback?: ResponseCallback): boolean;
    deliver_sm(options: Record<string, unknown>, responseCallback?: ResponseCallback): boolean;
    enquire_link(options?: Record<string, unknown>, responseCallback?: ResponseCallback): boolean;
    unbind(options?: Record<string, unknown>, responseCallback?: ResponseCallback): boolean;
    pause(): void;
    resume(): void;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
  }

  export interface Server extends NetServer {
    sessions: Session[];
  }

  export function connect(options: { host: string; port: number; [option: string]: unknown }): Session;
  export function createServer(options: Record<string, unknown>, listener?: (session: Session) => void): Server;

  const smpp: {
    connect: typeof connect;
    createServer: typeof createServer;
    PDU: typeof PDU;
  };
  export default smpp;
}
