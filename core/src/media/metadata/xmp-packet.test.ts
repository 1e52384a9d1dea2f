import { describe, expect, test } from 'bun:test';
import { xmpPacket } from './synthetic-files.ts';
import { parseXmpPacket, XmpError } from './xmp-packet.ts';

describe('parseXmpPacket', () => {
  test('reads simple, attribute, Bag, Seq, Alt and struct properties', () => {
    const props = parseXmpPacket(
      xmpPacket(
        'xmp:Rating="3" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/" xmlns:stRef="http://ns.adobe.com/xap/1.0/sType/ResourceRef#"',
        `<dc:subject><rdf:Bag><rdf:li>007</rdf:li><rdf:li>Rock &amp; Roll</rdf:li><rdf:li>Caf&#xE9; &#233;t&#233;</rdf:li></rdf:Bag></dc:subject>
         <dc:creator><rdf:Seq><rdf:li>Ann</rdf:li></rdf:Seq></dc:creator>
         <dc:description><rdf:Alt><rdf:li xml:lang="x-default">1e3</rdf:li><rdf:li xml:lang="de-DE">Tausend</rdf:li></rdf:Alt></dc:description>
         <xmp:Label><![CDATA[a <b> c]]></xmp:Label>
         <xmpMM:DerivedFrom stRef:documentID="doc-1"/>
         <xmpMM:Ingredients rdf:parseType="Resource"><stRef:filePath>a.psd</stRef:filePath></xmpMM:Ingredients>
         <xmpMM:Manifest><rdf:Description stRef:instanceID="i-2"/></xmpMM:Manifest>`,
      ),
    );
    // Text stays text: exifr's parser would give 7 and 1000 here, and leave "&amp;" encoded.
    expect(props['dc:subject']).toEqual(['007', 'Rock & Roll', 'Café été']);
    expect(props['dc:creator']).toEqual(['Ann']);
    expect(props['dc:description']).toEqual({ 'x-default': '1e3', 'de-DE': 'Tausend' });
    expect(props['xmp:Rating']).toBe('3');
    expect(props['xmp:Label']).toBe('a <b> c');
    expect(props['xmpMM:DerivedFrom']).toEqual({ 'stRef:documentID': 'doc-1' });
    expect(props['xmpMM:Ingredients']).toEqual({ 'stRef:filePath': 'a.psd' });
    expect(props['xmpMM:Manifest']).toEqual({ 'stRef:instanceID': 'i-2' });
  });

  test('keys properties by namespace URI, not by the prefix a writer chose', () => {
    // Photoshop CS2 writes the xmp namespace as "xap:"; the default namespace works too.
    const props =
      parseXmpPacket(`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
      <rdf:Description xmlns:xap="http://ns.adobe.com/xap/1.0/" xap:CreateDate="2005-09-07T15:07:40-07:00"/>
      <rdf:Description><Rating xmlns="http://ns.adobe.com/xap/1.0/">2</Rating></rdf:Description>
      <rdf:Description xmlns:foo="http://example.com/foo/" foo:Bar="baz"/>
    </rdf:RDF></x:xmpmeta>`);
    expect(props['xmp:CreateDate']).toBe('2005-09-07T15:07:40-07:00');
    expect(props['xmp:Rating']).toBe('2');
    expect(props['foo:Bar']).toBe('baz');
  });

  test('the first description that states a property wins', () => {
    const props = parseXmpPacket(
      `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
        <rdf:Description xmp:Rating="1"/><rdf:Description xmp:Rating="5"/></rdf:RDF>`,
    );
    expect(props['xmp:Rating']).toBe('1');
  });

  test('skips comments, processing instructions and a DOCTYPE without expanding entities', () => {
    const props = parseXmpPacket(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>
      <!-- <rdf:Description xmp:Rating="9"/> -->
      <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
        <rdf:Description xmp:Label="&a;"/></rdf:RDF>`);
    expect(props).toEqual({ 'xmp:Label': '&a;' });
  });

  test('tolerates a truncated packet and mismatched end tags', () => {
    const full = xmpPacket(
      'xmp:Rating="4"',
      '<dc:subject><rdf:Bag><rdf:li>a</rdf:li></rdf:Bag></dc:subject>',
    );
    expect(parseXmpPacket(full.slice(0, full.indexOf('</dc:subject>')))).toMatchObject({
      'xmp:Rating': '4',
      'dc:subject': ['a'],
    });
    expect(
      parseXmpPacket(full.replace('</rdf:Bag>', '</rdf:Seq></rdf:Bag>'))['dc:subject'],
    ).toEqual(['a']);
  });

  test.each([
    ['plain text', 'hello'],
    ['HTML', '<html><body>hi</body></html>'],
    ['an empty string', ''],
  ])('%s is not an XMP packet', (_, text) => {
    expect(() => parseXmpPacket(text)).toThrow(XmpError);
  });

  test('refuses packets over the size, depth or element limits', () => {
    const limits = { maxLength: 1000, maxDepth: 8, maxElements: 20 };
    expect(() => parseXmpPacket(xmpPacket('', ' '.repeat(1000)), limits)).toThrow(/over the 1000/);
    const deep = `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">${'<a:b>'.repeat(10)}`;
    expect(() => parseXmpPacket(deep, limits)).toThrow(/deeper than 8/);
    const wide = `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">${'<a:b/>'.repeat(30)}</rdf:RDF>`;
    expect(() => parseXmpPacket(wide, limits)).toThrow(/more than 20 elements/);
  });

  test('takes linear time on hostile input (unclosed tags, attribute soup)', () => {
    const rdf =
      '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description>';
    const unclosed = `${rdf}${'<a:b>x'.repeat(300_000)}`;
    const mismatched = `${rdf}${'<a:b>x</a:c>'.repeat(150_000)}`;
    const siblings = `${rdf}${'<a:b>x</a:b>'.repeat(150_000)}`;
    const soup = `${rdf}<a:b ${'c:d="e"  '.repeat(200_000)}`;
    const timed = (parse: () => unknown) => {
      const started = performance.now();
      try {
        parse();
      } catch (error) {
        if (!(error instanceof XmpError)) throw error;
      }
      return performance.now() - started;
    };
    // exifr's regex-based parser needs about a second for 80 KB of unclosed tags; these are 1.8 MB.
    for (const text of [unclosed, mismatched, siblings, soup])
      expect(timed(() => parseXmpPacket(text))).toBeLessThan(1000);
    // Past the element limit too, 150,000 elements parse in linear time.
    const wide = { maxLength: 4e6, maxDepth: 64, maxElements: 1e6 };
    expect(timed(() => parseXmpPacket(siblings, wide))).toBeLessThan(2000);
  });
});
