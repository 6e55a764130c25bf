//! What every scenario shares: strategies, the verify → warm up → time loop, statistics, and
//! the markdown and JSON output. Knows no table: scenarios bring their SQL.

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

    /// Brings the tables back to their starting size, so that table growth does not distort
    /// the timings. Runs before each strategy and every [`RESET_AFTER`] units of work.
    async fn reset(&self, client: &Client) -> Result<()>;
}

/// Reset the tables (outside the timed region) after this many units of work (rows, for
/// insert scenarios): `sum of n over operations`.
pub const RESET_AFTER: usize = 100_000;

/// How many operations to run, untimed and timed.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Untimed operations before timing starts.
    pub warmup: usize,
    /// How many timed operations.
    pub iterations: Iterations,
}

/// How the number of timed operations per cell is chosen.
#[derive(Debug, Clone, Copy)]
pub enum Iterations {
    /// Exactly this many.
    Fixed(usize),
    /// Enough for about `target` of timed work, judged from the warm-up, within
    /// `min..=max`.
    Adaptive {
        /// The wall time to aim for per cell.
        target: Duration,
        /// The fewest timed operations.
        min: usize,
        /// The most timed operations.
        max: usize,
    },
}

impl Timing {
    /// About 2 s of timed work per cell, 5 to 2,000 operations, after 3 warm-up operations.
    /// The cap matters only for sub-millisecond operations, whose medians need many samples
    /// on a noisy machine.
    pub const DEFAULT: Timing = Timing {
        warmup: 3,
        iterations: Iterations::Adaptive {
            target: Duration::from_secs(2),
            min: 5,
            max: 2_000,
        },
    };

    /// `--quick`: one warm-up operation, five timed ones.
    pub const QUICK: Timing = Timing {
        warmup: 1,
        iterations: Iterations::Fixed(5),
    };

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
    /// How many operations were timed.
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
    /// Rows (units of `n`) per second at the median.
    pub fn rows_per_second(&self) -> f64 {
        self.n as f64 / self.median.as_secs_f64()
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

/// Runs every strategy at every size: first one operation whose rows are verified (a wrong
/// result aborts the run), then `timing.warmup` untimed operations, then the timed ones.
/// Only `Strategy::run` is inside the timed region; `prepare` and `reset` are not.
/// `reference` names the strategy the `ratio` column divides by.
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
        for strategy in strategies {
            measurements.push(measure_cell(client, scenario, workload, strategy, n, timing).await?);
        }
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

async fn measure_cell<W: Workload>(
    client: &Client,
    scenario: &'static str,
    workload: &W,
    strategy: &Strategy<W::Input>,
    n: usize,
    timing: Timing,
) -> Result<Measurement> {
    let cell = format!("{scenario} / {} / n = {n}", strategy.name);
    workload.reset(client).await?;

    // Correct rows first: a fast strategy that writes the wrong rows is no result.
    let input = workload.prepare(client, n).await?;
    let statements = strategy
        .run(client, &input)
        .await
        .map_err(|e| format!("{cell}: the operation failed: {e}"))?;
    workload
        .verify(client, &input)
        .await
        .map_err(|e| format!("{cell}: wrong rows written: {e}"))?;
    let mut work_since_reset = n;

    let mut warmup_total = Duration::ZERO;
    for _ in 0..timing.warmup {
        let input = workload.prepare(client, n).await?;
        let start = Instant::now();
        strategy.run(client, &input).await?;
        warmup_total += start.elapsed();
        work_since_reset += n;
    }
    let mean_warmup = (timing.warmup > 0).then(|| warmup_total / timing.warmup as u32);
    let iterations = timing.iterations(mean_warmup);
    eprintln!("{cell}: rows verified, {statements} statements/op, timing {iterations} operations");

    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        if work_since_reset + n > RESET_AFTER {
            workload.reset(client).await?;
            work_since_reset = 0;
        }
        let input = workload.prepare(client, n).await?;
        let start = Instant::now();
        strategy.run(client, &input).await?;
        samples.push(start.elapsed());
        work_since_reset += n;
    }
    let stats = Stats::of(&mut samples).ok_or_else(|| format!("{cell}: no timed operations"))?;
    Ok(Measurement {
        scenario,
        strategy: strategy.name,
        n,
        iterations,
        median: stats.median,
        p90: stats.p90,
        statements,
        ratio: f64::NAN,
    })
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
}
