/**
 * Files the API serves (pictures, exports) fetched with the player's token, since an `<img src>`
 * or a plain link would not send it: an object URL to show, or a download to save.
 */
import { useEffect, useState } from 'react';

import { currentToken } from './session';

async function fetchFile(path: string): Promise<Blob> {
  const token = currentToken();
  const answer = await fetch(new URL(path, window.location.origin), {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
  if (!answer.ok) {
    const body = (await answer.json().catch(() => null)) as { message?: string } | null;
    throw new Error(body?.message ?? `The server answered HTTP ${answer.status} for ${path}.`);
  }
  return answer.blob();
}

/** An object URL for the file at `path` (null while it loads, or when `path` is null), revoked
 * when the path changes or the component goes; `error` says why it could not be had. */
export function useFileUrl(path: string | null): { url: string | null; error: string | null } {
  const [state, setState] = useState<{ url: string | null; error: string | null }>({
    url: null,
    error: null,
  });
  useEffect(() => {
    if (!path) return;
    let url: string | null = null;
    let gone = false;
    fetchFile(path).then(
      (blob) => {
        if (gone) return;
        url = URL.createObjectURL(blob);
        setState({ url, error: null });
      },
      (error: Error) => !gone && setState({ url: null, error: error.message }),
    );
    return () => {
      gone = true;
      if (url) URL.revokeObjectURL(url);
      setState({ url: null, error: null });
    };
  }, [path]);
  return state;
}

/** Saves the file at `path` under `filename` (the browser's download). */
export async function download(path: string, filename: string): Promise<void> {
  const url = URL.createObjectURL(await fetchFile(path));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
