// The `nestjs-pg-outbox/testing` entry point: the transport contract suite, for adapters.
export {
  contractMessage,
  describeTransportContract,
  type TransportContractHarness,
} from './transport-contract.js';
