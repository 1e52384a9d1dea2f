import { describe, expect, test } from 'bun:test';
import { SidecarMetadata } from '@aex/shared';
import { findSidecars, parseTakeoutJson, parseXmpSidecar, SidecarError } from './sidecars.ts';

// As Lightroom Classic writes it beside a raw file (trimmed of develop settings).
const LIGHTROOM = `<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0-c000 1.000000, 0000/00/00-00:00:00        ">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:tiff="http://ns.adobe.com/tiff/1.0/"
    xmlns:exif="http://ns.adobe.com/exif/1.0/"
    xmlns:aux="http://ns.adobe.com/exif/1.0/aux/"
    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
   xmp:CreatorTool="Adobe Photoshop Lightroom Classic 12.1 (Macintosh)"
   xmp:ModifyDate="2023-01-14T18:32:05+01:00"
   xmp:CreateDate="2022-07-09T14:21:33.45+02:00"
   xmp:MetadataDate="2023-01-14T18:32:05+01:00"
   xmp:Rating="4"
   xmp:Label="Red"
   tiff:Make="FUJIFILM"
   tiff:Model="X-T3"
   exif:ExposureTime="1/250"
   exif:FNumber="28/10"
   exif:DateTimeOriginal="2022-07-09T14:21:33.45+02:00"
   exif:GPSLatitude="48,51.2057N"
   exif:GPSLongitude="2,17.6511E"
   exif:GPSAltitudeRef="0"
   exif:GPSAltitude="3500/100"
   exif:GPSVersionID="2.3.0.0"
   aux:Lens="XF23mmF1.4 R"
   photoshop:DateCreated="2022-07-09T14:21:33.45+02:00"
   xmpMM:DocumentID="xmp.did:8c2f4c1e-5a7b-4bd0-9a49-0a1f3f3b1e2d"
   crs:Version="15.1"
   crs:Exposure2012="+0.35"
   crs:HasSettings="True">
   <dc:subject>
    <rdf:Bag>
     <rdf:li>Paris</rdf:li>
     <rdf:li>river</rdf:li>
     <rdf:li>Seine</rdf:li>
    </rdf:Bag>
   </dc:subject>
   <dc:description>
    <rdf:Alt>
     <rdf:li xml:lang="x-default">Evening light on the Seine</rdf:li>
    </rdf:Alt>
   </dc:description>
   <lr:hierarchicalSubject>
    <rdf:Bag>
     <rdf:li>Places|France|Paris</rdf:li>
     <rdf:li>Subjects|Water|river</rdf:li>
     <rdf:li>Subjects|Bridges</rdf:li>
    </rdf:Bag>
   </lr:hierarchicalSubject>
   <xmpMM:History>
    <rdf:Seq>
     <rdf:li stEvt:action="saved" stEvt:when="2023-01-14T18:32:05+01:00"
      stEvt:softwareAgent="Adobe Photoshop Lightroom Classic 12.1 (Macintosh)" stEvt:changed="/metadata"/>
    </rdf:Seq>
   </xmpMM:History>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>`;

// As darktable 4 writes IMG_1234.CR2.xmp: EXIF-style date without a zone, a reject, its own tags.
const DARKTABLE = `<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:exif="http://ns.adobe.com/exif/1.0/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
    xmlns:darktable="http://darktable.sf.net/"
   exif:DateTimeOriginal="2019:05:12 13:44:05"
   exif:GPSLatitude="45,26.0510N"
   exif:GPSLongitude="12,20.1890E"
   exif:GPSAltitude="12/1"
   exif:GPSAltitudeRef="0"
   xmp:Rating="-1"
   xmpMM:DerivedFrom="IMG_1234.CR2"
   darktable:import_timestamp="63693567845000000"
   darktable:xmp_version="5"
   darktable:history_end="1">
   <dc:subject>
    <rdf:Bag>
     <rdf:li>Venice</rdf:li>
     <rdf:li>canal</rdf:li>
    </rdf:Bag>
   </dc:subject>
   <lr:hierarchicalSubject>
    <rdf:Bag>
     <rdf:li>darktable|format|cr2</rdf:li>
     <rdf:li>darktable|changed</rdf:li>
     <rdf:li>places|Italy|Venice</rdf:li>
    </rdf:Bag>
   </lr:hierarchicalSubject>
   <darktable:history>
    <rdf:Seq>
     <rdf:li darktable:num="0" darktable:operation="exposure" darktable:enabled="1" darktable:params="0000000000"/>
    </rdf:Seq>
   </darktable:history>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>`;

// As digiKam 7 writes photo.jpg.xmp: tags as paths, a Windows rating beside the XMP one.
const DIGIKAM = `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
    xmlns:digiKam="http://www.digikam.org/ns/1.0/"
    xmlns:MicrosoftPhoto="http://ns.microsoft.com/photo/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
   xmp:MetadataDate="2021-03-02T10:11:12+01:00"
   xmp:Rating="3"
   MicrosoftPhoto:Rating="50"
   photoshop:DateCreated="2020-12-24T18:30:00+01:00">
   <digiKam:TagsList><rdf:Seq><rdf:li>People/Family/Anna</rdf:li><rdf:li>Events/Christmas</rdf:li></rdf:Seq></digiKam:TagsList>
   <lr:hierarchicalSubject><rdf:Bag><rdf:li>People|Family|Anna</rdf:li><rdf:li>Events|Christmas</rdf:li></rdf:Bag></lr:hierarchicalSubject>
   <dc:subject><rdf:Bag><rdf:li>Anna</rdf:li><rdf:li>Christmas</rdf:li></rdf:Bag></dc:subject>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">Christmas Eve &amp; presents</rdf:li></rdf:Alt></dc:description>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`;

describe('parseXmpSidecar', () => {
  test('Lightroom: dates with zone, MetadataDate, rating, keywords, description, GPS', () => {
    expect(parseXmpSidecar(LIGHTROOM)).toEqual({
      source: 'xmp',
      takenAt: '2022-07-09T12:21:33.450Z',
      takenAtOffset: 120,
      modifiedAt: '2023-01-14T17:32:05.000Z',
      description: 'Evening light on the Seine',
      keywords: ['Paris', 'river', 'Seine', 'Bridges'],
      rating: 4,
      location: {
        latitude: expect.closeTo(48.853428, 6),
        longitude: expect.closeTo(2.294185, 6),
        altitude: 35,
      },
    });
  });

  test('darktable: a zoneless date, a reject, no modification date, its own tags left out', () => {
    expect(parseXmpSidecar(DARKTABLE)).toEqual({
      source: 'xmp',
      takenAt: '2019-05-12T13:44:05.000Z',
      takenAtOffset: null,
      keywords: ['Venice', 'canal'],
      rating: -1,
      location: {
        latitude: expect.closeTo(45.434183, 6),
        longitude: expect.closeTo(12.33648, 5),
        altitude: 12,
      },
    });
  });

  test('digiKam: photoshop:DateCreated, tag paths, entities, xmp:Rating over MicrosoftPhoto', () => {
    expect(parseXmpSidecar(DIGIKAM)).toEqual({
      source: 'xmp',
      takenAt: '2020-12-24T17:30:00.000Z',
      takenAtOffset: 60,
      modifiedAt: '2021-03-02T09:11:12.000Z',
      description: 'Christmas Eve & presents',
      keywords: ['Anna', 'Christmas'],
      rating: 3,
    });
  });

  test('the result always satisfies the SidecarMetadata contract', () => {
    for (const xml of [LIGHTROOM, DARKTABLE, DIGIKAM])
      expect(SidecarMetadata.safeParse(parseXmpSidecar(xml)).success).toBe(true);
  });

  test.each([
    ['plain text', 'not xml at all', /not an XMP packet/],
    ['JSON', '{"title":"a.jpg"}', /not an XMP packet/],
    ['an HTML page', '<html><body>404</body></html>', /not an XMP packet/],
    ['a 3 MB packet', `${LIGHTROOM}<!--${'x'.repeat(3_000_000)}-->`, /over the/],
  ])('%s is a SidecarError', (_, text, message) => {
    expect(() => parseXmpSidecar(text)).toThrow(SidecarError);
    expect(() => parseXmpSidecar(text)).toThrow(message);
  });
});

// As Google Takeout exports IMG_20190512_134405.jpg.json (2023); newer exports name it
// IMG_20190512_134405.jpg.supplemental-metadata.json with the same fields.
const TAKEOUT = JSON.stringify({
  title: 'IMG_20190512_134405.jpg',
  description: 'Gondola ride',
  imageViews: '42',
  creationTime: { timestamp: '1557670000', formatted: '12 May 2019, 14:06:40 UTC' },
  photoTakenTime: { timestamp: '1557661445', formatted: '12 May 2019, 11:44:05 UTC' },
  geoData: {
    latitude: 45.4341833,
    longitude: 12.3364833,
    altitude: 12.0,
    latitudeSpan: 0.0,
    longitudeSpan: 0.0,
  },
  geoDataExif: {
    latitude: 45.4341833,
    longitude: 12.3364833,
    altitude: 12.0,
    latitudeSpan: 0.0,
    longitudeSpan: 0.0,
  },
  people: [{ name: 'Anna' }],
  url: 'https://photos.google.com/photo/AF1QipNexample',
  googlePhotosOrigin: {
    mobileUpload: { deviceFolder: { localFolderName: '' }, deviceType: 'ANDROID_PHONE' },
  },
  photoLastModifiedTime: { timestamp: '1557680000', formatted: '12 May 2019, 16:53:20 UTC' },
});

describe('parseTakeoutJson', () => {
  test('photoTakenTime (UTC), description, geoData, photoLastModifiedTime', () => {
    expect(parseTakeoutJson(TAKEOUT)).toEqual({
      source: 'takeout',
      takenAt: '2019-05-12T11:44:05.000Z',
      takenAtOffset: null,
      modifiedAt: '2019-05-12T16:53:20.000Z',
      description: 'Gondola ride',
      location: { latitude: 45.4341833, longitude: 12.3364833, altitude: 12 },
    });
  });

  test('geoData 0,0 means none: geoDataExif is used, and with both 0,0 there is no location', () => {
    const base = JSON.parse(TAKEOUT);
    const zero = { latitude: 0, longitude: 0, altitude: 0, latitudeSpan: 0, longitudeSpan: 0 };
    const exifOnly = parseTakeoutJson(
      JSON.stringify({
        ...base,
        geoData: zero,
        geoDataExif: { ...zero, latitude: -33.8568, longitude: 151.2153 },
      }),
    );
    expect(exifOnly.location).toEqual({ latitude: -33.8568, longitude: 151.2153, altitude: null });
    expect(
      parseTakeoutJson(JSON.stringify({ ...base, geoData: zero, geoDataExif: zero })).location,
    ).toBeUndefined();
  });

  test('an older export: no description, modificationTime; creationTime as the last resort', () => {
    const { photoLastModifiedTime: _, description: __, ...base } = JSON.parse(TAKEOUT);
    expect(
      parseTakeoutJson(
        JSON.stringify({ ...base, description: '', modificationTime: { timestamp: '1557675000' } }),
      ),
    ).toMatchObject({ modifiedAt: '2019-05-12T15:30:00.000Z' });
    const created = parseTakeoutJson(JSON.stringify(base));
    expect(created.modifiedAt).toBe('2019-05-12T14:06:40.000Z');
    expect(created.description).toBeUndefined();
  });

  test.each([
    ['not JSON', '{"title": ', /not JSON/],
    ['an array', '[1, 2]', /not usable/],
    [
      'JSON of something else',
      '{"name":"package","version":"1.0.0"}',
      /not a Google Takeout photo sidecar/,
    ],
    [
      'a timestamp that is not a number',
      '{"photoTakenTime":{"timestamp":"yesterday"}}',
      /photoTakenTime/,
    ],
    [
      'a latitude out of range',
      '{"title":"a.jpg","geoData":{"latitude":123,"longitude":1}}',
      /out of range/,
    ],
  ])('%s is a SidecarError', (_, text, message) => {
    expect(() => parseTakeoutJson(text)).toThrow(SidecarError);
    expect(() => parseTakeoutJson(text)).toThrow(message);
  });
});

describe('findSidecars', () => {
  const long = 'IMG_20190512_134405_a_very_long_name_from_a_phone.jpg';
  test.each([
    ['photo.jpg', ['photo.jpg', 'photo.jpg.xmp', 'photo.xmp'], { xmp: 'photo.jpg.xmp' }],
    ['photo.jpg', ['photo.xmp', 'photo.CR2'], { xmp: 'photo.xmp' }],
    ['IMG_1.JPG', ['IMG_1.JPG.xmp'], { xmp: 'IMG_1.JPG.xmp' }],
    ['IMG_1.jpg', ['IMG_1.JPG.XMP'], { xmp: 'IMG_1.JPG.XMP' }],
    ['IMG_1.jpg', ['IMG_1.JPG.xmp', 'IMG_1.jpg.xmp'], { xmp: 'IMG_1.jpg.xmp' }],
    ['photo.jpg', ['photo.jpg.json'], { takeout: 'photo.jpg.json' }],
    [
      'photo.jpg',
      ['photo.jpg.json', 'photo.jpg.supplemental-metadata.json', 'photo.jpg.xmp'],
      { xmp: 'photo.jpg.xmp', takeout: 'photo.jpg.supplemental-metadata.json' },
    ],
    [
      long,
      [`${long.slice(0, 46)}.json`],
      { takeout: 'IMG_20190512_134405_a_very_long_name_from_a_ph.json' },
    ],
    [
      'PXL_20230518_163045123.jpg',
      ['PXL_20230518_163045123.jpg.supplemental-metada.json'],
      { takeout: 'PXL_20230518_163045123.jpg.supplemental-metada.json' },
    ],
    ['photo(1).jpg', ['photo.jpg.json', 'photo.jpg(1).json'], { takeout: 'photo.jpg(1).json' }],
    [
      'photo(2).jpg',
      ['photo.jpg.supplemental-metadata(2).json'],
      { takeout: 'photo.jpg.supplemental-metadata(2).json' },
    ],
    ['photo-edited.jpg', ['photo.jpg.json'], { takeout: 'photo.jpg.json' }],
    ['photo.jpg', ['photo.json'], { takeout: 'photo.json' }],
    ['/imports/2019/photo.jpg', ['photo.jpg.xmp'], { xmp: 'photo.jpg.xmp' }],
    ['photo.jpg', ['other.jpg.json', 'photo.jpeg.xmp', 'photo(1).jpg.json', 'photo.jpg'], {}],
  ])('%s among %j', (path, siblings, expected) => {
    expect(findSidecars(path, siblings)).toEqual(expected);
  });
});
