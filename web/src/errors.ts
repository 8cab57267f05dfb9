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

/** Whether the server asks for a login (401 `not_signed_in`). */
export function needsLogin(error: unknown): boolean {
  if (error instanceof TurnStreamError) return error.status === 401;
  return typeof error === 'object' && error !== null && (error as { error?: unknown }).error === 'not_signed_in';
}
