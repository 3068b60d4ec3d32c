import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { Client } from 'pg';
import { BrokerEnvironment } from '../config/environment';

export const CONNECTION_CHANNEL = 'broker_connection_changed';

/** What NOTIFY carries: never a token, only which row changed and its token version. */
export interface ConnectionChange {
  id: string;
  key: string;
  v: number;
  kind: 'tokens' | 'status' | 'deleted' | 'client' | 'admin_token';
}

const RECONNECT_DELAY_MS = 1_000;
/**
 * A half-open connection (a NAT or a proxy that forgot it) delivers nothing and reports nothing:
 * the listener asks Postgres something this often, and takes no answer within the timeout as lost.
 */
const HEARTBEAT_INTERVAL_MS = 10_000;
const HEARTBEAT_TIMEOUT_MS = 5_000;

/**
 * Listens on Postgres for changes other replicas commit. While the listener is down the replica
 * cannot know about changes, so it emits `listening: false` (the cache then re-checks versions
 * when it is back) and reconnects.
 */
@Injectable()
export class ConnectionEvents implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ConnectionEvents.name);
  private readonly emitter = new EventEmitter();
  private client: Client | null = null;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  listening = false;

  constructor(private readonly env: BrokerEnvironment) {
    this.emitter.setMaxListeners(0);
  }

  async onModuleInit(): Promise<void> {
    await this.connect();
  }

  onChange(listener: (change: ConnectionChange) => void): void {
    this.emitter.on('change', listener);
  }

  onListening(listener: (listening: boolean) => void): void {
    this.emitter.on('listening', listener);
  }

  /** Resolves at the next change of that connection, or after `timeoutMs`, whichever is first. */
  waitForChange(connectionId: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const event = `change:${connectionId}`;
      const done = () => {
        clearTimeout(timer);
        this.emitter.off(event, done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.emitter.on(event, done);
    });
  }

  /** Lets this replica's own writes wake its own waiters at once, without the NOTIFY round trip. */
  publishLocal(change: ConnectionChange): void {
    this.emitter.emit(`change:${change.id}`, change);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({
      connectionString: this.env.DATABASE_URL,
      application_name: 'token-broker-listener',
      keepAlive: true,
      keepAliveInitialDelayMillis: HEARTBEAT_INTERVAL_MS,
    });
    client.on('notification', (message) => {
      if (message.channel !== CONNECTION_CHANNEL || !message.payload) return;
      try {
        const change = JSON.parse(message.payload) as ConnectionChange;
        this.emitter.emit('change', change);
        this.emitter.emit(`change:${change.id}`, change);
      } catch {
        this.logger.warn('ignored a malformed change notification');
      }
    });
    client.on('error', (error) => this.logger.warn({ err: error }, 'change listener error'));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CONNECTION_CHANNEL}`);
      this.client = client;
      this.setListening(true);
      this.startHeartbeat(client);
    } catch (error) {
      this.logger.warn({ err: error }, 'change listener cannot reach Postgres; retrying');
      await client.end().catch(() => undefined);
      this.lost(client);
    }
  }

  private heartbeat: NodeJS.Timeout | null = null;

  private startHeartbeat(client: Client): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    let pending = false;
    this.heartbeat = setInterval(() => {
      if (this.client !== client || pending) return;
      pending = true;
      const timeout = setTimeout(() => {
        this.logger.warn('change listener heartbeat unanswered; reconnecting');
        dropConnection(client);
        this.lost(client);
      }, HEARTBEAT_TIMEOUT_MS);
      client
        .query('SELECT 1')
        .catch(() => undefined)
        .finally(() => {
          pending = false;
          clearTimeout(timeout);
        });
    }, HEARTBEAT_INTERVAL_MS);
    this.heartbeat.unref();
  }

  private lost(client: Client): void {
    if (this.heartbeat && this.client === client) {
      clearInterval(this.heartbeat);
      this.heartbeat = null;
    }
    if (this.client === client) this.client = null;
    this.setListening(false);
    if (this.stopped || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, RECONNECT_DELAY_MS);
    this.reconnectTimer.unref();
  }

  private setListening(listening: boolean): void {
    if (this.listening === listening) return;
    this.listening = listening;
    this.emitter.emit('listening', listening);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }
}

/** Closes a connection that may never answer again (`end()` would wait for it). */
function dropConnection(client: Client): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
  stream?.destroy();
  client.end().catch(() => undefined);
}
