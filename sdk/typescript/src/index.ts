export * from './client/index.js';
export { client } from './client/client.gen.js';
export {
  streamRegeneratedTurn,
  streamTurn,
  TurnStreamError,
  type StreamRegeneratedTurnOptions,
  type StreamTurnOptions,
  type TurnEvent,
} from './stream.js';
