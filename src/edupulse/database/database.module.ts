import { Global, Module } from '@nestjs/common';
import { DatabaseConnector } from './database-connector.js';

/** The one DatabaseConnector, for the services and probes that must know it has finished. */
@Global()
@Module({ providers: [DatabaseConnector], exports: [DatabaseConnector] })
export class DatabaseModule {}
