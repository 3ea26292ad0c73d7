// Float images drawn from their GPU buffers, side by side: the original and the image an optimization is
// rewriting in place every step. Nothing is uploaded or read back; each frame shows the buffer's latest
// state. Each image keeps its aspect ratio inside an equal share of the canvas width.
import numericsWgsl from '../../shaders/common/numerics.wgsl?raw';
import imageWgsl from '../../shaders/render/image.wgsl?raw';
import type { Engine } from '../core/engine';
import { invalidArgument } from '../core/errors';
import type { FrameParticipant } from '../core/frame-loop';
import { cachedPerDevice } from '../core/pipeline-cache';
import { shaderModule } from '../core/wgsl';
import type { GpuTensor } from '../memory/gpu-tensor';
import { UniformBuffer, uniformLayout } from '../memory/uniforms';
import { createCanvasSurface } from './canvas-surface';
import { renderPipelinePerFormat } from './pipeline-per-format';

export interface ImageViewOptions {
  canvas: HTMLCanvasElement;
  /** float32 NHWC, [1, H, W, C] or [H, W, C], C ∈ {1, 3, 4}, values in [0, 1]. */
  images: readonly GpuTensor[];
  /** Pixels between images and around them (default 8). */
  gap?: number;
  background?: readonly [number, number, number];
  label?: string;
}

export interface ImageView extends FrameParticipant {
  render(encoder: GPUCommandEncoder): void;
  draw(encoder: GPUCommandEncoder, target: GPUTextureView, width: number, height: number, format?: GPUTextureFormat): void;
  setImages(images: readonly GpuTensor[]): void;
  destroy(): void;
}

const PLACEMENT = uniformLayout(imageWgsl, 'Placement');

interface Shown {
  image: GpuTensor;
  height: number;
  width: number;
  channels: number;
  uniforms: UniformBuffer;
  bindGroup: GPUBindGroup;
}

export function createImageView(engine: Engine, options: ImageViewOptions): ImageView {
  const label = options.label ?? 'ImageView';
  const gap = options.gap ?? 8;
  const background = options.background ?? [0.12, 0.12, 0.12];
  const pipelines = imagePipelines(engine.device);
  let shown: Shown[] = [];
  const attachment: GPURenderPassColorAttachment = {
    view: undefined as unknown as GPUTextureView,
    clearValue: { r: background[0], g: background[1], b: background[2], a: 1 },
    loadOp: 'clear',
    storeOp: 'store',
  };

  function setImages(images: readonly GpuTensor[]): void {
    const checked = images.map((image, i) => ({ image, ...imageShape(image, `${label}: image ${i}`) }));
    for (const s of shown) s.uniforms.destroy();
    shown = checked.map((c, i) => {
      const uniforms = new UniformBuffer(engine, PLACEMENT, `${label}.image${i}.placement`);
      const bindGroup = engine.device.createBindGroup({
        label: `${label}.image${i}.bindGroup`,
        layout: pipelines.bindGroupLayout,
        entries: [
          { binding: 0, resource: { buffer: c.image.buffer, size: c.image.byteLength } },
          { binding: 1, resource: { buffer: uniforms.buffer } },
        ],
      });
      return { ...c, uniforms, bindGroup };
    });
  }
  setImages(options.images); // checks every image before anything else is made
  const surface = createCanvasSurface(engine, options.canvas, () => {});

  const view: ImageView = {
    render(encoder) {
      const texture = surface.context.getCurrentTexture();
      view.draw(encoder, texture.createView(), texture.width, texture.height, surface.format);
    },
    draw(encoder, target, width, height, format = 'rgba8unorm') {
      attachment.view = target;
      const pass = encoder.beginRenderPass({ label: `${label}.pass`, colorAttachments: [attachment] });
      pass.setPipeline(pipelines.pipelineFor(format));
      const share = (width - gap) / Math.max(shown.length, 1);
      shown.forEach((s, i) => {
        const scale = Math.min((share - gap) / s.width, (height - 2 * gap) / s.height);
        const [w, h] = [s.width * scale, s.height * scale];
        s.uniforms.write({
          left: gap + i * share + (share - gap - w) / 2,
          top: (height - h) / 2,
          width: w,
          height: h,
          target_width: width,
          target_height: height,
          image_height: s.height,
          image_width: s.width,
          channels: s.channels,
        });
        pass.setBindGroup(0, s.bindGroup);
        pass.draw(6);
      });
      pass.end();
    },
    setImages,
    destroy() {
      for (const s of shown) s.uniforms.destroy();
      shown = [];
      surface.destroy();
    },
  };
  return view;
}

function imageShape(image: GpuTensor, who: string): { height: number; width: number; channels: number } {
  const shape = image.shape.length === 4 ? image.shape.slice(1) : image.shape;
  invalidArgument(
    (image.shape.length === 4 && image.shape[0] === 1) || image.shape.length === 3,
    () => `${who}: expected a float32 image [1, H, W, C] or [H, W, C]; got shape [${image.shape.join(', ')}].`,
  );
  const [height, width, channels] = shape as [number, number, number];
  invalidArgument(
    channels === 1 || channels === 3 || channels === 4,
    () => `${who}: expected 1, 3 or 4 channels (grey, RGB, RGBA); got ${channels} in shape [${image.shape.join(', ')}].`,
  );
  return { height, width, channels };
}

function buildImagePipelines(device: GPUDevice) {
  const module = shaderModule(device, 'ImageView.module', [numericsWgsl, imageWgsl]);
  const bindGroupLayout = device.createBindGroupLayout({
    label: 'ImageView.bindGroupLayout',
    entries: [
      { binding: 0, visibility: GPUShaderStage.FRAGMENT, buffer: { type: 'read-only-storage' } }, // pixels
      { binding: 1, visibility: GPUShaderStage.VERTEX | GPUShaderStage.FRAGMENT, buffer: { type: 'uniform' } }, // placement
    ],
  });
  const layout = device.createPipelineLayout({ label: 'ImageView.layout', bindGroupLayouts: [bindGroupLayout] });
  return { bindGroupLayout, pipelineFor: renderPipelinePerFormat(device, 'ImageView', layout, module) };
}

function imagePipelines(device: GPUDevice) {
  return cachedPerDevice(device, buildImagePipelines);
}
