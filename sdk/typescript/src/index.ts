export * from './client/index.js';
export { client } from './client/client.gen.js';
export { streamTurn, TurnStreamError, type StreamTurnOptions, type TurnEvent } from './stream.js';
