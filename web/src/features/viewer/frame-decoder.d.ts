// The image loader's frame decoder (vite.config.ts aliases it to the
// module its decode worker runs).
declare module 'cornerstone-frame-decoder' {
  export function decodeImageFrame(
    imageFrame: unknown,
    transferSyntax: string,
    pixelData: Uint8Array,
    decodeConfig: unknown,
    options: unknown,
    callbackFn?: unknown,
  ): Promise<unknown>;
}
