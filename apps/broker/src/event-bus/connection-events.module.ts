import { Module } from '@nestjs/common';
import { ConnectionEvents } from './connection-events';

/** Changes other replicas committed (LISTEN), for the token cache and the clients' caches. */
@Module({ providers: [ConnectionEvents], exports: [ConnectionEvents] })
export class ConnectionEventsModule {}
