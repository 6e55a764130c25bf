//! `nested-graph`: two graphs with edges under edges, each measured as a scenario of its own
//! in the same run, against hand-written tokio-postgres doing exactly the same writes:
//! - `nested-graph author`: a graph of two levels under its root, an author (`users`) with
//!   `n` posts of [`COMMENTS_PER_POST`] comments each (`n` = 10: 1 + 10 + 100 = 111 rows),
//!   written with the generated `NewAuthorGraph::insert_graph`. `n` counts posts, so the
//!   `rows/s` column gives posts per second;
//! - `nested-graph signup`: the sign-up flow, a team, `n` new users and the `n` memberships
//!   joining them, written with `SignupGraph::insert_graph` (see [`signup`]; `n` = 1 and 10).
//!
//! The author graph's strategies, all starting from the same application values and converting
//! them to what they send inside the timed region:
//! - `writegraph insert_graph`: the generated graph write, one statement, sent unprepared;
//! - `writegraph insert_graph (CachedClient)`: the same call on a `CachedClient`, which
//!   prepares the statement on first use and then only binds and executes it; the targets are
//!   judged on this variant;
//! - `naive (per-row, transaction)`: `BEGIN`, `INSERT ... RETURNING id` for the user and for
//!   each post, one `INSERT` per comment with its post's key, `COMMIT` (every statement
//!   prepared once and reused);
//! - `hand CTE (prepared)`: one hand-written data-modifying CTE in autocommit, prepared once
//!   and reused, the reference of the `ratio` column. The posts' keys are drawn from their
//!   sequence per input row in a `MATERIALIZED` CTE that keeps each row's ordinal, and every
//!   comment takes the key of the post whose ordinal it carries, so no comment depends on the
//!   order `RETURNING` gives rows in;
//! - `hand CTE (query_typed)`: the same statement sent unprepared with `query_typed`, as the
//!   plain-client writegraph call sends its own.
//!
//! After the author graph's run, the tables are checked once more: every author has `n` posts,
//! every post [`COMMENTS_PER_POST`] comments, and every comment is under its own post; then
//! the sign-up runs (its first reset empties the tables) and has its own check. At the end
//! come lines that split the difference between `insert_graph` and the hand CTE at each
//! graph's last size into server time (`EXPLAIN (ANALYZE)` of both statements) and client
//! time (building the statement's parameters).

use std::fmt::Debug;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Statement};
use writegraph::{CachedClient, GenericClient};
use writegraph_example::{NewAuthorGraph, NewAuthorGraphPost, NewCommentForPost, NewPostForAuthor};
use writegraph_testing::CountingClient;

mod signup;

pub use signup::SIGNUP_SIZES;

use super::insert_graph::{
    explain_text, median_duration, parameter_count, ExplainClient, PlanTimings,
};
use crate::harness::{self, Report, Result, Strategy, Timing, Workload};

/// Name of the `nested-graph` scenario.
pub const NESTED_GRAPH: &str = "nested-graph";

/// The author graph's cells.
const AUTHOR_SCENARIO: &str = "nested-graph author";

/// The post counts of the author graph unless `--sizes` says otherwise.
pub const NESTED_GRAPH_SIZES: &[usize] = &[10];

/// Comments under every post.
pub const COMMENTS_PER_POST: usize = 10;

const WRITEGRAPH: &str = "writegraph insert_graph";
const WRITEGRAPH_CACHED: &str = "writegraph insert_graph (CachedClient)";
const NAIVE: &str = "naive (per-row, transaction)";
const HAND_CTE_PREPARED: &str = "hand CTE (prepared)";
const HAND_CTE_TYPED: &str = "hand CTE (query_typed)";

/// The author's row, and in the sign-up each member's user.
const USER_SQL: &str = r#"INSERT INTO "users" ("email", "name") VALUES ($1, $2) RETURNING "id""#;
const POST_SQL: &str =
    r#"INSERT INTO "posts" ("author_id", "title", "body") VALUES ($1, $2, $3) RETURNING "id""#;
const COMMENT_SQL: &str =
    r#"INSERT INTO "comments" ("post_id", "author", "body") VALUES ($1, $2, $3)"#;

/// The author graph as one statement, written by hand: what `NewAuthorGraph::SQL` competes
/// with. `$5` holds each comment's post ordinal (1-based, as `WITH ORDINALITY` counts).
pub(super) const AUTHOR_CTE_SQL: &str = r#"WITH root AS (
    INSERT INTO "users" ("email", "name") VALUES ($1, $2) RETURNING "id"),
 p AS MATERIALIZED (
    SELECT nextval('public.posts_id_seq'::regclass) AS id, t.title, t.body, t.ord
    FROM UNNEST($3::text[], $4::text[]) WITH ORDINALITY AS t(title, body, ord)),
 posts AS (
    INSERT INTO "posts" ("id", "author_id", "title", "body")
    SELECT p.id, root."id", p.title, p.body FROM root, p),
 comments AS (
    INSERT INTO "comments" ("post_id", "author", "body")
    SELECT p.id, c.author, c.body
    FROM UNNEST($5::int8[], $6::text[], $7::text[]) AS c(po, author, body)
    JOIN p ON p.ord = c.po)
SELECT "id" FROM root"#;

/// `nested-graph`: the author graph at every size of `sizes` (posts), then the sign-up at
/// every size of `signup_sizes` (members). The `CachedClient` strategies run on `cached`,
/// which wraps `client`'s connection.
pub async fn nested_graph(
    client: &Client,
    cached: &Rc<CachedClient>,
    sizes: &[usize],
    signup_sizes: &[usize],
    timing: Timing,
) -> Result<Report> {
    let statements = Rc::new(AuthorStatements::prepare(client).await?);
    let signup_statements = Rc::new(signup::SignupStatements::prepare(client).await?);
    let mut measurements = harness::measure(
        client,
        AUTHOR_SCENARIO,
        &AuthorGraphs::default(),
        &strategies(&statements, cached),
        HAND_CTE_PREPARED,
        sizes,
        timing,
    )
    .await?;
    // The last size's rows are still in the tables (the harness resets only before it
    // writes); the sign-up's first reset empties them.
    let mut checks = Vec::new();
    if let Some(&n) = sizes.last() {
        checks.push(check_tables(client, n).await?);
    }
    measurements.extend(
        harness::measure(
            client,
            signup::SIGNUP_SCENARIO,
            &signup::SignupGraphs::default(),
            &signup::strategies(&signup_statements, cached),
            HAND_CTE_PREPARED,
            signup_sizes,
            timing,
        )
        .await?,
    );
    if let Some(&n) = signup_sizes.last() {
        checks.push(signup::check_tables(client, n).await?);
    }
    let mut report = Report {
        measurements,
        summary: checks,
    };
    let lines: Vec<String> = sizes
        .iter()
        .filter_map(|&n| summary_line(&report, n))
        .chain(
            signup_sizes
                .iter()
                .filter_map(|&n| signup::summary_line(&report, n)),
        )
        .collect();
    report.summary.extend(lines);
    if let Some(&n) = sizes.last() {
        report.summary.extend(diagnose(client, n).await?);
    }
    if let Some(&n) = signup_sizes.last() {
        report.summary.extend(signup::diagnose(client, n).await?);
    }
    Ok(report)
}

/// Where `insert_graph` and the hand CTE differ, at `n` posts:
///
/// - server planning and execution: `EXPLAIN (ANALYZE)` of both statements, sent with
///   `query_typed` (a custom plan each time), alternately, inside a transaction that is rolled
///   back (median of 11);
/// - client: building the graph, its column vectors and parameters, up to the send, with a
///   client that answers at once (median of 200), against building the hand CTE's arrays.
async fn diagnose(client: &Client, n: usize) -> Result<Vec<String>> {
    // E-mail addresses apart from those of the timed operations, whose rows are kept.
    let workload = AuthorGraphs {
        next: AtomicU64::new(1 << 40),
    };
    let mut generated = Vec::new();
    let mut hand = Vec::new();
    for _ in 0..11 {
        client.batch_execute("BEGIN").await?;
        let explaining = ExplainClient::new(client);
        // EXPLAIN returns no row of the statement's own, so the generated call ends with an
        // error here, after the plan was captured.
        let input = workload.prepare(client, n).await?;
        let _ = build_author_graph(&input).insert_graph(&explaining).await;
        generated.push(explaining.timings()?);
        let input = workload.prepare(client, n).await?;
        let c = CteColumns::of(&input);
        let params: [(&(dyn ToSql + Sync), Type); 7] = [
            (&input.email, Type::TEXT),
            (&input.name, Type::TEXT),
            (&c.titles, Type::TEXT_ARRAY),
            (&c.bodies, Type::TEXT_ARRAY),
            (&c.ordinals, Type::INT8_ARRAY),
            (&c.authors, Type::TEXT_ARRAY),
            (&c.comment_bodies, Type::TEXT_ARRAY),
        ];
        let rows = client
            .query_typed(&format!("EXPLAIN (ANALYZE) {AUTHOR_CTE_SQL}"), &params)
            .await?;
        hand.push(PlanTimings::of(&explain_text(&rows)?)?);
        client.batch_execute("ROLLBACK").await?;
    }
    let generated = PlanTimings::median(&mut generated);
    let hand = PlanTimings::median(&mut hand);

    let input = workload.prepare(client, n).await?;
    let answering = ExplainClient::answering_at_once();
    let client_generated = median_duration(200, || async {
        let _ = build_author_graph(std::hint::black_box(&input))
            .insert_graph(&answering)
            .await;
        Ok(())
    })
    .await?;
    let client_hand = median_duration(200, || async {
        std::hint::black_box(CteColumns::of(std::hint::black_box(&input)));
        Ok(())
    })
    .await?;
    Ok(vec![
        format!(
            "diagnosis ({AUTHOR_SCENARIO}, n = {n}), server, EXPLAIN ANALYZE (custom plans): \
             NewAuthorGraph::SQL planning {:.3} ms, execution {:.3} ms; hand CTE planning \
             {:.3} ms, execution {:.3} ms",
            generated.planning_ms, generated.execution_ms, hand.planning_ms, hand.execution_ms
        ),
        format!(
            "diagnosis ({AUTHOR_SCENARIO}, n = {n}), client, before the send: graph builder + \
             column vectors + parameters {:.3} ms; hand CTE arrays {:.3} ms; statement \
             parameters: NewAuthorGraph::SQL {} ({} characters), hand CTE {} ({} characters)",
            harness::milliseconds(client_generated),
            harness::milliseconds(client_hand),
            parameter_count(NewAuthorGraph::SQL),
            NewAuthorGraph::SQL.len(),
            parameter_count(AUTHOR_CTE_SQL),
            AUTHOR_CTE_SQL.len(),
        ),
    ])
}

/// `nested-graph author, n = 10 (111 rows): insert_graph vs hand CTE: 1.03x (CachedClient), ...`,
/// and which targets the `CachedClient` variant meets.
fn summary_line(report: &Report, n: usize) -> Option<String> {
    let median = |strategy| {
        Some(
            report
                .find(AUTHOR_SCENARIO, strategy, n)?
                .median
                .as_secs_f64(),
        )
    };
    let cached = median(WRITEGRAPH_CACHED)?;
    let plain = median(WRITEGRAPH)?;
    let hand = median(HAND_CTE_PREPARED)?;
    let typed = median(HAND_CTE_TYPED)?;
    let naive = median(NAIVE)?;
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    Some(format!(
        "{AUTHOR_SCENARIO}, n = {n} ({} rows): insert_graph vs hand CTE: {:.2}x (CachedClient), \
         {:.2}x (plain client; {:.2}x against the hand CTE sent with query_typed); naive vs \
         insert_graph: {:.1}x (CachedClient), {:.1}x (plain client) (targets, judged on \
         `{WRITEGRAPH_CACHED}`: within 1.10x of hand CTE {}, at least 5x faster than naive {})",
        rows_of(n),
        cached / hand,
        plain / hand,
        plain / typed,
        naive / cached,
        naive / plain,
        verdict(cached / hand <= 1.10),
        verdict(naive / cached >= 5.0),
    ))
}

/// Rows one operation writes: the user, `n` posts, their comments.
fn rows_of(n: usize) -> usize {
    1 + n + n * COMMENTS_PER_POST
}

/// The statements the hand-written strategies prepare once and reuse.
struct AuthorStatements {
    user: Statement,
    post: Statement,
    comment: Statement,
    cte: Statement,
}

impl AuthorStatements {
    async fn prepare(client: &Client) -> Result<Self> {
        Ok(AuthorStatements {
            user: client.prepare(USER_SQL).await?,
            post: client.prepare(POST_SQL).await?,
            comment: client.prepare(COMMENT_SQL).await?,
            cte: client.prepare(AUTHOR_CTE_SQL).await?,
        })
    }
}

/// The input of one operation, as the application has it.
#[derive(Debug, Clone)]
pub struct AuthorInput {
    /// `users.email`, unique per operation: how `verify` finds the user.
    pub email: String,
    /// `users.name`.
    pub name: String,
    /// The author's posts.
    pub posts: Vec<PostInput>,
}

/// One post and its comments.
#[derive(Debug, Clone)]
pub struct PostInput {
    /// `posts.title`: `post <p>`, zero-padded, so that titles sort in input order.
    pub title: String,
    /// `posts.body`.
    pub body: String,
    /// The post's comments.
    pub comments: Vec<CommentInput>,
}

/// One comment.
#[derive(Debug, Clone)]
pub struct CommentInput {
    /// `comments.author`.
    pub author: String,
    /// `comments.body`: `<p>/<c>`, zero-padded, naming the post it belongs under.
    pub body: String,
}

fn strategies(
    statements: &Rc<AuthorStatements>,
    cached: &Rc<CachedClient>,
) -> Vec<Strategy<AuthorInput>> {
    let cached = Rc::clone(cached);
    let naive = Rc::clone(statements);
    let prepared = Rc::clone(statements);
    vec![
        Strategy::new(WRITEGRAPH, |client, input| {
            Box::pin(author_writegraph(client, input))
        }),
        Strategy::new(WRITEGRAPH_CACHED, move |_client, input| {
            let cached = Rc::clone(&cached);
            Box::pin(async move { author_writegraph(&*cached, input).await })
        }),
        Strategy::new(NAIVE, move |client, input| {
            let statements = Rc::clone(&naive);
            Box::pin(async move { author_naive(client, &statements, input).await })
        }),
        Strategy::new(HAND_CTE_PREPARED, move |client, input| {
            let statements = Rc::clone(&prepared);
            Box::pin(async move { author_hand_cte_prepared(client, &statements.cte, input).await })
        }),
        Strategy::new(HAND_CTE_TYPED, |client, input| {
            Box::pin(author_hand_cte_typed(client, input))
        }),
    ]
}

/// The graph as the generated API takes it.
pub(super) fn build_author_graph(input: &AuthorInput) -> NewAuthorGraph {
    NewAuthorGraph::new(input.email.clone())
        .with_name(input.name.clone())
        .with_posts(input.posts.iter().map(|post| {
            NewAuthorGraphPost::new(NewPostForAuthor::new(post.title.clone(), post.body.clone()))
                .with_comments(
                    post.comments
                        .iter()
                        .map(|c| NewCommentForPost::new(c.author.clone(), c.body.clone())),
                )
        }))
}

/// The code under test: the generated `NewAuthorGraph::insert_graph` on a plain client or a
/// `CachedClient`, statements counted.
async fn author_writegraph<C: GenericClient>(client: &C, input: &AuthorInput) -> Result<u64> {
    let counting = CountingClient::new(client);
    build_author_graph(input).insert_graph(&counting).await?;
    Ok(counting.statements())
}

/// One statement per row in a transaction: `BEGIN`, the user, each post then its comments,
/// `COMMIT`.
async fn author_naive(
    client: &Client,
    statements: &AuthorStatements,
    input: &AuthorInput,
) -> Result<u64> {
    client.batch_execute("BEGIN").await?;
    let user_id: i64 = client
        .query_one(&statements.user, &[&input.email, &input.name])
        .await?
        .try_get(0)?;
    let mut sent = 2;
    for post in &input.posts {
        let post_id: i64 = client
            .query_one(&statements.post, &[&user_id, &post.title, &post.body])
            .await?
            .try_get(0)?;
        for comment in &post.comments {
            client
                .execute(
                    &statements.comment,
                    &[&post_id, &comment.author, &comment.body],
                )
                .await?;
        }
        sent += 1 + post.comments.len() as u64;
    }
    client.batch_execute("COMMIT").await?;
    Ok(sent + 1)
}

/// The hand CTE's array parameters: post titles and bodies, and per comment its post's
/// ordinal, author and body.
pub(super) struct CteColumns<'a> {
    pub(super) titles: Vec<&'a str>,
    pub(super) bodies: Vec<&'a str>,
    pub(super) ordinals: Vec<i64>,
    pub(super) authors: Vec<&'a str>,
    pub(super) comment_bodies: Vec<&'a str>,
}

impl<'a> CteColumns<'a> {
    pub(super) fn of(input: &'a AuthorInput) -> Self {
        let comments = input.posts.iter().map(|p| p.comments.len()).sum();
        let mut columns = CteColumns {
            titles: Vec::with_capacity(input.posts.len()),
            bodies: Vec::with_capacity(input.posts.len()),
            ordinals: Vec::with_capacity(comments),
            authors: Vec::with_capacity(comments),
            comment_bodies: Vec::with_capacity(comments),
        };
        for (ordinal, post) in (1_i64..).zip(&input.posts) {
            columns.titles.push(&post.title);
            columns.bodies.push(&post.body);
            for comment in &post.comments {
                columns.ordinals.push(ordinal);
                columns.authors.push(&comment.author);
                columns.comment_bodies.push(&comment.body);
            }
        }
        columns
    }
}

/// The hand-written CTE, prepared once and reused, in autocommit.
pub(super) async fn author_hand_cte_prepared(
    client: &Client,
    cte: &Statement,
    input: &AuthorInput,
) -> Result<u64> {
    let c = CteColumns::of(input);
    let row = client
        .query_one(
            cte,
            &[
                &input.email,
                &input.name,
                &c.titles,
                &c.bodies,
                &c.ordinals,
                &c.authors,
                &c.comment_bodies,
            ],
        )
        .await?;
    let _user_id: i64 = row.try_get(0)?;
    Ok(1)
}

/// The hand-written CTE sent unprepared with `query_typed`, in autocommit.
async fn author_hand_cte_typed(client: &Client, input: &AuthorInput) -> Result<u64> {
    let c = CteColumns::of(input);
    let params: [(&(dyn ToSql + Sync), Type); 7] = [
        (&input.email, Type::TEXT),
        (&input.name, Type::TEXT),
        (&c.titles, Type::TEXT_ARRAY),
        (&c.bodies, Type::TEXT_ARRAY),
        (&c.ordinals, Type::INT8_ARRAY),
        (&c.authors, Type::TEXT_ARRAY),
        (&c.comment_bodies, Type::TEXT_ARRAY),
    ];
    let rows = client.query_typed(AUTHOR_CTE_SQL, &params).await?;
    let _user_id: i64 = rows
        .first()
        .ok_or("the author CTE returned no row")?
        .try_get(0)?;
    Ok(1)
}

/// The untimed side of the author graph.
#[derive(Default)]
struct AuthorGraphs {
    /// Numbers the operations, for unique e-mail addresses.
    next: AtomicU64,
}

impl Workload for AuthorGraphs {
    type Input = AuthorInput;

    async fn prepare(&self, _client: &Client, n: usize) -> Result<AuthorInput> {
        let number = self.next.fetch_add(1, Ordering::Relaxed);
        Ok(AuthorInput {
            email: format!("author-{number}@bench.example"),
            name: format!("author {number}"),
            posts: (0..n)
                .map(|p| PostInput {
                    title: format!("post {p:04}"),
                    body: format!("body of post {p}"),
                    comments: (0..COMMENTS_PER_POST)
                        .map(|c| CommentInput {
                            author: format!("reader {c}"),
                            body: format!("{p:04}/{c:04}"),
                        })
                        .collect(),
                })
                .collect(),
        })
    }

    /// The user once, with its name; its posts, in title order, each with its comments in
    /// body order: `title:body[author:body,...]` joined by `;`.
    async fn verify(&self, client: &Client, input: &AuthorInput) -> Result<()> {
        let rows = client
            .query(
                r#"SELECT u."name",
                          (SELECT count(*) FROM "posts" p WHERE p."author_id" = u."id"),
                          (SELECT count(*) FROM "comments" c JOIN "posts" p ON p."id" = c."post_id"
                            WHERE p."author_id" = u."id"),
                          (SELECT coalesce(string_agg(p."title" || ':' || p."body" || '[' ||
                                  (SELECT coalesce(string_agg(c."author" || ':' || c."body", ','
                                                              ORDER BY c."body"), '')
                                   FROM "comments" c WHERE c."post_id" = p."id") || ']',
                                  ';' ORDER BY p."title"), '')
                           FROM "posts" p WHERE p."author_id" = u."id")
                   FROM "users" u WHERE u."email" = $1"#,
                &[&input.email],
            )
            .await?;
        let [row] = rows.as_slice() else {
            return Err(format!(
                "expected 1 user with e-mail `{}`, found {}",
                input.email,
                rows.len()
            )
            .into());
        };
        let comments: usize = input.posts.iter().map(|p| p.comments.len()).sum();
        let expected_tree = input
            .posts
            .iter()
            .map(|post| {
                let comments: Vec<String> = post
                    .comments
                    .iter()
                    .map(|c| format!("{}:{}", c.author, c.body))
                    .collect();
                format!("{}:{}[{}]", post.title, post.body, comments.join(","))
            })
            .collect::<Vec<_>>()
            .join(";");
        expect_equal(
            "users.name, posts, comments",
            (
                row.try_get::<_, Option<String>>(0)?,
                row.try_get::<_, i64>(1)?,
                row.try_get::<_, i64>(2)?,
            ),
            (
                Some(input.name.clone()),
                input.posts.len() as i64,
                comments as i64,
            ),
        )?;
        let found_tree: String = row.try_get(3)?;
        if found_tree != expected_tree {
            let first_difference = found_tree
                .split(';')
                .zip(expected_tree.split(';'))
                .find(|(found, expected)| found != expected)
                .map(|(found, expected)| format!("found `{found}` where `{expected}` was expected"))
                .unwrap_or_default();
            return Err(format!("posts and their comments differ: {first_difference}").into());
        }
        Ok(())
    }

    async fn reset(&self, client: &Client) -> Result<()> {
        client
            .batch_execute(r#"TRUNCATE "comments", "post_tags", "posts", "users" CASCADE"#)
            .await?;
        Ok(())
    }
}

/// The check after the run, over every operation since the last reset: `n` posts per user,
/// [`COMMENTS_PER_POST`] comments per post, none under another post than its own.
async fn check_tables(client: &Client, n: usize) -> Result<String> {
    let row = client
        .query_one(
            r#"SELECT (SELECT count(*) FROM "users"),
                      (SELECT count(*) FROM "posts"),
                      (SELECT count(*) FROM "comments"),
                      (SELECT count(*) FROM "comments" c JOIN "posts" p ON p."id" = c."post_id"
                        WHERE split_part(c."body", '/', 1) <> split_part(p."title", ' ', 2))"#,
            &[],
        )
        .await?;
    let (users, posts, comments, misplaced): (i64, i64, i64, i64) = (
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
    );
    let n = n as i64;
    let per_post = COMMENTS_PER_POST as i64;
    expect_equal(
        "after the run: posts, comments, misplaced comments",
        (posts, comments, misplaced),
        (users * n, users * n * per_post, 0),
    )?;
    Ok(format!(
        "{AUTHOR_SCENARIO}: after the run, the tables hold {users} users, {posts} posts and \
         {comments} comments since the last reset, each comment under its own post"
    ))
}

fn expect_equal<T: PartialEq + Debug>(what: &str, found: T, expected: T) -> Result<()> {
    if found == expected {
        Ok(())
    } else {
        Err(format!("{what}: expected {expected:?}, found {found:?}").into())
    }
}
