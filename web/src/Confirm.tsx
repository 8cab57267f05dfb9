/** A question with a confirming button, for what cannot be undone. */
import { useMutation } from '@tanstack/react-query';

import { errorMessage } from './errors';

export function Confirm({
  question,
  yes,
  act,
  cancel,
}: {
  question: string;
  yes: string;
  act: () => Promise<void>;
  cancel: () => void;
}) {
  const acting = useMutation({ mutationFn: act });
  return (
    <div className="confirm" role="group" aria-label="Confirm">
      <p>{question}</p>
      <div className="row">
        {/* Focused at once: the keyboard's next Enter answers the question just asked. */}
        <button
          type="button"
          className="danger"
          autoFocus
          disabled={acting.isPending}
          onClick={() => acting.mutate()}
        >
          {yes}
        </button>
        <button type="button" className="quiet" onClick={cancel}>
          Cancel
        </button>
      </div>
      {acting.error && <p role="alert" className="error">{errorMessage(acting.error)}</p>}
    </div>
  );
}
