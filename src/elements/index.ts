// Glassbox custom elements: `import 'glassbox/elements'` defines them all. Every element on a page shares
// one GPU device and one frame loop (element-host.ts).
import { GlassboxAttentionHeatmap } from './attention-heatmap-element';
import { GlassboxFeatureMaps } from './feature-maps-element';
import { GlassboxInversion } from './inversion-element';
import { GlassboxLongAttention } from './long-attention-element';
import { GlassboxTransformer } from './transformer-element';

export { GlassboxElement, type MountContext, type MountedView, type ElementState } from './glassbox-element';
export { currentHost, type ElementHost } from './element-host';
export { GlassboxAttentionHeatmap, GlassboxFeatureMaps, GlassboxInversion, GlassboxLongAttention, GlassboxTransformer };
export { chooseElement, type ElementChoice } from './choose-element';

const ELEMENTS = [GlassboxAttentionHeatmap, GlassboxFeatureMaps, GlassboxInversion, GlassboxLongAttention, GlassboxTransformer];

/** Defines every Glassbox element that is not defined yet (safe to call twice, or beside another copy). */
export function defineGlassboxElements(registry: CustomElementRegistry = customElements): void {
  for (const element of ELEMENTS) if (!registry.get(element.tagName)) registry.define(element.tagName, element);
}

if (typeof customElements !== 'undefined') defineGlassboxElements();
