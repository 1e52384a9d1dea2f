import { describe, expect, test } from 'bun:test';
import { decodeIptcText, parseIptc } from './iptc.ts';

const dataset = (record: number, number: number, value: Buffer) => {
  const head = Buffer.from([0x1c, record, number, 0, 0]);
  head.writeUInt16BE(value.length, 3);
  return Buffer.concat([head, value]);
};
const UTF8 = dataset(1, 90, Buffer.from([0x1b, 0x25, 0x47]));

describe('parseIptc', () => {
  test('names record-2 datasets and repeats Keywords', () => {
    const block = Buffer.concat([
      dataset(2, 0, Buffer.from([0, 4])),
      dataset(2, 25, Buffer.from('Paris')),
      dataset(2, 25, Buffer.from('river')),
      dataset(2, 120, Buffer.from('A caption')),
      dataset(2, 55, Buffer.from('20051214')),
      dataset(2, 60, Buffer.from('143947+0100')),
      dataset(2, 120, Buffer.from('A second caption is not repeatable')),
    ]);
    expect(parseIptc(block)).toEqual({
      Keywords: ['Paris', 'river'],
      Caption: 'A caption',
      DateCreated: '20051214',
      TimeCreated: '143947+0100',
    });
  });

  test('decodes by CodedCharacterSet: UTF-8 when declared, Latin-1 when declared otherwise', () => {
    const cafeUtf8 = Buffer.from('Café', 'utf8');
    const cafeLatin1 = Buffer.from('Café', 'latin1');
    expect(parseIptc(Buffer.concat([UTF8, dataset(2, 25, cafeUtf8)])).Keywords).toEqual(['Café']);
    const latin = dataset(1, 90, Buffer.from('\x1b.A', 'latin1'));
    // Declared Latin-1: UTF-8-looking bytes are read as Latin-1, as the file says.
    expect(parseIptc(Buffer.concat([latin, dataset(2, 25, cafeUtf8)])).Keywords).toEqual(['CafÃ©']);
    expect(parseIptc(Buffer.concat([latin, dataset(2, 25, cafeLatin1)])).Keywords).toEqual([
      'Café',
    ]);
  });

  test('without CodedCharacterSet: valid UTF-8 is UTF-8, anything else Windows-1252', () => {
    expect(parseIptc(dataset(2, 25, Buffer.from('Zürich', 'utf8'))).Keywords).toEqual(['Zürich']);
    expect(parseIptc(dataset(2, 25, Buffer.from('Zürich', 'latin1'))).Keywords).toEqual(['Zürich']);
    expect(decodeIptcText(Buffer.from([0x80, 0x20, 0x35]), 'unknown')).toBe('€ 5');
  });

  test('stops at garbage or an extended dataset instead of reading on', () => {
    const block = Buffer.concat([
      dataset(2, 25, Buffer.from('ok')),
      Buffer.from([0x1c, 2, 25, 0x80, 4, 0, 0, 0, 0]),
    ]);
    expect(parseIptc(block)).toEqual({ Keywords: ['ok'] });
    expect(parseIptc(Buffer.from('not iptc at all'))).toEqual({});
  });
});
