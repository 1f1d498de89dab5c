/** What every scenario module in src/scenarios/ exports. */
export interface Scenario {
  /** One line shown in `conc-demo --list` and as the scenario's heading. */
  readonly title: string;
  /** Runs the scenario, writing what a new user should see through `out`. */
  run(out: (line: string) => void): Promise<void>;
}
