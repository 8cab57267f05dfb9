/**
 * A player's session in a real browser (Debian's Chromium, headless, driven by playwright-core)
 * against a real server on loopback with the scripted test models (LUNA_URL): create a story,
 * play two turns watching the passage stream in, branch and switch, import a character card
 * PNG, see the cost chart, upload world info and see its entry fire in a turn (sent from the
 * keyboard), the settings, and the story at a phone's width. Each screen is saved as a
 * screenshot in LUNA_SCREENSHOTS (test artifacts, not committed).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

const base = process.env.LUNA_URL;
const fixtures = process.env.LUNA_FIXTURES;
const shots = process.env.LUNA_SCREENSHOTS ?? 'test-artifacts/web';
if (!base || !fixtures) throw new Error('LUNA_URL (the server) and LUNA_FIXTURES (../shared/fixtures) are needed');

let browser: Browser;
let page: Page;
let storyUrl = '';

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (error) => {
    throw error;
  });
});

afterAll(async () => {
  await browser?.close();
});

async function shot(name: string) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** Every text the streaming passage showed, in order (recorded in the page as it changes). */
async function watchStreaming() {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { streamed: string[] }).streamed = seen;
    new MutationObserver(() => {
      const text = document.querySelector('.passage.streaming')?.textContent ?? '';
      if (text && text !== seen.at(-1)) seen.push(text);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

async function play(action: string, turnNumber: number): Promise<string[]> {
  await page.evaluate(() => ((window as unknown as { streamed: string[] }).streamed.length = 0));
  await page.getByLabel('What do you do?').fill(action);
  await page.getByRole('button', { name: /Send/ }).click();
  await page.getByText(new RegExp(`Turn ${turnNumber} stored · cost`)).waitFor();
  return page.evaluate(() => [...(window as unknown as { streamed: string[] }).streamed]);
}

it('creates a story from the library', async () => {
  await page.goto(base);
  await page.getByRole('heading', { name: 'Your stories' }).waitFor();
  await shot('01-library');
  await page.getByLabel('Title').fill('The Canal Thief');
  await page.getByLabel('Premise').fill("In the canal city of Veyra, a thief plans to steal the Doge's cursed crown.");
  await page.getByRole('button', { name: 'Start from this premise' }).click();
  await page.getByRole('heading', { name: 'The Canal Thief' }).waitFor();
  storyUrl = page.url();
  expect(storyUrl).toMatch(/#\/stories\/[0-9a-f-]{36}$/);
});

it('plays two turns, the passage appearing word by word as the Writer streams it, then its pictures', async () => {
  await watchStreaming();
  for (const [number, action] of [
    [1, 'I slip along the quay towards the palace.'],
    [2, 'I climb the ivy to the balcony.'],
  ] as const) {
    const streamed = await play(action, number);
    // Several growing prefixes of the passage were on screen before it was stored.
    expect(streamed.length).toBeGreaterThan(3);
    streamed.slice(1).forEach((text, i) => expect(text.startsWith(streamed[i])).toBe(true));
    const passage = page.locator(`#turn-${number} .passage`);
    await passage.waitFor();
    expect((await passage.textContent())!.startsWith(streamed.at(-1)!)).toBe(true);
    await expect.poll(() => page.locator(`#turn-${number} .action`).textContent()).toBe(action);
    // The turn's pictures appear beside it as they are drawn (image_ready while the stream is open).
    await page.locator(`#turn-${number} .picture img`).first().waitFor();
    expect(await page.locator(`#turn-${number} .picture figcaption`).first().textContent()).toContain(
      'placeholder: no image worker is configured',
    );
  }
  await page.getByRole('toolbar', { name: 'Turn 2' }).getByRole('button', { name: 'What the AI saw' }).click();
  await page.getByRole('complementary', { name: 'What the AI saw for turn 2' }).getByText('The plan (Strategist)').waitFor();
  await shot('02-story-two-turns');
});

it('branches from turn 1, then switches back to Main', async () => {
  await page.getByRole('toolbar', { name: 'Turn 1' }).getByRole('button', { name: 'Branch from here' }).click();
  await page.getByLabel('Name of the branch after turn 1').fill('The rooftops');
  await page.getByRole('button', { name: 'Start the branch' }).click();
  await page.getByText('The branch “The rooftops” starts after turn 1').waitFor();
  await expect.poll(() => page.locator('.passages > li').count()).toBe(1); // turn 2 stays on Main

  await page.getByRole('button', { name: 'Timelines' }).click();
  const rooftops = page.getByRole('treeitem').filter({ has: page.locator('strong', { hasText: 'The rooftops' }) });
  await rooftops.getByText(/playing now/).waitFor();
  await shot('03-timelines');
  const main = page.locator('.branch').filter({ has: page.locator('strong', { hasText: /^Main$/ }) });
  await main.getByRole('button', { name: 'Play this branch' }).click();
  await main.getByText(/playing now/).waitFor();

  await page.getByRole('button', { name: 'Passages' }).click();
  await expect.poll(() => page.locator('.passages > li').count()).toBe(2);
});

it('imports a character card PNG, and has the AI write another', async () => {
  await page.goto(`${base}/#/characters`);
  await page.getByLabel('Import a card file').setInputFiles(join(fixtures, 'sillytavern/release-1.12.6/default_Seraphina.png'));
  await page.getByText('Imported Seraphina.').waitFor();
  await page.getByText('Seraphina', { exact: true }).first().waitFor();
  await shot('04-characters');

  // A card written by the AI (the test model) from a name and an idea.
  await page.getByRole('button', { name: 'Written by the AI' }).click();
  await page.getByLabel('Character name').fill('Doge Orsini');
  await page.getByLabel(/Who they are/).fill('The vain, watchful ruler of Veyra, who wears the cursed crown.');
  await page.getByRole('button', { name: 'Create the character' }).click();
  await page.getByRole('heading', { name: 'Doge Orsini' }).waitFor();
  await page.locator('.gallery .tile', { hasText: 'Doge Orsini' }).waitFor(); // in the gallery
});

it("shows the story's cost per turn as a chart", async () => {
  const storyId = storyUrl.split('/').at(-1)!;
  await page.goto(`${base}/#/costs/${storyId}`);
  const chart = page.locator('figure[aria-label="Cost per turn"]');
  await chart.locator('svg').first().waitFor();
  // Each of Main's two turns has its tokens drawn as a bar (their cost is $0, a bar of no height).
  await expect.poll(() => chart.locator('.recharts-bar-rectangle path').count()).toBeGreaterThanOrEqual(2);
  await chart.getByText('Every turn cost $0: local and test models cost nothing.', { exact: false }).waitFor();
  await shot('05-costs');
});

it('uploads world info, gives the story its lore and cast, and shows the entry that fired', async () => {
  await page.goto(`${base}/#/lore`);
  await page.getByLabel('Upload world info').setInputFiles(join(fixtures, 'sillytavern/release-1.12.6/Eldoria.json'));
  await page.getByText(/Uploaded Eldoria \(\d+ entries\)\./).waitFor();
  await shot('06-lore');

  await page.goto(storyUrl);
  await page.getByRole('button', { name: 'Lore & cast' }).click();
  await page.getByRole('combobox', { name: 'Lorebook', exact: true }).selectOption({ label: 'Eldoria' });
  await page.getByRole('button', { name: 'Attach' }).click();
  await page.getByRole('button', { name: 'Detach Eldoria' }).waitFor();
  await page.getByRole('combobox', { name: 'Character', exact: true }).selectOption({ label: 'Seraphina' });
  await page.getByRole('button', { name: 'Add to the cast' }).click();
  await page.getByRole('button', { name: 'Remove Seraphina' }).waitFor();
  await shot('07-lore-and-cast');

  // Turn 3 sent from the keyboard; its action names one of Eldoria's keys.
  await page.getByRole('button', { name: 'Passages' }).click();
  await page.getByLabel('What do you do?').fill('I walk into the forest of Eldoria.');
  await page.getByLabel('What do you do?').press('Control+Enter');
  await page.getByText(/Turn 3 stored · cost/).waitFor();
  await page.getByRole('toolbar', { name: 'Turn 3' }).getByRole('button', { name: 'What the AI saw' }).click();
  const drawer = page.getByRole('complementary', { name: 'What the AI saw for turn 3' });
  await drawer.getByRole('heading', { name: 'Lore entries' }).waitFor();
  await drawer.getByText(/fired on this turn/).first().waitFor();
  await drawer.getByText(/\[lore: /).first().waitFor();
  await shot('08-what-the-ai-saw');
});

it('shows the settings, the providers and the image workers', async () => {
  await page.goto(`${base}/#/settings`);
  await page.getByRole('heading', { name: 'Models' }).waitFor();
  await page.getByRole('heading', { name: 'Provider health' }).waitFor();
  await page.getByRole('heading', { name: 'Image workers' }).waitFor();
  await shot('09-settings');
});

it('fits a phone-width screen, in light mode too', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(storyUrl);
  await page.getByRole('heading', { name: 'The Canal Thief' }).waitFor();
  await page.locator('#turn-2 .passage').waitFor();
  await expect.poll(() => page.locator('.picture-wait').count()).toBe(0); // every picture loaded
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await shot('10-story-phone-dark');
  // The cost chart fits the phone too.
  await page.goto(`${base}/#/costs/${storyUrl.split('/').at(-1)}`);
  await page.locator('figure[aria-label="Cost per turn"] svg').first().waitFor();
  const chart = await page.locator('figure[aria-label="Cost per turn"] .recharts-surface').first().boundingBox();
  expect(chart!.width).toBeLessThanOrEqual(390);
  expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
  await page.goto(storyUrl);
  await page.locator('#turn-2 .passage').waitFor();
  await page.getByRole('button', { name: 'Light mode' }).click();
  expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
  await shot('11-story-phone-light');
});
