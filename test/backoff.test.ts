import { Restarter, RestartBackoff } from '../src/tools/backoff';

/** The waits of `restarts` restarts in a row of a pod that fails at once. */
function waits(backoff: RestartBackoff, restarts: number): number[] {
  return Array.from({ length: restarts }, () => backoff.next(0));
}

describe('restart back-off', () => {
  test('the kubelet\'s CrashLoopBackOff: 10 s, doubling, at most 5 minutes', () => {
    expect(waits(new RestartBackoff(Restarter.KUBELET), 8)).toEqual([10, 20, 40, 80, 160, 300, 300, 300].map(s => s * 1000));
  });

  test('the Job controller\'s back-off for failed pods: 10 s, doubling, at most 6 minutes', () => {
    expect(waits(new RestartBackoff(Restarter.JOB_CONTROLLER), 7)).toEqual([10, 20, 40, 80, 160, 320, 360].map(s => s * 1000));
  });

  test('a pod the training operator makes again waits for nothing', () => {
    expect(waits(new RestartBackoff(Restarter.TRAINING_OPERATOR, 500), 3)).toEqual([0, 0, 0]);
  });

  test('a container that ran 10 minutes before it failed starts over at the first wait', () => {
    const backoff = new RestartBackoff(Restarter.KUBELET);
    waits(backoff, 3);
    expect(backoff.next(599_999)).toBe(80_000);
    expect(backoff.next(600_000)).toBe(10_000);
  });

  test('a shorter first wait scales the whole back-off', () => {
    const backoff = new RestartBackoff(Restarter.KUBELET, 100);
    expect(waits(backoff, 7)).toEqual([100, 200, 400, 800, 1600, 3000, 3000]);
    expect(backoff.next(6000)).toBe(100);
    expect(waits(new RestartBackoff(Restarter.KUBELET, 0), 3)).toEqual([0, 0, 0]);
  });

  test('thousands of restarts in a row stay at the longest wait', () => {
    expect(waits(new RestartBackoff(Restarter.KUBELET), 5000).pop()).toBe(300_000);
  });
});
