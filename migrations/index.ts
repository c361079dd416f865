import { CreateEventOutbox1732300000000 } from './1732300000000-create-event-outbox.js';
import { CreateEdupulseTables1732300000001 } from './1732300000001-create-edupulse-tables.js';

/** In order; the example service runs them on start, `npm run migration:run` from the CLI. */
export const MIGRATIONS = [CreateEventOutbox1732300000000, CreateEdupulseTables1732300000001];
