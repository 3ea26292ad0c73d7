// The render pass every view draws in: one colour target, cleared to the view's background and stored. The
// descriptor is made once per view and only its target changes from draw to draw, so a frame allocates
// nothing for it.

/** Begins a view's pass on `target`, cleared to the view's background. */
export type BeginClearingPass = (encoder: GPUCommandEncoder, target: GPUTextureView) => GPURenderPassEncoder;

/** A pass labelled `${label}.pass` that clears to `background` (RGB in 0..1, opaque). */
export function clearingPass(label: string, background: readonly number[]): BeginClearingPass {
  const attachment: GPURenderPassColorAttachment = {
    view: undefined as unknown as GPUTextureView, // the target, set on every begin
    clearValue: { r: background[0]!, g: background[1]!, b: background[2]!, a: 1 },
    loadOp: 'clear',
    storeOp: 'store',
  };
  const descriptor: GPURenderPassDescriptor = { label: `${label}.pass`, colorAttachments: [attachment] };
  return (encoder, target) => {
    attachment.view = target;
    return encoder.beginRenderPass(descriptor);
  };
}
