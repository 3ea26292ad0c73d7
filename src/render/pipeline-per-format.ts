// Render pipelines are specific to their target's format: the canvas's preferred format, rgba8unorm for
// tests and export. One lazily filled map per pipeline kind, shared by the views.

export interface PipelineVariant {
  /** The vertex entry point (default 'vertex_main'); the fragment entry point is always 'fragment_main'. */
  vertexEntry?: string;
  /** Blending of the target (default none: the fragment replaces what is there). */
  blend?: GPUBlendState;
  /** Values of the fragment stage's override constants (shader variants: dead branches compiled away). */
  fragmentConstants?: Record<string, number>;
  /** Primitive topology (default 'triangle-list'). */
  topology?: GPUPrimitiveTopology;
}

export function renderPipelinePerFormat(
  device: GPUDevice,
  label: string,
  layout: GPUPipelineLayout,
  module: GPUShaderModule,
  variant: PipelineVariant = {},
): (format: GPUTextureFormat) => GPURenderPipeline {
  const byFormat = new Map<GPUTextureFormat, GPURenderPipeline>();
  const blend = variant.blend;
  return (format) => {
    let pipeline = byFormat.get(format);
    if (!pipeline) {
      pipeline = device.createRenderPipeline({
        label: `${label}.pipeline.${format}`,
        layout,
        vertex: { module, entryPoint: variant.vertexEntry ?? 'vertex_main' },
        fragment: {
          module,
          entryPoint: 'fragment_main',
          targets: [blend ? { format, blend } : { format }],
          ...(variant.fragmentConstants && { constants: variant.fragmentConstants }),
        },
        primitive: { topology: variant.topology ?? 'triangle-list' },
      });
      byFormat.set(format, pipeline);
    }
    return pipeline;
  };
}
