// The viewer: shows one file of tensors with the element that suits it. `glassbox view FILE` serves the
// file at /__glassbox/file (bin/file-route.js); a dropped file replaces it. State for e2e tests:
// window.glassboxViewer.
import '../../src/elements/index';
import { chooseElement } from '../../src/elements/choose-element';
import type { GlassboxElement } from '../../src/elements/glassbox-element';
import type { NamedTensors } from '../../src/io/attention-tensors';
import { namedTensorsFromFile } from '../../src/io/named-tensors';

interface ViewerState {
  ready: boolean;
  file: string | null;
  element: string | null;
  error: string | null;
}
const state: ViewerState = { ready: false, file: null, element: null, error: null };
(window as unknown as { glassboxViewer: ViewerState }).glassboxViewer = state;

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const stage = $<HTMLElement>('#stage');
const status = $<HTMLElement>('#status');

function showError(error: unknown): void {
  state.error = error instanceof Error ? error.message : String(error);
  status.textContent = state.error;
  status.className = 'error';
}

/** Shows the tensors with the element chosen for them; the previous picture stays if this one fails. */
async function show(name: string, bytes: Uint8Array): Promise<void> {
  state.ready = false;
  state.error = null;
  status.textContent = `Reading ${name}…`;
  status.className = '';
  let tensors: NamedTensors;
  try {
    tensors = namedTensorsFromFile(name, bytes);
  } catch (error) {
    return showError(error);
  }
  const choice = chooseElement(tensors);
  if (!customElements.get(choice.tag)) return showError(`${name} holds ${choice.reason}, and this build has no <${choice.tag}>.`);
  const element = document.createElement(choice.tag) as GlassboxElement & { tensors: NamedTensors | null };
  element.tensors = tensors;
  element.addEventListener('glassbox-ready', () => {
    for (const previous of [...stage.children]) if (previous !== element) previous.remove(); // not element: moving it would rebuild it
    $<HTMLElement>('#file').textContent = `${name} (${(bytes.byteLength / 1024).toFixed(1)} KiB): ${choice.reason}.`;
    $<HTMLElement>('#tensors').replaceChildren(...[...tensors].map(([key, t]) => Object.assign(document.createElement('li'), { textContent: `${key} [${t.shape.join(', ')}]` })));
    Object.assign(state, { ready: true, file: name, element: choice.tag });
    status.textContent = 'Drag to pan, wheel or +/- to zoom, 0 to reset; hover to read a value. Drop another file to replace this one.';
  }, { once: true });
  element.addEventListener('glassbox-error', (event) => {
    if (element.state !== 'error') return; // a bad setting on a working view: the element says it itself
    showError((event as CustomEvent<{ message: string }>).detail.message);
    element.remove();
  }, { once: true });
  // Mounted beside the current view until ready, so a file that fails leaves the last picture on screen.
  stage.append(element);
}

async function served(): Promise<void> {
  const info = await fetch('/__glassbox/file.json').catch(() => null);
  if (!info?.ok || !info.headers.get('content-type')?.includes('json')) {
    status.textContent = 'Drop a .npy or .safetensors file onto the page (npx glassbox view FILE serves one here).';
    return;
  }
  const { name } = (await info.json()) as { name: string };
  const response = await fetch('/__glassbox/file');
  if (!response.ok) return showError(`Could not fetch ${name}: HTTP ${response.status} ${await response.text()}`);
  await show(name, new Uint8Array(await response.arrayBuffer()));
}

document.addEventListener('dragover', (event) => {
  event.preventDefault();
  stage.classList.add('dragging');
});
document.addEventListener('dragleave', () => stage.classList.remove('dragging'));
document.addEventListener('drop', (event) => {
  event.preventDefault();
  stage.classList.remove('dragging');
  const file = event.dataTransfer?.files[0];
  if (file) void file.arrayBuffer().then((buffer) => show(file.name, new Uint8Array(buffer)));
});

served().catch(showError);
