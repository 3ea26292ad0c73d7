// The worker's entry: computes attention flow off the main thread, where seconds of max-flows (n = 64,
// many layers) would freeze the page. Started by attention-flow-client.ts; answers one message per request.
import { attentionFlow } from './attention-flow';

export interface AttentionFlowRequest {
  id: number;
  graph: Float64Array;
  layers: number;
  n: number;
  outputs?: readonly number[];
  upToLayer?: number;
}

export type AttentionFlowReply = { id: number; flow: Float64Array } | { id: number; error: { name: string; message: string } };

/** The slice of a dedicated worker's global scope used here (the project's lib is DOM, not WebWorker). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<AttentionFlowRequest>) => void) | null;
  postMessage(message: AttentionFlowReply, transfer: Transferable[]): void;
}

const scope = self as unknown as WorkerScope;

scope.onmessage = ({ data: { id, graph, layers, n, outputs, upToLayer } }) => {
  try {
    const flow = attentionFlow(graph, layers, n, { outputs, upToLayer });
    scope.postMessage({ id, flow }, [flow.buffer]);
  } catch (error) {
    const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
    scope.postMessage({ id, error: { name, message } }, []);
  }
};
