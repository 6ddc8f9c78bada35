/**
 * A tiny element builder. Text always goes in as text nodes (never innerHTML), so nothing the agent
 * returns (finding titles, evidence, report payloads) can become markup or script.
 */
export type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : value);
  }
  append(element, children);
  return element;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number> = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  append(element, children);
  return element;
}

function append(parent: Element, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'number' ? String(child) : child);
  }
}

/** The stable name of a panel the reader can open: its `data-panel`, else its id. */
function panelKey(element: Element): string | null {
  return element.getAttribute('data-panel') ?? (element.id || null);
}

/**
 * Replace the contents of the element with this id. Panels (`<details>` with a `data-panel` or an
 * id) the reader had open stay open in the new content, so a live update never snaps shut what
 * someone is reading.
 */
export function replaceContent(id: string, ...children: Child[]): void {
  const target = document.getElementById(id);
  if (!target) return;
  const open = new Set<string>();
  for (const panel of target.querySelectorAll('details[open]')) {
    const key = panelKey(panel);
    if (key !== null) open.add(key);
  }
  target.replaceChildren();
  append(target, children);
  if (open.size === 0) return;
  for (const panel of target.querySelectorAll('details')) {
    const key = panelKey(panel);
    if (key !== null && open.has(key)) (panel as HTMLDetailsElement).open = true;
  }
}
