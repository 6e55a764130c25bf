//! What every scenario shares: strategies, the check → warm up → timed rounds loop,
//! statistics, and the markdown and JSON output. Knows no table: scenarios bring their SQL.
//!
//! At each size every strategy is checked and warmed up, then the strategies are timed in
//! interleaved rounds (one operation of each per round, the order rotated every round) rather
//! than one after another: commit latency drifts over seconds, and timing strategies in
//! separate blocks would put that drift into the ratios between them.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use tokio_postgres::Client;

/// Every error of the benchmark, rendered with `Display` when the run aborts.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The future of one operation; boxed so that strategies of one scenario share a type.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// One way of performing a scenario's operation: a name for the table and an async function
/// that performs one operation on `client` with the scenario's input and returns the number
/// of statements it sent.
pub struct Strategy<I> {
    /// The name printed in the `strategy` column.
    pub name: &'static str,
    run: Box<RunOperation<I>>,
}

/// The function behind a [`Strategy`]: one operation on a client with an input.
type RunOperation<I> = dyn for<'a> Fn(&'a Client, &'a I) -> BoxFuture<'a, Result<u64>>;

impl<I> Strategy<I> {
    /// A strategy named `name` that performs one operation with `run`, typically
    /// `|client, input| Box::pin(async move { ... })`.
    pub fn new(
        name: &'static str,
        run: impl for<'a> Fn(&'a Client, &'a I) -> BoxFuture<'a, Result<u64>> + 'static,
    ) -> Self {
        Strategy {
            name,
            run: Box::new(run),
        }
    }

    /// Performs one operation; returns the statements it sent.
    pub async fn run(&self, client: &Client, input: &I) -> Result<u64> {
        (self.run)(client, input).await
    }
}

/// What a scenario does around the timed operation. None of it is timed.
pub trait Workload {
    /// What one operation of size `n` starts from (e.g. a fresh parent row and the rows to
    /// write into it), so that every timed operation starts from the same state.
    type Input;

    /// Creates the starting state of one operation of size `n`.
    async fn prepare(&self, client: &Client, n: usize) -> Result<Self::Input>;

    /// Checks that the operation performed on `input` wrote exactly the expected rows; an
    /// error names what differs.
    async fn verify(&self, client: &Client, input: &Self::Input) -> Result<()>;

    /// The rows one operation of size `n` writes, as the `rows/s` column and [`RESET_AFTER`]
    /// count them: `n` itself unless the scenario's `n` counts something else (graphs, for
    /// `insert-graph-many`, whose rows are the graphs' children).
    fn rows(&self, n: usize) -> usize {
        n
    }

    /// Brings the tables back to their starting size, so that table growth does not distort
    /// the timings. Runs before each strategy's check and, between timed rounds, whenever the
    /// next round would take the work since the last reset past [`RESET_AFTER`] units.
    async fn reset(&self, client: &Client) -> Result<()>;
}

/// Reset the tables (outside the timed region, between rounds) before the work since the last
/// reset, [`Workload::rows`] summed over operations, would pass this many units (rows, for
/// insert scenarios).
pub const RESET_AFTER: usize = 100_000;

/// How many operations to run, untimed and timed.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Untimed operations of each strategy before timing starts.
    pub warmup: usize,
    /// How many timed rounds (one operation of every strategy each).
    pub iterations: Iterations,
}

/// How the number of timed rounds per size is chosen; every round times one operation of each
/// strategy, so this is also the number of timed operations per cell.
#[derive(Debug, Clone, Copy)]
pub enum Iterations {
    /// Exactly this many rounds.
    Fixed(usize),
    /// Enough rounds for about `target` of timed work per strategy (`target` times the number
    /// of strategies per size), judged from the warm-up, within `min..=max`.
    Adaptive {
        /// The wall time to aim for per cell.
        target: Duration,
        /// The fewest rounds.
        min: usize,
        /// The most rounds.
        max: usize,
    },
}

impl Timing {
    /// About 2 s of timed work per cell, 5 to 2,000 rounds, after 3 warm-up operations of
    /// each strategy. The cap matters only for sub-millisecond operations, whose medians need
    /// many samples on a noisy machine.
    pub const DEFAULT: Timing = Timing {
        warmup: 3,
        iterations: Iterations::Adaptive {
            target: Duration::from_secs(2),
            min: 5,
            max: 2_000,
        },
    };

    /// `--quick`: one warm-up operation of each strategy, five timed rounds.
    pub const QUICK: Timing = Timing {
        warmup: 1,
        iterations: Iterations::Fixed(5),
    };

    /// How many timed operations a strategy timed alone would get, from the mean time of its
    /// warm-up operations (`None` without warm-up).
    fn iterations(&self, mean_warmup: Option<Duration>) -> usize {
        match self.iterations {
            Iterations::Fixed(count) => count,
            Iterations::Adaptive { target, min, max } => match mean_warmup {
                Some(mean) if !mean.is_zero() => {
                    let count = target.as_secs_f64() / mean.as_secs_f64();
                    (count.ceil() as usize).clamp(min, max)
                }
                _ => min,
            },
        }
    }

    /// How many timed rounds to run at one size, from each strategy's mean warm-up time (empty
    /// without warm-up): with `Adaptive`, `target × k / (sum of the k means)` within
    /// `min..=max`, so that a size takes about as long as `k` strategies timed alone.
    fn rounds(&self, mean_warmups: &[Duration]) -> usize {
        let strategies = u32::try_from(mean_warmups.len()).unwrap_or(u32::MAX);
        // A whole round as one operation, against k times the target. Scaling the target
        // keeps the durations exact, where a mean of the means would be truncated to whole
        // nanoseconds and could tip the rounding up by one.
        let mut pooled = *self;
        if let Iterations::Adaptive { target, .. } = &mut pooled.iterations {
            *target = target.saturating_mul(strategies);
        }
        let round = (strategies > 0).then(|| mean_warmups.iter().sum::<Duration>());
        pooled.iterations(round)
    }
}

/// One cell of the table: a strategy at one size.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// The scenario's name.
    pub scenario: &'static str,
    /// The strategy's name.
    pub strategy: &'static str,
    /// The size of one operation.
    pub n: usize,
    /// The rows one operation writes ([`Workload::rows`] of `n`), which `rows/s` counts.
    pub rows: usize,
    /// How many operations were timed: the number of rounds at this size.
    pub iterations: usize,
    /// Median wall time of one operation.
    pub median: Duration,
    /// 90th percentile (nearest rank) wall time of one operation.
    pub p90: Duration,
    /// Statements one operation sent.
    pub statements: u64,
    /// `median` divided by the reference strategy's median at the same `n`.
    pub ratio: f64,
}

impl Measurement {
    /// Rows (`rows`, by default units of `n`) per second at the median.
    pub fn rows_per_second(&self) -> f64 {
        self.rows as f64 / self.median.as_secs_f64()
    }
}

/// A scenario's results: its cells, and lines that sum them up.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// One per strategy and size, sizes in the order given, strategies in theirs.
    pub measurements: Vec<Measurement>,
    /// Printed after the table (to stderr with `--json`).
    pub summary: Vec<String>,
}

impl Report {
    /// The cell of `strategy` at size `n` in `scenario` (a report may hold several).
    pub fn find(&self, scenario: &str, strategy: &str, n: usize) -> Option<&Measurement> {
        self.measurements
            .iter()
            .find(|m| m.scenario == scenario && m.strategy == strategy && m.n == n)
    }
}

/// Runs every strategy at every size. At each size, every strategy in turn is first checked
/// (tables reset, one operation whose rows are verified; a failed operation or wrong rows abort
/// the run with an error naming the cell) and warmed up with `timing.warmup` untimed
/// operations. Then the timed operations run in rounds: each round runs one operation of every
/// strategy, starting at strategy `r % k` in round `r` so that no strategy always runs first
/// (right after a reset or the previous round), and the tables are reset between rounds as [`RESET_AFTER`] requires. The number
/// of rounds comes from `timing` (see [`Iterations`]). Only `Strategy::run` is inside the timed
/// region; `prepare` and `reset` are not. `reference` names the strategy the `ratio` column
/// divides by.
pub async fn measure<W: Workload>(
    client: &Client,
    scenario: &'static str,
    workload: &W,
    strategies: &[Strategy<W::Input>],
    reference: &str,
    sizes: &[usize],
    timing: Timing,
) -> Result<Vec<Measurement>> {
    if !strategies.iter().any(|s| s.name == reference) {
        return Err(
            format!("scenario `{scenario}` has no reference strategy `{reference}`").into(),
        );
    }
    let mut measurements = Vec::new();
    for &n in sizes {
        measurements.extend(measure_size(client, scenario, workload, strategies, n, timing).await?);
        let reference_median = measurements
            .iter()
            .find(|m| m.n == n && m.strategy == reference)
            .map(|m| m.median)
            .ok_or("the reference strategy was not measured")?;
        for m in measurements.iter_mut().filter(|m| m.n == n) {
            m.ratio = m.median.as_secs_f64() / reference_median.as_secs_f64();
        }
    }
    Ok(measurements)
}

/// The cells of every strategy at size `n`: checks and warm-ups, then the timed rounds.
async fn measure_size<W: Workload>(
    client: &Client,
    scenario: &'static str,
    workload: &W,
    strategies: &[Strategy<W::Input>],
    n: usize,
    timing: Timing,
) -> Result<Vec<Measurement>> {
    let cell_name =
        |strategy: &Strategy<W::Input>| format!("{scenario} / {} / n = {n}", strategy.name);
    let rows = workload.rows(n);
    let mut statements = Vec::with_capacity(strategies.len());
    let mut mean_warmups = Vec::with_capacity(strategies.len());
    let mut work_since_reset = 0;
    for strategy in strategies {
        let cell = cell_name(strategy);
        workload.reset(client).await?;

        // Correct rows first: a fast strategy that writes the wrong rows is no result.
        let input = workload.prepare(client, n).await?;
        let count = strategy
            .run(client, &input)
            .await
            .map_err(|e| format!("{cell}: the operation failed: {e}"))?;
        workload
            .verify(client, &input)
            .await
            .map_err(|e| format!("{cell}: wrong rows written: {e}"))?;
        work_since_reset = rows;

        let mut warmup_total = Duration::ZERO;
        for _ in 0..timing.warmup {
            let input = workload.prepare(client, n).await?;
            let start = Instant::now();
            let result = strategy.run(client, &input).await;
            warmup_total += start.elapsed();
            result.map_err(|e| format!("{cell}: a warm-up operation failed: {e}"))?;
            work_since_reset = work_since_reset.saturating_add(rows);
        }
        if timing.warmup > 0 {
            mean_warmups.push(warmup_total / timing.warmup as u32);
        }
        eprintln!("{cell}: rows verified, {count} statements/op");
        statements.push(count);
    }

    let rounds = timing.rounds(&mean_warmups);
    let k = strategies.len();
    eprintln!(
        "{scenario} / n = {n}: timing {rounds} rounds of {k} strategies, one operation each, \
         the order rotated every round"
    );
    let round_work = rows.saturating_mul(k);
    let mut samples: Vec<Vec<Duration>> = (0..k).map(|_| Vec::with_capacity(rounds)).collect();
    for round in 0..rounds {
        if work_since_reset.saturating_add(round_work) > RESET_AFTER {
            workload.reset(client).await?;
            work_since_reset = 0;
        }
        for offset in 0..k {
            let index = (round + offset) % k;
            let strategy = &strategies[index];
            let input = workload.prepare(client, n).await?;
            let start = Instant::now();
            let result = strategy.run(client, &input).await;
            let elapsed = start.elapsed();
            result
                .map_err(|e| format!("{}: a timed operation failed: {e}", cell_name(strategy)))?;
            samples[index].push(elapsed);
        }
        work_since_reset = work_since_reset.saturating_add(round_work);
    }

    strategies
        .iter()
        .zip(statements)
        .zip(&mut samples)
        .map(|((strategy, statements), samples)| {
            let stats = Stats::of(samples)
                .ok_or_else(|| format!("{}: no timed operations", cell_name(strategy)))?;
            Ok(Measurement {
                scenario,
                strategy: strategy.name,
                n,
                rows,
                iterations: rounds,
                median: stats.median,
                p90: stats.p90,
                statements,
                ratio: f64::NAN,
            })
        })
        .collect()
}

/// Median and 90th percentile of a set of durations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// The middle value (the mean of the two middle values for an even count).
    pub median: Duration,
    /// The nearest-rank 90th percentile: the smallest value not below 90 % of the values.
    pub p90: Duration,
}

impl Stats {
    /// Sorts `samples` and reads the statistics; `None` when there are none.
    pub fn of(samples: &mut [Duration]) -> Option<Stats> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        let len = samples.len();
        let median = if len % 2 == 1 {
            samples[len / 2]
        } else {
            (samples[len / 2 - 1] + samples[len / 2]) / 2
        };
        let p90_rank = (len * 9).div_ceil(10).max(1);
        Some(Stats {
            median,
            p90: samples[p90_rank - 1],
        })
    }
}

/// The report as a markdown table followed by its summary lines.
pub fn markdown(report: &Report) -> String {
    if report.measurements.is_empty() {
        // A scenario without cells (`load`) prints its summary alone.
        return report
            .summary
            .iter()
            .map(|line| format!("{line}\n"))
            .collect();
    }
    let header = [
        "scenario",
        "strategy",
        "n",
        "median ms",
        "p90 ms",
        "rows/s",
        "statements/op",
        "ratio",
    ]
    .map(String::from);
    let rows: Vec<[String; 8]> = report
        .measurements
        .iter()
        .map(|m| {
            [
                m.scenario.to_owned(),
                m.strategy.to_owned(),
                m.n.to_string(),
                format!("{:.2}", milliseconds(m.median)),
                format!("{:.2}", milliseconds(m.p90)),
                format!("{:.0}", m.rows_per_second()),
                m.statements.to_string(),
                format!("{:.2}", m.ratio),
            ]
        })
        .collect();
    // At least 3, so that every delimiter cell has a hyphen (`--:`), as markdown requires.
    let mut widths = header.clone().map(|h| h.len().max(3));
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    // Text columns left-aligned, numbers right-aligned.
    let line = |cells: &[String; 8]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(column, (cell, width))| match column {
                0 | 1 => format!("{cell:<width$}"),
                _ => format!("{cell:>width$}"),
            })
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let mut out = line(&header);
    let rule: Vec<String> = widths
        .iter()
        .enumerate()
        .map(|(column, &width)| match column {
            0 | 1 => "-".repeat(width),
            _ => format!("{}:", "-".repeat(width - 1)),
        })
        .collect();
    out.push_str(&format!("| {} |\n", rule.join(" | ")));
    for row in &rows {
        out.push_str(&line(row));
    }
    if !report.summary.is_empty() {
        out.push('\n');
        for summary in &report.summary {
            out.push_str(summary);
            out.push('\n');
        }
    }
    out
}

/// The report's cells as JSON, one object per line.
pub fn json_lines(report: &Report) -> String {
    report
        .measurements
        .iter()
        .map(|m| {
            let object = serde_json::json!({
                "scenario": m.scenario,
                "strategy": m.strategy,
                "n": m.n,
                "rows": m.rows,
                "iterations": m.iterations,
                "median_ms": milliseconds(m.median),
                "p90_ms": milliseconds(m.p90),
                "rows_per_s": m.rows_per_second(),
                "statements": m.statements,
                "ratio": m.ratio,
            });
            format!("{object}\n")
        })
        .collect()
}

/// A duration in (fractional) milliseconds.
pub fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|&v| Duration::from_millis(v)).collect()
    }

    #[test]
    fn median_and_p90_by_nearest_rank() {
        let mut odd = ms(&[5, 1, 4, 2, 3]);
        assert_eq!(
            Stats::of(&mut odd),
            Some(Stats {
                median: Duration::from_millis(3),
                p90: Duration::from_millis(5),
            })
        );
        let mut ten = ms(&[10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(
            Stats::of(&mut ten),
            Some(Stats {
                median: Duration::from_micros(5_500),
                p90: Duration::from_millis(9),
            })
        );
        assert_eq!(Stats::of(&mut []), None);
    }

    #[test]
    fn adaptive_iterations_aim_at_the_target_within_bounds() {
        let timing = Timing::DEFAULT;
        assert_eq!(timing.iterations(Some(Duration::from_millis(100))), 20);
        assert_eq!(timing.iterations(Some(Duration::from_secs(3))), 5);
        assert_eq!(timing.iterations(Some(Duration::from_micros(10))), 2_000);
        assert_eq!(timing.iterations(None), 5);
        assert_eq!(Timing::QUICK.iterations(None), 5);
    }

    #[test]
    fn rounds_give_every_strategy_its_target_within_bounds() {
        let timing = Timing::DEFAULT;
        // 2 s × 3 strategies / (62.5 + 187.5 + 250 ms) = 12 rounds, exactly: the mean of the
        // means (166.666… ms) is not a whole number of nanoseconds.
        let means = [62_500, 187_500, 250_000].map(Duration::from_micros);
        assert_eq!(timing.rounds(&means), 12);
        // 2 s × 2 / (100 + 300 ms) = 10: the slow strategy shortens everyone's rounds.
        assert_eq!(timing.rounds(&ms(&[100, 300])), 10);
        assert_eq!(
            timing.rounds(&ms(&[100])),
            timing.iterations(Some(ms(&[100])[0]))
        );
        assert_eq!(timing.rounds(&ms(&[3_000, 5_000])), 5);
        let fast = [Duration::from_micros(10); 4];
        assert_eq!(timing.rounds(&fast), 2_000);
        assert_eq!(timing.rounds(&[]), 5);
        assert_eq!(timing.rounds(&[Duration::ZERO; 2]), 5);
        assert_eq!(Timing::QUICK.rounds(&ms(&[100, 300])), 5);
        let fixed = Timing {
            warmup: 0,
            iterations: Iterations::Fixed(7),
        };
        assert_eq!(fixed.rounds(&[]), 7);
    }
}
