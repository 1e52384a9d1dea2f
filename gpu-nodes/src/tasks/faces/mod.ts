// The faces task's public surface: what the worker needs to load and run it.
export { DETECTOR_MODEL_ID } from './detector.ts';
export { FACE_EMBEDDERS, type FaceEmbedderId } from './embed.ts';
export { type CreateFacesTaskOptions, createFacesTask, type FacesTask } from './faces-task.ts';
