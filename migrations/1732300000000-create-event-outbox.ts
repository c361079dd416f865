// The library ships the outbox table's migration; the example service runs it like any user would.
export { CreateEventOutbox1732300000000 } from '../src/outbox/index.js';
