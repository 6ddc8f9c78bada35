/**
 * One dispatcher for bridge requests, shared by every receiving edge (the headless HTTP server,
 * the Electron agent host): check the channel, validate the payload by schema, then call the
 * handler. Expected failures come back as Results; a throwing handler is a bug and rejects (each
 * transport turns that into an opaque internal error and logs the stack, never showing it).
 */
import { isRequestChannel, validateRequest, type BridgeHandlers, type RequestChannel } from '../../common/ipc-contract';
import { fail, type Result } from '../../common/result';

export function dispatchBridgeRequest(
  handlers: BridgeHandlers,
  channel: unknown,
  payload: unknown,
): Promise<Result<unknown>> | Result<unknown> {
  if (!isRequestChannel(channel)) return fail('NOT_FOUND', `Unknown bridge channel ${JSON.stringify(String(channel)).slice(0, 80)}`);
  const request = validateRequest(channel, payload);
  if (!request.ok) return request;
  return call(handlers, channel, request.value);
}

function call<K extends RequestChannel>(handlers: BridgeHandlers, channel: K, request: unknown): Promise<Result<unknown>> | Result<unknown> {
  const handler = handlers[channel] as (request: unknown) => Promise<Result<unknown>> | Result<unknown>;
  return handler.call(handlers, request);
}
