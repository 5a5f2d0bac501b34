/**
 * Injection tokens of the providers every control-plane process shares. Symbols, not classes: the values
 * behind them (a validated configuration object, a pino logger, an event store adapter chosen by URL) are
 * ports, not Nest-decorated classes.
 */
export const CONFIG = Symbol('CONFIG');
export const LOGGER = Symbol('LOGGER');
export const EVENT_STORE = Symbol('EVENT_STORE');
export const MESSAGING_CONNECTION = Symbol('MESSAGING_CONNECTION');
export const MESSAGE_CONSUMER = Symbol('MESSAGE_CONSUMER');
/** What a resource service brings: its command handlers, its readiness and what it closes. */
export const SERVICE_RUNTIME = Symbol('SERVICE_RUNTIME');
/** The runtime's `deps`: the adapters a resource service's command handler classes are constructed with. */
export const HANDLER_DEPS = Symbol('HANDLER_DEPS');
/** `() => Promise<boolean>` answering `/ready`. */
export const READINESS = Symbol('READINESS');
/** The prom-client registry served on `/metrics`. */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
