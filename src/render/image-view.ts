// Float images drawn from their GPU buffers, side by side: the original and the image an optimization
// rewrites in place every step. Nothing is uploaded or read back; each frame shows the buffer's latest
// state. Each image keeps its aspect ratio inside an equal column of the canvas. Per frame, when neither
// the target size nor the images changed, nothing is allocated or written: one pass, one draw per image.
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
import { createImageCaptions } from './image/image-captions';
import { imageLayout, type ImageRect } from './image/image-layout';
import { imageShape, type ImageShape } from './image/image-shape';
import { renderPipelinePerFormat } from './pipeline-per-format';
import { clearingPass } from './clearing-pass';

export type ImageSampling = 'nearest' | 'bilinear';

/** Options for `createImageView`. The view reads `images` straight from their buffers but does not own them. */
export interface ImageViewOptions {
  canvas: HTMLCanvasElement;
  /**
   * float32 NHWC, [1, H, W, C] or [H, W, C], C ∈ {1, 3, 4} (grey, RGB, RGBA; alpha is not drawn), values
   * in [0, 1] (clamped; NaN/±Inf drawn magenta). Drawn left to right in equal columns.
   */
  images: readonly GpuTensor[];
  /** DOM text under each image (needs the canvas to have a parent element). */
  captions?: readonly string[];
  /** 'nearest' (default: every texel a crisp block) or 'bilinear'. */
  sampling?: ImageSampling;
  /** Pixels between images and around them (default 8). */
  gap?: number;
  /** RGB in 0..1 (default a dark grey). */
  background?: readonly [number, number, number];
  label?: string;
}

/**
 * Float images drawn straight from their GPU buffers, side by side in equal columns, each keeping its aspect
 * ratio; an image an optimization rewrites in place shows its latest state every frame. Made by
 * `createImageView`; add it to a frame loop.
 */
export interface ImageView extends FrameParticipant {
  /** Draws into the canvas's current texture: the view's part of a frame (`frameLoop.add(view)`). */
  render(encoder: GPUCommandEncoder): void;
  /**
   * Draws into any texture view of the given pixel size and format (tests, export). `scale` (default 1) is
   * target pixels per canvas pixel: the gaps between images are multiplied by it.
   */
  draw(encoder: GPUCommandEncoder, target: GPUTextureView, width: number, height: number, format?: GPUTextureFormat, scale?: number): void;
  /** New buffers (any shapes, any count): only bind groups are rebuilt. */
  setImages(images: readonly GpuTensor[]): void;
  /**
   * Replaces the caption texts, one per image (an empty string hides one). Does nothing when the view was
   * made without `captions` or its canvas has no parent element.
   */
  setCaptions(captions: readonly string[]): void;
  /** Where each image was last drawn, in target pixels. */
  readonly rects: readonly ImageRect[];
  /** The caption elements (export paints those over the canvas into a PNG). */
  readonly labels: readonly HTMLElement[];
  /** Destroys every buffer the view made (not the images) and removes the captions. */
  destroy(): void;
}

const IMAGE_PARAMS = uniformLayout(imageWgsl, 'ImageParams');
const DEFAULT_BACKGROUND = [0.12, 0.12, 0.12] as const;

interface Shown extends ImageShape {
  bindGroup: GPUBindGroup;
}

/**
 * Creates a view of `options.images` on `options.canvas`. Throws `InvalidArgumentError` for an image of
 * another engine, destroyed, not float32 or of a shape it cannot draw, or for an unknown sampling.
 */
export function createImageView(engine: Engine, options: ImageViewOptions): ImageView {
  const label = options.label ?? 'ImageView';
  const gap = options.gap ?? 8;
  const bilinear = checkedSampling(options.sampling ?? 'nearest', label) === 'bilinear' ? 1 : 0;
  const background = options.background ?? DEFAULT_BACKGROUND;
  const pipelines = imagePipelines(engine.device);
  const uniforms: UniformBuffer[] = [];
  let shown: Shown[] = [];
  const rects: ImageRect[] = [];
  // The layout is rewritten only when the target size or the images change.
  let [laidOutWidth, laidOutHeight, laidOutScale] = [-1, -1, 1];
  let captionsPlacedFor = -1;
  const beginPass = clearingPass(label, background);

  function setImages(images: readonly GpuTensor[]): void {
    const checked = images.map((image, i) => checkedImage(engine, image, `${label}: image ${i}`));
    while (uniforms.length < checked.length) {
      uniforms.push(new UniformBuffer(engine, IMAGE_PARAMS, `${label}.image${uniforms.length}.params`));
    }
    for (const extra of uniforms.splice(checked.length)) extra.destroy();
    shown = checked.map(({ image, shape }, i) => ({
      ...shape,
      bindGroup: engine.device.createBindGroup({
        label: `${label}.image${i}.bindGroup`,
        layout: pipelines.bindGroupLayout,
        entries: [
          { binding: 0, resource: { buffer: image.buffer, size: image.byteLength } },
          { binding: 1, resource: { buffer: uniforms[i]!.buffer } },
        ],
      }),
    }));
    laidOutWidth = -1;
  }

  function layOut(width: number, height: number, scale: number): void {
    imageLayout(shown, width, height, gap * scale, rects);
    shown.forEach((s, i) => {
      const rect = rects[i]!;
      uniforms[i]!.write({
        left: rect.left,
        top: rect.top,
        width: rect.width,
        height: rect.height,
        target_width: width,
        target_height: height,
        image_height: s.height,
        image_width: s.width,
        channels: s.channels,
        // GpuTensor memory is dense row-major: NHWC strides follow from the shape.
        offset: 0,
        stride_y: s.width * s.channels,
        stride_x: s.channels,
        stride_c: 1,
        bilinear,
      });
    });
    [laidOutWidth, laidOutHeight, laidOutScale] = [width, height, scale];
  }

  setImages(options.images);
  const captions = options.captions ? createImageCaptions(options.canvas, options.captions, label) : null;
  let layoutVersion = 0;
  const surface = createCanvasSurface(engine, options.canvas, () => {});

  let destroyed = false;
  const view: ImageView = {
    rects,
    get labels() {
      return captions?.elements ?? [];
    },
    render(encoder) {
      const texture = surface.context.getCurrentTexture();
      view.draw(encoder, texture.createView(), texture.width, texture.height, surface.format);
      if (captions && captionsPlacedFor !== layoutVersion) {
        captions.place(rects, texture.width);
        captionsPlacedFor = layoutVersion;
      }
    },
    draw(encoder, target, width, height, format = 'rgba8unorm', scale = 1) {
      invalidArgument(!destroyed, () => `${label} was used after destroy().`);
      if (width !== laidOutWidth || height !== laidOutHeight || scale !== laidOutScale) {
        layOut(width, height, scale);
        layoutVersion += 1;
      }
      const pass = beginPass(encoder, target);
      pass.setPipeline(pipelines.pipelineFor(format));
      for (let i = 0; i < shown.length; i++) {
        if (!(rects[i]!.width > 0 && rects[i]!.height > 0)) continue; // a target too small for the image
        pass.setBindGroup(0, shown[i]!.bindGroup);
        pass.draw(6);
      }
      pass.end();
    },
    setImages(images) {
      setImages(images);
    },
    setCaptions(texts) {
      captions?.setText(texts);
      captionsPlacedFor = -1;
    },
    destroy() {
      destroyed = true;
      for (const u of uniforms.splice(0)) u.destroy();
      shown = [];
      captions?.destroy();
      surface.destroy();
    },
  };
  return view;
}

function checkedImage(engine: Engine, image: GpuTensor, who: string): { image: GpuTensor; shape: ImageShape } {
  invalidArgument(image.engine === engine, () => `${who}: expected a tensor of this view's engine; got one from another engine.`);
  invalidArgument(!image.destroyed, () => `${who}: expected a live tensor; got '${image.buffer.label}', already destroyed.`);
  invalidArgument(image.dtype === 'float32', () => `${who}: expected float32; got ${image.dtype}.`);
  return { image, shape: imageShape(image.shape, who, image.layout) };
}

function checkedSampling(sampling: string, label: string): ImageSampling {
  invalidArgument(
    sampling === 'nearest' || sampling === 'bilinear',
    () => `${label}: expected sampling 'nearest' or 'bilinear'; got '${sampling}'.`,
  );
  return sampling;
}

function buildImagePipelines(device: GPUDevice) {
  const module = shaderModule(device, 'ImageView.module', [numericsWgsl, imageWgsl]);
  const bindGroupLayout = device.createBindGroupLayout({
    label: 'ImageView.bindGroupLayout',
    entries: [
      { binding: 0, visibility: GPUShaderStage.FRAGMENT, buffer: { type: 'read-only-storage' } }, // pixels
      { binding: 1, visibility: GPUShaderStage.VERTEX | GPUShaderStage.FRAGMENT, buffer: { type: 'uniform' } }, // params
    ],
  });
  const layout = device.createPipelineLayout({ label: 'ImageView.layout', bindGroupLayouts: [bindGroupLayout] });
  return { bindGroupLayout, pipelineFor: renderPipelinePerFormat(device, 'ImageView', layout, module) };
}

function imagePipelines(device: GPUDevice) {
  return cachedPerDevice(device, buildImagePipelines);
}
