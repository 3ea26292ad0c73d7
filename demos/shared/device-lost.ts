// A demo page's answer to a lost GPU device: say so in its status line instead of freezing silently. (The
// custom elements rebuild on a new device by themselves: demos/embedding/.)
import type { Engine } from '../../src/index';

export function reportDeviceLoss(engine: Engine, showError: (message: string) => void): void {
  void engine.device.lost.then((info) => {
    if (info.reason === 'destroyed' && document.visibilityState === 'hidden') return; // the page is going away
    showError(`The GPU device was lost (${info.reason || 'unknown'}: ${info.message}). Reload the page to start again.`);
  });
}
