// Both themes keep their text readable: every text colour in styles.css against the backgrounds
// it is drawn on reaches WCAG 2's AA contrast for body text (4.5:1).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { expect, it } from 'vitest';

const css = readFileSync(resolve(process.cwd(), 'src/styles.css'), 'utf8');

function palette(selector: string): Record<string, string> {
  const start = css.indexOf(`${selector} {`);
  const block = css.slice(start, css.indexOf('}', start));
  return Object.fromEntries([...block.matchAll(/--([a-z-]+):\s*(#[0-9a-f]{6})/g)].map((m) => [m[1], m[2]]));
}

/** WCAG 2 relative luminance of a #rrggbb colour. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

const PAIRS: [string, string][] = [
  ['text', 'bg'], ['text', 'surface'], ['muted', 'bg'], ['muted', 'surface'], ['accent', 'bg'],
  ['accent', 'surface'], ['error', 'bg'], ['error', 'surface'], ['done', 'bg'], ['accent-text', 'accent'],
];

for (const [theme, selector] of [['dark', ':root'], ['light', ":root[data-theme='light']"]] as const) {
  it(`the ${theme} theme's text reaches 4.5:1 on its backgrounds`, () => {
    const colours = palette(selector);
    const low = PAIRS.map(([fg, bg]) => [`${fg} on ${bg}`, contrast(colours[fg], colours[bg])] as const).filter(
      ([, ratio]) => !(ratio >= 4.5),
    );
    expect(low).toEqual([]);
  });
}
