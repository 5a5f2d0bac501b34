/** DI tokens of this app (ports are interfaces, so they are injected by symbol). */
export const APP_CONFIG = Symbol('APP_CONFIG');
export const BROKER_HEALTH = Symbol('BROKER_HEALTH');
export const APP_LOGGER = Symbol('APP_LOGGER');
