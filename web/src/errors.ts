/** The sentence to show for a failed call: the server's own message (every LUNA error carries
 * one the player can act on), with the HTTP status when it is known. */
import { TurnStreamError } from '@luna-narrates/sdk';

export function errorMessage(error: unknown): string {
  if (error instanceof TurnStreamError) return `${error.message} (HTTP ${error.status})`;
  if (typeof error === 'object' && error !== null && 'message' in error) {
    return String((error as { message: unknown }).message);
  }
  if (typeof error === 'string' && error) return error;
  return 'The server could not be reached.';
}
