// Render pipelines are specific to their target's format: the canvas's preferred format, rgba8unorm for
// tests and export. One lazily filled map per pipeline kind, shared by the views.
export function renderPipelinePerFormat(
  device: GPUDevice,
  label: string,
  layout: GPUPipelineLayout,
  module: GPUShaderModule,
): (format: GPUTextureFormat) => GPURenderPipeline {
  const byFormat = new Map<GPUTextureFormat, GPURenderPipeline>();
  return (format) => {
    let pipeline = byFormat.get(format);
    if (!pipeline) {
      pipeline = device.createRenderPipeline({
        label: `${label}.pipeline.${format}`,
        layout,
        vertex: { module, entryPoint: 'vertex_main' },
        fragment: { module, entryPoint: 'fragment_main', targets: [{ format }] },
        primitive: { topology: 'triangle-list' },
      });
      byFormat.set(format, pipeline);
    }
    return pipeline;
  };
}
