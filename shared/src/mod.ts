export * from './api/albums.ts';
export * from './api/images.ts';
export * from './blob-keys.ts';
export * from './config.ts';
export * from './errors.ts';
export * from './events.ts';
export * from './ids.ts';
export * from './subjects.ts';
