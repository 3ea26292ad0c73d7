// The embedding page: the elements do everything; this script only gives them what the HTML cannot say
// (URLs that vite resolves: the shipped model and picture) and publishes state for the e2e test.
import '../../src/elements/index';
import { currentHost } from '../../src/elements/index';
import type { GlassboxElement } from '../../src/elements/glassbox-element';
import type { GlassboxInversion } from '../../src/elements/inversion-element';
import { SHIPPED_IMAGES } from '../feature-maps/inputs';
import { MOVENET_INFO } from '../shared/pretrained-cnn';

// MoveNet's files as the package ships them; its manifest names its weights relatively, beside the JSON.
const MOVENET_URL = '/node_modules/@vladmandic/human/models/movenet-lightning.json';
const INVERTED_LAYER = 'StatefulPartitionedCall/center_net_mobile_net_v2fpn_feature_extractor/model_1/model/block_3_expand_relu/Relu6';
const SAMPLE_TEXT = 'Now is the winter of our discontent; now is the winter of our d'; // scripts/make-embedding-sample.ts

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
for (const id of ['#head-view', '#graph']) $(id).setAttribute('text', SAMPLE_TEXT);
$('#features').setAttribute('model', MOVENET_URL);
$('#features').setAttribute('input', SHIPPED_IMAGES.meadow!);
const inversion = $<GlassboxInversion>('#inversion');
for (const [name, value] of Object.entries({ model: MOVENET_URL, input: SHIPPED_IMAGES.meadow!, layer: INVERTED_LAYER, 'input-node': 'StatefulPartitionedCall/stack' })) {
  inversion.setAttribute(name, value);
}
$<HTMLButtonElement>('#start-inversion').addEventListener('click', (event) => {
  const button = event.target as HTMLButtonElement;
  if (inversion.running) inversion.pause();
  else inversion.resume();
  button.textContent = inversion.running ? 'Pause' : 'Resume';
});
$('#status').textContent = MOVENET_INFO.credit;

const elements = [...document.querySelectorAll<GlassboxElement>('article > [id]')].filter((el) => el.tagName.startsWith('GLASSBOX-'));
(window as unknown as { glassboxEmbedding: object }).glassboxEmbedding = {
  elements: () => elements.map((el) => ({ id: el.id, state: el.state, error: el.error, framesDrawn: el.framesDrawn })),
  sharedEngine: () => elements.every((el) => el.engine === currentHost()?.engine),
};
