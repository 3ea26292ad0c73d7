// WGSL modules: shared snippets from shaders/common/ are placed before a kernel's source.
// This is the one place WGSL text is joined; variants come from `override` constants, never from templates.
export function shaderModule(device: GPUDevice, label: string, sources: readonly string[]): GPUShaderModule {
  return device.createShaderModule({ label, code: sources.join('\n') });
}
