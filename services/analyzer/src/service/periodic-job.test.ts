import { afterEach, describe, expect, it } from "vitest";
import { periodicJob } from "./periodic-job.js";

const pause = (ms: number) => new Promise((res) => setTimeout(res, ms));
let timer: NodeJS.Timeout | undefined;
afterEach(() => clearInterval(timer));

describe("periodicJob", () => {
  it("never runs the job twice at once: a slow run is not joined by the next", async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    timer = periodicJob(
      5,
      async () => {
        runs++;
        running++;
        most = Math.max(most, running);
        await pause(40);
        running--;
      },
      () => {},
    );
    await pause(150);
    expect(most).toBe(1);
    // About 150 / 40 runs, not 150 / 5.
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(runs).toBeLessThanOrEqual(5);
  });

  it("hands a failed run over and runs on", async () => {
    const errors: unknown[] = [];
    let runs = 0;
    timer = periodicJob(
      5,
      async () => {
        runs++;
        throw new Error(`run ${runs}`);
      },
      (e) => errors.push(e),
    );
    await pause(60);
    expect(runs).toBeGreaterThan(2);
    expect(errors.length).toBe(runs);
  });

  it("does not run at all for a period of 0", () => {
    expect(
      periodicJob(
        0,
        async () => {},
        () => {},
      ),
    ).toBeUndefined();
  });
});
