/**
 * The request/reply port and its adapters: NATS core request/reply with queue groups, and an
 * in-process one for the all-in-one process. Services receive an `Rpc`.
 */
export { createRpc, type RpcConfig } from './create.ts';
export { createEmbeddedRpc, type EmbeddedRpcOptions } from './embedded.ts';
export { createNatsRpc, type NatsRpcOptions } from './nats.ts';
export { assertRequestSubject, requestWireSubject } from './request-subjects.ts';
export {
  type Rpc,
  RpcRemoteError,
  type RpcResponder,
  RpcTimeoutError,
  RpcUnavailableError,
} from './rpc.ts';
