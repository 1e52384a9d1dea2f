/** An XMP packet that cannot be read: not XML, not RDF, or over a limit. */
export class XmpError extends Error {
  override name = 'XmpError';
}

export interface XmlAttr {
  uri: string;
  prefix: string;
  local: string;
  value: string;
}

/** An element with its namespace resolved, its attributes, children and direct text. */
export interface XmlElement {
  uri: string;
  prefix: string;
  local: string;
  attrs: XmlAttr[];
  children: XmlElement[];
  text: string;
}

interface Scope {
  names: Map<string, string>;
  parent: Scope | null;
}

interface Open {
  el: XmlElement;
  qname: string;
  scope: Scope;
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace';

/**
 * A small, linear-time XML reader for XMP packets: elements, attributes, namespaces, text,
 * CDATA and the five predefined entities plus character references. A DOCTYPE is skipped,
 * never expanded (no entity-expansion bombs). Mismatched end tags are tolerated the way a
 * browser would (close up to the matching element), since truncated packets occur in real
 * files; exceeding `maxDepth` or `maxElements` throws.
 */
export function parseXml(
  xml: string,
  limits: { maxDepth: number; maxElements: number },
): XmlElement {
  const root: XmlElement = { uri: '', prefix: '', local: '', attrs: [], children: [], text: '' };
  const stack: Open[] = [
    { el: root, qname: '', scope: { names: new Map([['xml', XML_NS]]), parent: null } },
  ];
  let elements = 0;
  let i = 0;
  while (i < xml.length) {
    const top = stack[stack.length - 1] as Open;
    const lt = xml.indexOf('<', i);
    const textEnd = lt === -1 ? xml.length : lt;
    if (textEnd > i) top.el.text += decodeEntities(xml.slice(i, textEnd));
    if (lt === -1) break;
    if (xml.startsWith('<?', lt)) i = skipPast(xml, '?>', lt);
    else if (xml.startsWith('<!--', lt)) i = skipPast(xml, '-->', lt);
    else if (xml.startsWith('<![CDATA[', lt)) {
      const end = xml.indexOf(']]>', lt);
      if (end === -1) break;
      top.el.text += xml.slice(lt + 9, end);
      i = end + 3;
    } else if (xml.startsWith('<!', lt)) i = skipPast(xml, '>', lt);
    else if (xml.startsWith('</', lt)) {
      const gt = xml.indexOf('>', lt);
      if (gt === -1) break;
      const qname = xml.slice(lt + 2, gt).trim();
      const at = stack.findLastIndex((o) => o.qname === qname);
      if (at > 0) stack.length = at;
      i = gt + 1;
    } else {
      const tag = readStartTag(xml, lt);
      if (!tag) break;
      if (++elements > limits.maxElements)
        throw new XmpError(`the XMP packet has more than ${limits.maxElements} elements`);
      if (stack.length > limits.maxDepth)
        throw new XmpError(`the XMP packet nests deeper than ${limits.maxDepth} elements`);
      const open = openElement(tag.qname, tag.attrs, top.scope);
      top.el.children.push(open.el);
      if (!tag.selfClosing) stack.push(open);
      i = tag.end;
    }
  }
  return root;
}

function skipPast(xml: string, marker: string, from: number): number {
  const at = xml.indexOf(marker, from);
  return at === -1 ? xml.length : at + marker.length;
}

function openElement(qname: string, raw: [string, string][], parent: Scope): Open {
  let scope = parent;
  const declared = raw.filter(([name]) => name === 'xmlns' || name.startsWith('xmlns:'));
  if (declared.length > 0) {
    const names = new Map<string, string>();
    for (const [name, value] of declared) names.set(name === 'xmlns' ? '' : name.slice(6), value);
    scope = { names, parent };
  }
  const resolve = (name: string, isAttr: boolean) => {
    const colon = name.indexOf(':');
    const prefix = colon === -1 ? '' : name.slice(0, colon);
    const local = colon === -1 ? name : name.slice(colon + 1);
    // Unprefixed attributes have no namespace (Namespaces in XML 1.0, "Namespace Defaulting").
    const uri = isAttr && colon === -1 ? '' : (lookup(scope, prefix) ?? '');
    return { prefix, local, uri };
  };
  const attrs = raw
    .filter(([name]) => name !== 'xmlns' && !name.startsWith('xmlns:'))
    .map(([name, value]) => ({ ...resolve(name, true), value }));
  return { el: { ...resolve(qname, false), attrs, children: [], text: '' }, qname, scope };
}

function lookup(scope: Scope | null, prefix: string): string | undefined {
  for (let s = scope; s; s = s.parent) {
    const uri = s.names.get(prefix);
    if (uri !== undefined) return uri;
  }
  return undefined;
}

const NAME_END = /[\s/>=]/;

/** Reads `<name a="1" b='2'>` or `<name/>` at `lt`; null when the tag never ends. */
function readStartTag(
  xml: string,
  lt: number,
): { qname: string; attrs: [string, string][]; selfClosing: boolean; end: number } | null {
  let i = lt + 1;
  const nameStart = i;
  while (i < xml.length && !NAME_END.test(xml[i] as string)) i++;
  const qname = xml.slice(nameStart, i);
  if (qname.length === 0) return null;
  const attrs: [string, string][] = [];
  while (i < xml.length) {
    while (i < xml.length && /\s/.test(xml[i] as string)) i++;
    if (xml[i] === '>') return { qname, attrs, selfClosing: false, end: i + 1 };
    if (xml.startsWith('/>', i)) return { qname, attrs, selfClosing: true, end: i + 2 };
    const attrStart = i;
    while (i < xml.length && !NAME_END.test(xml[i] as string)) i++;
    const name = xml.slice(attrStart, i);
    while (i < xml.length && /\s/.test(xml[i] as string)) i++;
    if (name.length === 0 || xml[i] !== '=') return null;
    i++;
    while (i < xml.length && /\s/.test(xml[i] as string)) i++;
    const quote = xml[i];
    if (quote !== '"' && quote !== "'") return null;
    const close = xml.indexOf(quote, i + 1);
    if (close === -1) return null;
    attrs.push([name, decodeEntities(xml.slice(i + 1, close))]);
    i = close + 1;
  }
  return null;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Decodes the predefined entities and character references; unknown ones stay as written. */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,4});/gi, (whole, ref: string) => {
    if (ref[0] !== '#') return ENTITIES[ref] ?? whole;
    const code =
      ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1));
    return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff)
      ? String.fromCodePoint(code)
      : whole;
  });
}
