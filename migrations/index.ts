import { CreateEventOutbox1732300000000 } from './1732300000000-create-event-outbox.js';
import { CreateEdupulseTables1732300000001 } from './1732300000001-create-edupulse-tables.js';
import { CreateEventInbox1732500000000 } from './1732500000000-create-event-inbox.js';
import { CreatePulseStats1732500000001 } from './1732500000001-create-pulse-stats.js';

/** In order; the example service runs them on start, `npm run migration:run` from the CLI. */
export const MIGRATIONS = [
  CreateEventOutbox1732300000000,
  CreateEdupulseTables1732300000001,
  CreateEventInbox1732500000000,
  CreatePulseStats1732500000001,
];
