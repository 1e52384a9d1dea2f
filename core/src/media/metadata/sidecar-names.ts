import { basename } from 'node:path';

/** The sidecar files found beside a photo, by their names in `siblingNames`. */
export interface SidecarFiles {
  /** An XMP sidecar (`photo.jpg.xmp`, `photo.xmp`). */
  xmp?: string;
  /** A Google Takeout JSON sidecar (`photo.jpg.json`, `photo.jpg.supplemental-metadata.json`). */
  takeout?: string;
}

// Google Takeout cuts the JSON's name (without ".json") to 46 characters, so a long name
// ends up as "….jpg.supplemen.json" or "IMG_2019…_long_na.json" (51 characters in all).
const TAKEOUT_NAME_LIMIT = 46;
// Google Photos names an edited copy "photo-edited.jpg" and keeps only "photo.jpg.json".
const EDITED_SUFFIX = /-edited$/i;

/**
 * Finds the sidecars of `filePath` among the names of the files in its folder. Names match
 * without regard to case (`photo.JPG.xmp` for `photo.jpg`), preferring an exact match.
 * XMP: `photo.jpg.xmp` (darktable, digiKam) before `photo.xmp` (Lightroom, Bridge).
 * Takeout: `photo.jpg.supplemental-metadata.json` (exports since 2024), `photo.jpg.json`, both
 * as Google truncates them, with the `(n)` that Google moves behind the extension for
 * duplicates (`photo(1).jpg` ↔ `photo.jpg(1).json`), and the original's JSON for an
 * `-edited` copy. Pure: reads nothing.
 */
export function findSidecars(filePath: string, siblingNames: string[]): SidecarFiles {
  const name = basename(filePath);
  const siblings = new Map<string, string[]>();
  for (const sibling of siblingNames) {
    const key = sibling.toLowerCase();
    siblings.set(key, [...(siblings.get(key) ?? []), sibling]);
  }
  const pick = (candidates: string[]): string | undefined => {
    for (const candidate of candidates) {
      if (candidate.toLowerCase() === name.toLowerCase()) continue;
      const found = siblings.get(candidate.toLowerCase());
      if (found) return found.find((f) => f === candidate) ?? found[0];
    }
    return undefined;
  };
  const found: SidecarFiles = {};
  const xmp = pick(xmpCandidates(name));
  if (xmp) found.xmp = xmp;
  const takeout = pick(takeoutCandidates(name));
  if (takeout) found.takeout = takeout;
  return found;
}

function splitExtension(name: string): [stem: string, extension: string] {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
}

function xmpCandidates(name: string): string[] {
  const [stem] = splitExtension(name);
  return [`${name}.xmp`, `${stem}.xmp`];
}

function takeoutCandidates(name: string): string[] {
  const [stem, extension] = splitExtension(name);
  // The newer name first: an export has one or the other.
  const json = (base: string, counter = '') => [
    `${`${base}.supplemental-metadata`.slice(0, TAKEOUT_NAME_LIMIT)}${counter}.json`,
    `${base.slice(0, TAKEOUT_NAME_LIMIT)}${counter}.json`,
  ];
  // "photo(1).jpg": Takeout writes "photo.jpg(1).json" (and "….supplemental-metadata(1).json").
  const numbered = /^(.*)(\(\d+\))$/.exec(stem);
  const candidates = numbered ? json(`${numbered[1]}${extension}`, numbered[2]) : [];
  candidates.push(...json(name));
  if (EDITED_SUFFIX.test(stem))
    candidates.push(...json(`${stem.replace(EDITED_SUFFIX, '')}${extension}`));
  // Older exports sometimes drop the photo's extension: "photo.json".
  candidates.push(`${stem.slice(0, TAKEOUT_NAME_LIMIT)}.json`);
  return candidates;
}
