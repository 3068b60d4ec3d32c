import { createServer, Server, Socket } from 'node:net';

/**
 * A TCP proxy in front of Postgres that a test can cut and restore, to make Postgres unreachable
 * for one broker process without stopping the server the rest of the suite uses.
 */
export class TcpProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  /** Each client connection's first bytes (Postgres' startup message names the application). */
  private readonly links = new Map<Socket, { upstream: Socket; opening: string }>();
  port = 0;

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {}

  async start(port = 0): Promise<number> {
    this.server = createServer((client) => {
      const upstream = new Socket();
      upstream.connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      const link = { upstream, opening: '' };
      this.links.set(client, link);
      client.once('data', (chunk: Buffer) => (link.opening = chunk.toString('latin1')));
      client.on('close', () => this.links.delete(client));
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  /** Drops every connection and refuses new ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  /**
   * Makes the open connections whose startup names `application` half-open: nothing flows either
   * way and nothing is closed, as when a NAT or a proxy forgets a connection. New ones still work.
   */
  freeze(application: string): number {
    let frozen = 0;
    for (const [client, { upstream, opening }] of this.links) {
      if (!opening.includes(application)) continue;
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
      frozen++;
    }
    return frozen;
  }

  async restore(): Promise<void> {
    if (!this.server) await this.start(this.port);
  }
}
