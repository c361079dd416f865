export * from './outbox.error.js';
export * from './outbox-config.error.js';
export * from './invalid-domain-event.error.js';
export * from './payload-not-serializable.error.js';
export * from './payload-too-large.error.js';
export * from './outbox-transaction-required.error.js';
export * from './outbox-table-missing.error.js';
export * from './outbox-publish.error.js';
