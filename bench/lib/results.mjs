// Where the orchestrator keeps what it measured, and how figures are drawn from it: medians over
// rounds, and ratios taken within a round (the two engines measured minutes apart in the same
// bench process, interleaved) before the median is taken, so a noisy machine's drift cancels.
import { median } from "./stats.mjs";

export class Results {
  samples = new Map(); // `${engine}|${scenario}` -> [{ round, result }]
  errors = new Map(); // `${engine}|${scenario}` -> message
  unavailable = new Map(); // engine -> why it could not run at all

  toJSON() {
    return { samples: [...this.samples], errors: [...this.errors], unavailable: [...this.unavailable] };
  }

  static fromJSON(data) {
    const results = new Results();
    results.samples = new Map(data.samples);
    results.errors = new Map(data.errors);
    results.unavailable = new Map(data.unavailable);
    return results;
  }

  add(engine, scenario, round, result) {
    const key = `${engine}|${scenario}`;
    if (!this.samples.has(key)) this.samples.set(key, []);
    this.samples.get(key).push({ round, result });
  }

  fail(engine, scenario, message) {
    this.errors.set(`${engine}|${scenario}`, message);
  }

  list(engine, scenario) {
    return this.samples.get(`${engine}|${scenario}`) ?? [];
  }

  /** Median of `field` over complete (not truncated) samples; undefined when there are none. */
  value(engine, scenario, field) {
    const values = this.list(engine, scenario)
      .filter((s) => !s.result.truncated && Number.isFinite(s.result[field]))
      .map((s) => s.result[field]);
    return values.length > 0 ? median(values) : undefined;
  }

  truncated(engine, scenario) {
    return this.list(engine, scenario).find((s) => s.result.truncated)?.result;
  }

  /**
   * Median over rounds of a[field] / b[field], each ratio taken within one round (both measured
   * minutes apart at most, on a machine whose speed drifts). A slow peer measured in fewer rounds
   * is paired with the rounds it ran in. Only when no round measured both: the ratio of medians.
   */
  ratio(a, scenarioA, b, scenarioB, field, fieldB = field) {
    const byRound = new Map(
      this.list(b, scenarioB)
        .filter((s) => !s.result.truncated)
        .map((s) => [s.round, s.result[fieldB]]),
    );
    const paired = this.list(a, scenarioA)
      .filter((s) => !s.result.truncated && byRound.has(s.round))
      .map((s) => s.result[field] / byRound.get(s.round))
      .filter(Number.isFinite);
    if (paired.length > 0) return median(paired);
    const va = this.value(a, scenarioA, field);
    const vb = this.value(b, scenarioB, fieldB);
    return va !== undefined && vb !== undefined ? va / vb : undefined;
  }
}
