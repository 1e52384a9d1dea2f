// The WebAssembly bundle of libheif-js ships no types for this entry point; heif-wasm.ts
// describes the part of it that AEX uses.
declare module 'libheif-js/libheif-wasm/libheif-bundle.js' {
  const createLibheif: (options?: object) => unknown;
  export default createLibheif;
}
