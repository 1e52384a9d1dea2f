import { parseXml, type XmlElement, XmpError } from './xml.ts';

export { XmpError } from './xml.ts';

/**
 * An XMP value (XMP Specification Part 1, data model): simple text, an array (Bag/Seq), or a
 * struct or language alternative.
 */
export type XmpValue = string | XmpValue[] | XmpStruct;
export interface XmpStruct {
  [name: string]: XmpValue;
}
/** Top-level XMP properties, keyed `prefix:Name` with the conventional prefix of each namespace. */
export type XmpProperties = Record<string, XmpValue>;

/** Bounds on the work one packet may cost, so a hostile file cannot stall ingestion. */
export interface XmpLimits {
  /** Characters read; a longer packet is refused. */
  maxLength: number;
  /** Element nesting. */
  maxDepth: number;
  /** Elements in all. */
  maxElements: number;
}

export const DEFAULT_XMP_LIMITS: XmpLimits = {
  maxLength: 2 * 1024 * 1024,
  maxDepth: 64,
  maxElements: 50_000,
};

const RDF = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';
const XML = 'http://www.w3.org/XML/1998/namespace';

// Properties are looked up by namespace URI, not by the prefix a writer chose: Photoshop CS2
// writes the xmp namespace as `xap:`, and older MicrosoftPhoto packets omit the trailing slash.
const PREFIXES: Record<string, string> = {
  'http://ns.adobe.com/xap/1.0/': 'xmp',
  'http://ns.adobe.com/xap/1.0/mm/': 'xmpMM',
  'http://ns.adobe.com/xap/1.0/rights/': 'xmpRights',
  'http://purl.org/dc/elements/1.1/': 'dc',
  'http://ns.adobe.com/exif/1.0/': 'exif',
  'http://cipa.jp/exif/1.0/': 'exifEX',
  'http://ns.adobe.com/tiff/1.0/': 'tiff',
  'http://ns.adobe.com/exif/1.0/aux/': 'aux',
  'http://ns.adobe.com/photoshop/1.0/': 'photoshop',
  'http://ns.adobe.com/lightroom/1.0/': 'lr',
  'http://ns.adobe.com/camera-raw-settings/1.0/': 'crs',
  'http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/': 'Iptc4xmpCore',
  'http://iptc.org/std/Iptc4xmpExt/2008-02-29/': 'Iptc4xmpExt',
  'http://ns.microsoft.com/photo/1.0/': 'MicrosoftPhoto',
  'http://ns.microsoft.com/photo/1.0': 'MicrosoftPhoto',
  'http://www.digikam.org/ns/1.0/': 'digiKam',
  'http://darktable.sf.net/': 'darktable',
};

/**
 * Parses an XMP packet (`<x:xmpmeta>…<rdf:RDF>…`, as embedded in a file or written as a
 * `.xmp` sidecar by Lightroom, darktable or digiKam) into its top-level properties.
 *
 * Written here rather than using exifr's XMP parser because that one turns numeric-looking
 * text into numbers (keyword `007` → 7, description `1e3` → 1000), leaves XML entities
 * undecoded (`Rock &amp; Roll`), keys properties by the writer's prefix, and is regex-based
 * with quadratic time on unclosed tags. This one is a linear scan with bounded depth and
 * size. Throws {@link XmpError} when the text is not an XMP packet or exceeds `limits`.
 */
export function parseXmpPacket(xml: string, limits: XmpLimits = DEFAULT_XMP_LIMITS): XmpProperties {
  if (xml.length > limits.maxLength)
    throw new XmpError(
      `the XMP packet has ${xml.length} characters, over the ${limits.maxLength} read`,
    );
  const root = parseXml(xml, limits);
  const rdf = findAll(root, (el) => el.uri === RDF && el.local === 'RDF');
  if (rdf.length === 0) throw new XmpError('no rdf:RDF element: this is not an XMP packet');
  const out: XmpProperties = {};
  for (const r of rdf)
    for (const d of r.children)
      if (d.uri === RDF && d.local === 'Description') collectProperties(d, out);
  return out;
}

function findAll(root: XmlElement, match: (el: XmlElement) => boolean): XmlElement[] {
  const found: XmlElement[] = [];
  const queue = [root];
  for (let el = queue.pop(); el; el = queue.pop()) {
    if (match(el)) found.push(el);
    else for (const child of el.children) queue.push(child);
  }
  return found;
}

function keyOf(node: { uri: string; prefix: string; local: string }): string {
  return `${PREFIXES[node.uri] ?? (node.prefix || 'ns')}:${node.local}`;
}

/** The properties of an rdf:Description or a struct: its attributes and child elements. */
function collectProperties(el: XmlElement, out: XmpStruct): XmpStruct {
  for (const attr of el.attrs) {
    if (attr.uri === RDF || attr.uri === XML || attr.uri === '') continue;
    const key = keyOf(attr);
    // The first Description that states a property wins, as XMP forbids repeating one.
    if (!(key in out)) out[key] = attr.value;
  }
  for (const child of el.children) {
    const key = keyOf(child);
    if (key in out) continue;
    const value = propertyValue(child);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function rdfAttr(el: XmlElement, local: string): string | undefined {
  return el.attrs.find((a) => a.uri === RDF && a.local === local)?.value;
}

// The RDF/XML forms XMP uses (XMP Specification Part 1, serialization): simple text,
// rdf:resource, a container (Bag/Seq/Alt), a struct by rdf:parseType="Resource", by a nested
// rdf:Description, or by qualifier attributes on an empty element.
function propertyValue(el: XmlElement): XmpValue | undefined {
  const resource = rdfAttr(el, 'resource');
  if (resource !== undefined) return resource;
  if (rdfAttr(el, 'parseType') === 'Resource') return collectProperties(el, {});
  const container = el.children.find(
    (c) => c.uri === RDF && (c.local === 'Bag' || c.local === 'Seq' || c.local === 'Alt'),
  );
  if (container) return listValue(container);
  const description = el.children.find((c) => c.uri === RDF && c.local === 'Description');
  if (description) return collectProperties(description, {});
  const qualified = el.attrs.some((a) => a.uri !== RDF && a.uri !== XML && a.uri !== '');
  if (el.children.length > 0 || qualified) return collectProperties(el, {});
  return el.text;
}

function listValue(container: XmlElement): XmpValue {
  const items = container.children.filter((c) => c.uri === RDF && c.local === 'li');
  const lang = (li: XmlElement) => li.attrs.find((a) => a.uri === XML && a.local === 'lang')?.value;
  // A language alternative (dc:description) becomes { 'x-default': …, 'de-DE': … }.
  if (container.local === 'Alt' && items.some((li) => lang(li) !== undefined)) {
    const alt: XmpStruct = {};
    for (const li of items) {
      const key = lang(li) ?? 'x-default';
      if (key !== '__proto__' && !(key in alt)) alt[key] = li.text;
    }
    return alt;
  }
  const values: XmpValue[] = [];
  for (const li of items) {
    const value = propertyValue(li);
    if (value !== undefined) values.push(value);
  }
  return values;
}
