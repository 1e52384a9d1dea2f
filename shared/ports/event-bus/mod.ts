/**
 * The event bus port and its adapters (DESIGN.md, "Ports"): NATS JetStream, and an embedded
 * durable bus on SQLite. Services receive an `EventBus`; workers run handlers through
 * `runConsumer`, which maps job outcomes onto ack / nak / term.
 */
export { createEventBus, type EventBusConfig } from './create.ts';
export { createEmbeddedEventBus, type EmbeddedEventBusOptions } from './embedded.ts';
export {
  assertDurableName,
  type Consumer,
  type ConsumerOptions,
  type Delivery,
  type EventBus,
  EventBusError,
  subjectMatches,
} from './event-bus.ts';
export { createNatsEventBus, type NatsEventBusOptions } from './nats.ts';
export {
  type BatchContext,
  type BatchHandler,
  type RunBatchConsumerOptions,
  runBatchConsumer,
} from './run-batch-consumer.ts';
export {
  decodeEvent,
  defaultBackoffMs,
  encodeEvent,
  type JobContext,
  type JobOutcome,
  publishEvent,
  type RunConsumerOptions,
  type RunningConsumer,
  runConsumer,
} from './run-consumer.ts';
