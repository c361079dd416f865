// The library ships the inbox table's migration; the example service runs it like any user would.
export { CreateEventInbox1732500000000 } from '../src/outbox/index.js';
