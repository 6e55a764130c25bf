//! Benchmarks of writegraph's generated writes against hand-written tokio-postgres.
//!
//! ```sh
//! cargo run --release -p writegraph-bench -- insert-many            # markdown table
//! cargo run --release -p writegraph-bench -- insert-many --json     # one JSON object per line
//! cargo run --release -p writegraph-bench -- insert-many --quick    # 1 warm-up, 5 timed rounds
//! cargo run --release -p writegraph-bench -- insert-many --sizes 100,1000 --iterations 50
//! cargo run --release -p writegraph-bench -- insert-graph           # graph writes, N children
//! cargo run --release -p writegraph-bench --features tracing -- insert-graph --sizes 1
//! cargo run --release -p writegraph-bench -- insert-graph-many      # many graphs in one call
//! cargo run --release -p writegraph-bench -- nested-graph           # user → posts → comments,
//!                                                                   # team → users, memberships
//! cargo run --release -p writegraph-bench -- update-graph           # diff of an order's items
//! cargo run --release -p writegraph-bench -- update-graph-many      # diffs of many orders
//! cargo run --release -p writegraph-bench -- single-row             # one row, four ways
//! cargo run --release -p writegraph-bench -- load                   # 32 connections at once
//! ```
//!
//! With `DATABASE_URL` set, the run uses a fresh database (with the example schema) on that
//! server, whose durability settings are its own; otherwise it starts a throwaway cluster with
//! PostgreSQL's crash-safety settings on (`fsync`, `synchronous_commit`, `full_page_writes`),
//! so every commit waits for the disk, as on a real server. The first line says which.
//!
//! Every scenario measures the generated code twice: on a plain `tokio_postgres::Client`
//! (`writegraph <fn>`: statements sent unprepared with `query_typed`, parsed and planned on
//! every call) and on a `writegraph::CachedClient` (`writegraph <fn> (CachedClient)`: each
//! statement prepared on its first use, which the checked first operation and the warm-up
//! cover, then only bound and executed). All strategies share one connection, so none pays
//! for waking a second server process.
//!
//! At each size, each strategy's first operation is checked against the rows it should have
//! written (count, sums, every row's values); wrong rows abort the run with an error. Then come
//! a few untimed warm-up operations of each strategy, then the timed ones, in rounds: each
//! round times one operation of every strategy, the order rotated from round to round, so that
//! drifting commit latency weighs on all strategies alike. There are enough rounds for about
//! 2 s of timed work per cell (5 to 2,000 rounds), unless `--iterations` (rounds) or `--quick`
//! says otherwise. Every operation starts from the same state (for `insert-many`, a fresh order
//! created outside the timed region); the tables are truncated outside the timed region before
//! each strategy's check and between rounds every 100,000 rows.
//!
//! Columns:
//! - `scenario`, `strategy`: what was run, and how;
//! - `n`: the size of one operation (rows inserted, for `insert-many`; children per graph, for
//!   `insert-graph`; graphs per call, for `insert-graph-many`; posts of the author graph and
//!   members of the sign-up, for `nested-graph`; items of the order before and after the
//!   diff, for `update-graph`; orders per call, for `update-graph-many`);
//! - `median ms`, `p90 ms`: median and 90th percentile (nearest rank) wall time of one
//!   operation, as the client sees it, round trips and commit included;
//! - `rows/s`: `n` divided by the median, except in `insert-graph-many`: the child rows of the
//!   call's graphs (the rows under their roots) divided by the median;
//! - `statements/op`: statements one operation sends (measured for writegraph with a counting
//!   client, declared for hand-written strategies; `BEGIN` and `COMMIT` count);
//! - `ratio`: median divided by the median of the scenario's reference strategy at the same
//!   `n` (`binary COPY` for `insert-many`, `hand CTE (prepared)` for `insert-graph`,
//!   `nested-graph` and `update-graph`, `INSERT prepared (reused)` for `single-row`): below 1
//!   is faster than the reference; `per-graph loop (hand CTE, transaction)` for
//!   `insert-graph-many`; `per-graph loop (hand CTE + lock, transaction)` for
//!   `update-graph-many`.
//!
//! Lines after the table sum the scenario up (for `insert-many`, writegraph against COPY and
//! per-row inserts, and whether the targets at 10,000 rows are met; a missed target does not
//! fail the run). With `--json` they and the progress lines go to stderr, the JSON to stdout.
//!
//! Scenarios:
//! - `insert-many`: N rows into `order_items` for one order, N = 1,000 and 10,000;
//! - `insert-graph`: one graph write with N children, N = 1, 10, 100 and 1,000, for the order
//!   graph (order + N items + audit row) and the product graph (category upsert + product +
//!   detail + N tags + audit row): the generated `insert_graph` against a per-row transaction,
//!   a transaction with UNNEST inserts, and a hand-written data-modifying CTE (prepared, and
//!   sent with `query_typed`); targets checked: within 1.05x of the prepared CTE, faster than
//!   the UNNEST transaction, at least 5x faster than per-row at 100 children, judged on the
//!   `CachedClient` variant; with feature `tracing` (the runtime's spans of writes), also the
//!   `CachedClient` variant with a subscriber recording the spans, checked against the same
//!   call without one (target: under 2 % more at N = 1);
//! - `insert-graph-many`: M graphs of one kind in one call, two cases in one run: M = 100
//!   orders of 10 items and an audit row each (`AuditedOrderGraph`; 1,000 child rows, the
//!   items) and M = 1,000 authors of 2 posts with 2 comments each (`NewAuthorGraph`, three
//!   levels; 6,000 child rows). The generated `insert_graph_many` (one statement, plain client
//!   and `CachedClient`) and `insert_graph_each` (`CachedClient`: each graph under a savepoint
//!   of its own, pipelined) against the hand-written CTE of one graph, prepared once, run for
//!   each graph in one transaction, once awaited one by one (the per-graph loop, the
//!   reference) and once all sent at once. Targets checked for `insert_graph_many`, on each
//!   client: at least 200,000 child rows/s and at least 3x faster than the per-graph loop.
//!   After each case's run the tables are checked again (every child under its own root), and
//!   a diagnosis line splits a call into server planning and execution (`EXPLAIN ANALYZE`,
//!   foreign key triggers apart), client work and a durable commit. `--sizes` sets M for both;
//! - `nested-graph`: two graphs in one run, each against a per-row transaction and a
//!   hand-written one-statement CTE of the same shape, prepared once; targets checked: within
//!   1.10x of the prepared CTE and at least 5x faster than per-row, judged on the
//!   `CachedClient` variant. `nested-graph author`: an author with N posts of 10 comments each
//!   (N = 10: 111 rows), written with the generated `NewAuthorGraph::insert_graph`, the CTE
//!   also sent with `query_typed`; after its run, every comment is checked to be under its own
//!   post. `nested-graph signup`: the sign-up flow, a team, N new users and the N memberships
//!   joining them (N = 1 and 10: 3 and 21 rows), written with `SignupGraph::insert_graph`;
//!   after its run, every membership is checked to link a user of its own team. `--sizes`
//!   sets N for both;
//! - `update-graph`: the diff of an order's items, N = 100 and 1,000, where 10 % of the items
//!   change, 10 % are removed and 10 % are new: the generated `OrderPatchGraph::
//!   update_by_id_graph` against delete-all-and-reinsert per row, an UNNEST upsert + DELETE
//!   transaction, and a hand-written CTE (prepared, and sent with `query_typed`); the same
//!   targets, at 1,000 items;
//! - `update-graph-many`: the same diff for M = 10, 100 and 1,000 orders of 10 items per call:
//!   the generated `OrderPatchGraph::update_graph_many` (one statement after the lock of
//!   every order) against the hand-written diff CTE and lock per order in one transaction,
//!   awaited one by one and all pipelined;
//! - `single-row`: one row into `order_items`, with the generated `insert` (plain client and
//!   `CachedClient`), a plain `INSERT` sent with `query_typed`, and the same `INSERT` prepared
//!   once and reused;
//! - `load`: 32 connections (half of them `CachedClient`s) × 2,000 mixed graph writes at once
//!   (order graph inserts, locked diffs, product graphs upserting one of 8 shared categories,
//!   item upserts), one write in 49 made to violate a CHECK. Bounded in count and in time
//!   (600 s); it fails unless every error is an injected CHECK violation and the tables hold
//!   exactly the rows of the writes that returned `Ok`. It prints no table but the throughput,
//!   the p50, p99 and maximum latency of one write, and the process's resident memory
//!   (`VmRSS`) with the connections open, after half the writes and at the end, which should
//!   stay flat. It takes no `--sizes`, `--iterations` or `--quick`, and is run by hand, not
//!   in CI.

mod harness;
mod scenarios;
#[cfg(feature = "tracing")]
mod spans;

use std::process::ExitCode;
use std::rc::Rc;

use writegraph::CachedClient;
use writegraph_example::SCHEMA_SQL;
use writegraph_testing::{ClusterOptions, Server, DATABASE_URL};

use crate::harness::{Iterations, Result, Timing};

const USAGE: &str =
    "usage: writegraph-bench <scenario> [--json] [--quick] [--iterations N] [--sizes N,N,...]";

/// The command line.
#[derive(Debug)]
struct Args {
    scenario: String,
    json: bool,
    timing: Timing,
    sizes: Option<Vec<usize>>,
}

fn main() -> ExitCode {
    if std::env::args().any(|arg| arg == "-h" || arg == "--help") {
        println!("{USAGE}\nscenarios: {}", scenarios::NAMES.join(", "));
        return ExitCode::SUCCESS;
    }
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!(
                "error: {message}\n{USAGE}\nscenarios: {}",
                scenarios::NAMES.join(", ")
            );
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the tokio runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // tokio-postgres says only "db error"; the server's message is in the source.
            let mut message = error.to_string();
            let mut source = error.source();
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<()> {
    let (server, origin) = match std::env::var(DATABASE_URL) {
        Ok(url) if !url.trim().is_empty() => (Server::from_url(&url)?, "DATABASE_URL"),
        _ => {
            eprintln!("starting a throwaway durable PostgreSQL cluster");
            let options = ClusterOptions {
                durable: true,
                ..Default::default()
            };
            (Server::start(&options)?, "throwaway durable cluster")
        }
    };
    let database = server.database_with_schema(SCHEMA_SQL).await?;
    // One connection for every strategy: switching between two connections costs the
    // server a backend wake-up that would land on whichever strategy follows the switch.
    // The `CachedClient` strategies use it through the cache; the others use the client
    // inside it directly.
    let cached = Rc::new(CachedClient::new(database.connect().await?));
    let client: &tokio_postgres::Client = &cached;

    let settings = client
        .query_one(
            "SELECT current_setting('server_version'), current_setting('fsync'), \
                    current_setting('synchronous_commit')",
            &[],
        )
        .await?;
    let about = format!(
        "PostgreSQL {} ({origin}), fsync = {}, synchronous_commit = {}",
        settings.get::<_, String>(0),
        settings.get::<_, String>(1),
        settings.get::<_, String>(2)
    );

    let report = match args.scenario.as_str() {
        scenarios::INSERT_MANY => {
            let sizes = args
                .sizes
                .as_deref()
                .unwrap_or(scenarios::INSERT_MANY_SIZES);
            scenarios::insert_many(client, &cached, sizes, args.timing).await?
        }
        scenarios::INSERT_GRAPH => {
            let sizes = args
                .sizes
                .as_deref()
                .unwrap_or(scenarios::INSERT_GRAPH_SIZES);
            // The pooled variant's connection is the pool's own (a pool hands out only the
            // connections it opened).
            let manager =
                deadpool_postgres::Manager::new(database.config().clone(), tokio_postgres::NoTls);
            let pool = deadpool_postgres::Pool::builder(manager)
                .max_size(1)
                .build()?;
            scenarios::insert_graph(client, &cached, &pool, sizes, args.timing).await?
        }
        scenarios::INSERT_GRAPH_MANY => {
            let order_sizes = args.sizes.as_deref().unwrap_or(scenarios::MANY_ORDER_SIZES);
            let author_sizes = args
                .sizes
                .as_deref()
                .unwrap_or(scenarios::MANY_AUTHOR_SIZES);
            scenarios::insert_graph_many(client, &cached, order_sizes, author_sizes, args.timing)
                .await?
        }
        scenarios::NESTED_GRAPH => {
            let sizes = args
                .sizes
                .as_deref()
                .unwrap_or(scenarios::NESTED_GRAPH_SIZES);
            let signup_sizes = args.sizes.as_deref().unwrap_or(scenarios::SIGNUP_SIZES);
            scenarios::nested_graph(client, &cached, sizes, signup_sizes, args.timing).await?
        }
        scenarios::SINGLE_ROW => {
            if args.sizes.is_some() {
                return Err("`single-row` writes one row; it takes no `--sizes`".into());
            }
            scenarios::single_row(client, &cached, args.timing).await?
        }
        scenarios::UPDATE_GRAPH => {
            let sizes = args
                .sizes
                .as_deref()
                .unwrap_or(scenarios::UPDATE_GRAPH_SIZES);
            scenarios::update_graph(client, &cached, sizes, args.timing).await?
        }
        scenarios::UPDATE_GRAPH_MANY => {
            let sizes = args
                .sizes
                .as_deref()
                .unwrap_or(scenarios::UPDATE_GRAPH_MANY_SIZES);
            scenarios::update_graph_many(client, &cached, sizes, args.timing).await?
        }
        scenarios::LOAD => {
            if args.sizes.is_some() {
                return Err("`load` has a fixed size; it takes no `--sizes`".into());
            }
            scenarios::load(&database).await?
        }
        other => return Err(format!("unknown scenario `{other}`").into()),
    };

    if args.json {
        eprintln!("{about}");
        print!("{}", harness::json_lines(&report));
        for line in &report.summary {
            eprintln!("{line}");
        }
    } else {
        println!("{about}\n");
        print!("{}", harness::markdown(&report));
    }
    Ok(())
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut scenario = None;
    let mut json = false;
    let mut quick = false;
    let mut iterations = None;
    let mut sizes = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => json = true,
            "--quick" => quick = true,
            "--iterations" => {
                let value = args.next().ok_or("`--iterations` needs a number")?;
                match value.parse::<usize>() {
                    Ok(count) if count > 0 => iterations = Some(count),
                    _ => return Err(format!("`--iterations {value}`: expected a number above 0")),
                }
            }
            "--sizes" => {
                let value = args
                    .next()
                    .ok_or("`--sizes` needs a list such as 1000,10000")?;
                let parsed: Option<Vec<usize>> = value
                    .split(',')
                    .map(|size| size.trim().parse().ok().filter(|&n: &usize| n > 0))
                    .collect();
                sizes = Some(parsed.ok_or_else(|| {
                    format!("`--sizes {value}`: expected numbers above 0, separated by commas")
                })?);
            }
            flag if flag.starts_with('-') => return Err(format!("unknown option `{flag}`")),
            name if scenario.is_none() => scenario = Some(name.to_owned()),
            extra => return Err(format!("unexpected argument `{extra}`")),
        }
    }
    let scenario = scenario.ok_or("name a scenario")?;
    if !scenarios::NAMES.contains(&scenario.as_str()) {
        return Err(format!("unknown scenario `{scenario}`"));
    }
    let mut timing = if quick {
        Timing::QUICK
    } else {
        Timing::DEFAULT
    };
    if let Some(count) = iterations {
        timing.iterations = Iterations::Fixed(count);
    }
    Ok(Args {
        scenario,
        json,
        timing,
        sizes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        parse_args(args.iter().map(|arg| (*arg).to_owned()))
    }

    #[test]
    fn every_scenario_is_named_once_and_parses() {
        for (index, name) in scenarios::NAMES.iter().enumerate() {
            assert!(!scenarios::NAMES[..index].contains(name), "{name} twice");
            let args = parse(&[name, "--sizes", "2,3"]).expect("a known scenario");
            assert_eq!(args.scenario, *name);
            assert_eq!(args.sizes, Some(vec![2, 3]));
        }
        assert!(scenarios::NAMES.contains(&scenarios::INSERT_GRAPH_MANY));
        assert!(parse(&["insert-graph-many", "--quick"]).is_ok());
    }

    #[test]
    fn unknown_scenarios_and_bad_options_are_refused() {
        assert!(parse(&["insert-graphs-many"]).is_err());
        assert!(parse(&[]).is_err());
        assert!(parse(&["insert-graph-many", "--sizes", "0"]).is_err());
        assert!(parse(&["insert-graph-many", "--iterations"]).is_err());
        assert!(parse(&["insert-graph-many", "nested-graph"]).is_err());
    }
}
