// Glassbox public API. Re-exports only.
export { createEngine, type EngineOptions } from './create-engine';
export { Engine, type EngineFeatures } from './core/engine';
export { createFrameLoop, type FrameLoop, type FrameParticipant, type FrameInfo } from './core/frame-loop';
export { createGpuTimer, type GpuTimer } from './core/gpu-timer';
export {
  GlassboxError,
  WebGpuUnavailableError,
  InvalidArgumentError,
  DeviceLimitError,
  GpuOperationError,
  DeviceLostError,
  NonFiniteError,
} from './core/errors';
export {
  GpuTensor,
  tensorFromArray,
  tensorFromBuffer,
  type DType,
  type Layout,
} from './memory/gpu-tensor';
export { tensorFromTf, tensorToTf } from './interop/tfjs/tensors';
export { attentionWeights, type AttentionWeightsOptions } from './attention/attention-weights';
export {
  createAttentionWeightsKernel,
  type AttentionWeightsKernel,
  type AttentionWeightsParams,
} from './kernels/attention-weights';
export { referenceAttentionWeights, type ReferenceAttentionInput } from './reference/attention';
export {
  createHeatmapView,
  type HeatmapView,
  type HeatmapViewOptions,
  type HeatmapRange,
  type HeatmapScale,
} from './render/heatmap-view';
export { type HeatmapHover } from './render/hover-readout';
export { heatmapLayout, cellAt, cellCenter, type HeatmapLayout, type HeatmapCell } from './render/heatmap-layout';
export { Camera, type CameraOptions, type WorldRect, type Point } from './render/camera';
export {
  colormap,
  colormapRgba,
  colormapIndex,
  colormapNames,
  isColormapName,
  COLORMAP_SIZE,
  type Colormap,
  type ColormapName,
} from './render/colormaps';
export { seededRandom, randomFloats, maxAbsDifference } from './reference/random';
export { FileFormatError, type FileBytes } from './io/bytes';
export { parseNpy, writeNpy, type NpyArray, type NpyDtype } from './io/npy';
export {
  parseSafetensors,
  type SafetensorsFile,
  type SafetensorsTensor,
  type SafetensorsDtype,
} from './io/safetensors';
export { writeSafetensors, type SafetensorsInput } from './io/safetensors-writer';
export {
  attentionTensorsFrom,
  type AttentionLayerTensors,
  type QkTensor,
  type NamedTensors,
} from './io/attention-tensors';
export { float16ToFloat32, float32ToFloat16, bfloat16ToFloat32, float32ToBfloat16 } from './io/half';
export {
  createLongAttention,
  type LongAttention,
  type LongAttentionOptions,
  type LongAttentionProfiles,
  type LongAttentionProgress,
  type ChunkedRunOptions,
} from './attention/long-attention';
export type { TileRequest, TileCells } from './kernels/attention-tiles';
export {
  referenceRowStats,
  referenceTile,
  referenceColumnSums,
  type ReferenceLongInput,
  type ReferenceRowStats,
} from './reference/long-attention';
export { createExplorerView, type ExplorerView, type ExplorerViewOptions, type ExplorerProgress, type ExplorerHover } from './render/explorer/explorer-view';
export { tileProducerFor } from './render/explorer/long-attention-producer';
export type { TileProducer, TileStripRequest, Pooling } from './render/explorer/tile-producer';
export { featureLayer, featureIndex, type FeatureLayer, type FeatureLayout, type FeatureStrides } from './features/feature-layer';
export { createFeatureStats, type FeatureStats } from './features/feature-stats';
export {
  createChannelStatsKernel,
  statsRecordsOf,
  STATS_RECORD_BYTES,
  type ChannelStatsKernel,
  type ChannelStatsKernelOptions,
} from './kernels/channel-stats';
export {
  STATS_FIELD,
  STATS_RECORD_FLOATS,
  NORMALIZATION_MODES,
  normalizationRange,
  normalizedValue,
  referenceChannelStats,
  type FeatureNormalization,
  type ReferenceFeatureInput,
} from './reference/channel-stats';
export {
  createOptvisRegularizers,
  DEFAULT_TV_BETA,
  DEFAULT_ALPHA,
  DEFAULT_TV_EPSILON,
  type RegularizerTerm,
  type RegularizerIo,
  type SlottedTerm,
  type OptvisRegularizers,
} from './kernels/optvis-regularizers';
export {
  createAdamState,
  createSgdState,
  zeroGradient,
  type OptimizerState,
  type AdamOptions,
  type SgdOptions,
} from './kernels/optvis-optimizer';
export {
  createFeatureGridView,
  type FeatureGridView,
  type FeatureGridViewOptions,
  type FeatureSampling,
  type FeatureStatsBinding,
  type FeatureHover,
  type OverlaySource,
} from './render/feature-grid/feature-grid-view';
export {
  featureGridLayout,
  mapRect,
  mapAt,
  visibleSections,
  visibleChannels,
  type FeatureGridLayout,
  type GridSection,
  type GridHit,
  type GridLayerShape,
  type ChannelRange,
} from './render/feature-grid/grid-layout';
export {
  createFeatureGridFallback,
  type FeatureGridFallback,
  type FeatureGridFallbackOptions,
} from './render/webgl/feature-grid-regl';
export type { CpuFeatureLayer } from './render/webgl/cpu-feature-stats';
export { createCanvas2dGrid, type Canvas2dGrid, type Canvas2dGridOptions } from './render/feature-grid/canvas2d-grid';
export {
  createActivationCapture,
  featureLayerNames,
  type ActivationCapture,
  type ActivationCaptureOptions,
  type CapturableModel,
} from './interop/tfjs/capture';
export {
  featureTensorsFrom,
  guessFeatureLayout,
  type FeatureArray,
  type FeatureArrayLayout,
  type FeatureTensorsOptions,
} from './io/feature-tensors';
export { createImageView, type ImageView, type ImageViewOptions } from './render/image-view';
export {
  Objective,
  featureMatch,
  channel,
  neuron,
  deepDream,
  totalVariation,
  alphaNorm,
  l2,
} from './optvis/objectives';
export { pixels, fft, type ParameterizationSpec, type PixelsOptions, type FftOptions } from './optvis/parameterization';
export { pad, jitter, scale, rotate, compose, standardTransforms, type Transform, type PadMode } from './optvis/transforms';
export { adam, sgd, type OptimizerSpec, type LearningRateStep } from './optvis/optimizers';
export {
  createOptimization,
  optimize,
  type Optimization,
  type OptimizationOptions,
  type LossReading,
} from './optvis/optimize';
export type { ModelInputOptions } from './optvis/model-function';
export { createLiveStepper, type LiveStepper, type LiveStepperOptions } from './optvis/live-stepper';
export {
  activationMaximization,
  inversion,
  INVERSION_DEFAULTS,
  MOVENET_INPUT,
  type PresetOptions,
  type InversionOptions,
} from './optvis/presets';
export {
  createOptvisObjectives,
  featureTarget,
  type FeatureObjective,
  type FeatureTarget,
  type OptvisObjectives,
} from './kernels/optvis-objectives';
export { createFftImage, createPixelImage, type FftImage, type PixelImage } from './kernels/optvis-fft';
export { exportPng, imageToRgba, type ExportPngOptions } from './render/export-png';
export { createLossCurve, LOSS_PALETTE, type LossCurve, type LossCurveOptions } from './render/loss-curve';
export {
  attentionWeightsFrom,
  hasAttentionWeights,
  ROW_SUM_TOLERANCE,
  type StackedAttentionWeights,
} from './io/attention-weight-tensors';
export {
  attentionRollout,
  type AttentionRolloutOptions,
  type AttentionRolloutResult,
  type HeadFusion,
} from './attention/attention-rollout';
export { createAttentionRolloutKernel, type AttentionRolloutKernel } from './kernels/attention-rollout';
export { referenceAttentionRollout, randomSoftmaxRows, type ReferenceRolloutOptions } from './reference/attention-rollout';
export { createHeadView, type HeadView, type HeadViewOptions, type TokenFocus } from './render/head-view/head-view';
export {
  headViewLayout,
  tokenY,
  tokenAt,
  HEAD_PALETTE,
  headColour,
  type HeadViewLayout,
  type TokenSide,
} from './render/head-view/head-view-layout';
export { layeredGraphLayout, nodeCentre, type LayeredGraphLayout } from './render/head-view/layered-graph-layout';
export { createReglLinks, type ReglLinks, type ReglLinksOptions } from './render/webgl/regl-links';
export {
  createLayeredGraphView,
  type LayeredGraphView,
  type LayeredGraphViewOptions,
  type LayeredNodeValues,
} from './render/head-view/layered-graph-view';
export type { LinkStyle } from './render/head-view/link-options';
export {
  createNeuronView,
  type NeuronView,
  type NeuronViewOptions,
  type NeuronHeadSummary,
  type NeuronSelection,
} from './render/neuron-view/neuron-view';
export { referenceNeuronPanel } from './reference/neuron-panel';
export {
  createTokenHighlight,
  type TokenHighlight,
  type TokenHighlightOptions,
  type TokenHighlightRange,
} from './render/token-highlight';
export { attentionFlow, maxAttentionFlowTokens, type AttentionFlowOptions } from './attention/attention-flow';
export {
  createAttentionFlowWorker,
  type AttentionFlowWorker,
  type AttentionFlowWorkerOptions,
} from './attention/attention-flow-client';
export { referenceAttentionFlow, randomAttentionGraph } from './reference/attention-flow';
export { viewPixels, type DrawableView, type ViewPixels } from './export/view-pixels';
export { exportViewPng, encodePng, type ExportViewPngOptions } from './export/png';
export { paintDomLabels, type LabelElements } from './export/dom-labels';
export {
  heatmapVisibleData,
  heatmapRegionData,
  heatmapVisibleRegion,
  headViewData,
  featureGridVisibleData,
  visibleDataNpy,
  cameraRect,
  type VisibleData,
  type HeatmapRegion,
} from './export/visible-data';
export { explorerVisibleData, explorerVisibleEntries, type ExplorerDataOptions } from './export/explorer-data';
export { headViewSvg, layeredGraphSvg, escapeXml } from './export/links-svg';
export type { LinkAppearance } from './render/head-view/head-view';
export type { LayeredGraphAppearance } from './render/head-view/layered-graph-view';
export { namedTensorsFromFile, namedTensorsFromFiles, fetchNamedTensors, tensorFileFormat, type TensorFileFormat } from './io/named-tensors';
export { featureLayersFromTensors } from './features/feature-layers-from-tensors';
