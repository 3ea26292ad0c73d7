// createEngine when tfjs cannot be connected (connectTfjs mocked to fail): the device it requested is
// destroyed with the failed call, not left running.
import { expect, it, vi } from 'vitest';
import { createEngine } from '../../src/create-engine';

vi.mock('../../src/interop/tfjs/backend', () => ({
  existingTfjsDevice: () => null,
  connectTfjs: vi.fn(async () => {
    throw new Error('test: tfjs could not switch to the device');
  }),
}));

it('destroys the device it requested when connecting tfjs fails', async () => {
  const made: GPUDevice[] = [];
  const requestDevice = GPUAdapter.prototype.requestDevice;
  const spy = vi.spyOn(GPUAdapter.prototype, 'requestDevice').mockImplementation(async function (this: GPUAdapter, descriptor) {
    const device = await requestDevice.call(this, descriptor);
    made.push(device);
    return device;
  });
  await expect(createEngine()).rejects.toThrow('test: tfjs could not switch to the device');
  spy.mockRestore();
  expect(made).toHaveLength(1);
  const lost = await Promise.race([made[0]!.lost, new Promise((resolve) => setTimeout(() => resolve('still alive'), 2000))]);
  expect(lost).toMatchObject({ reason: 'destroyed' });
});
