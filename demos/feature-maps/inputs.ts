// Where the model's input comes from: a shipped image, a dropped image, a video file or the camera. Every
// source is drawn into the 192×192 input canvas (centre-cropped to a square), which the model reads.
import meadowUrl from './images/meadow.png?url';
import streetUrl from './images/street.png?url';
import testCardUrl from './images/test-card.png?url';

export const SHIPPED_IMAGES: Record<string, string> = { meadow: meadowUrl, street: streetUrl, 'test-card': testCardUrl };

export interface InputSource {
  readonly name: string;
  /** True while frames keep changing (video, camera): the model runs every frame. */
  readonly moving: boolean;
  /** Draws the current frame into the input canvas. */
  draw(target: HTMLCanvasElement): void;
  stop(): void;
}

export async function imageSource(name: string, url: string): Promise<InputSource> {
  const image = new Image();
  image.src = url;
  await image.decode();
  return { name, moving: false, draw: (target) => drawSquare(target, image, image.naturalWidth, image.naturalHeight), stop() {} };
}

export async function videoSource(name: string, src: string | MediaStream): Promise<InputSource> {
  const video = document.createElement('video');
  video.muted = true;
  video.loop = true;
  video.playsInline = true;
  if (typeof src === 'string') video.src = src;
  else video.srcObject = src;
  await video.play();
  return {
    name,
    moving: true,
    draw: (target) => drawSquare(target, video, video.videoWidth, video.videoHeight),
    stop() {
      video.pause();
      if (typeof src !== 'string') for (const track of src.getTracks()) track.stop();
      else URL.revokeObjectURL(src);
    },
  };
}

export async function cameraSource(): Promise<InputSource> {
  if (!navigator.mediaDevices?.getUserMedia) throw new Error('This browser offers no camera (navigator.mediaDevices is missing).');
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  return videoSource('camera', stream);
}

function drawSquare(target: HTMLCanvasElement, source: CanvasImageSource, width: number, height: number): void {
  const side = Math.min(width, height);
  const context = target.getContext('2d')!;
  context.drawImage(source, (width - side) / 2, (height - side) / 2, side, side, 0, 0, target.width, target.height);
}
