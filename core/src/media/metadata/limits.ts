/**
 * The most read for one metadata block. Real EXIF fits in 64 KB (one JPEG APP1) and XMP rarely
 * passes 100 KB; these leave room for unusual files while bounding hostile ones.
 */
export const MAX_EXIF_BYTES = 1024 * 1024;
export const MAX_XMP_BYTES = 2 * 1024 * 1024;
