export * from './context.ts';
export * from './problem.ts';
export * from './request-context.ts';
