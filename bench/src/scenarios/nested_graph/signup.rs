//! The sign-up half of `nested-graph`: a team, `n` new users and the `n` memberships joining
//! them (1 + 2`n` rows), written with the generated `SignupGraph::insert_graph`, whose
//! memberships have a nested belongs_to that writes each one's user, against hand-written
//! tokio-postgres doing exactly the same writes. `n` counts members, so the `rows/s` column
//! gives members per second. The first member founds the team (`admin`), the others are
//! `member`s; team names and e-mail addresses, both unique, come from a counter.
//!
//! Strategies, all starting from the same application values and converting them to what they
//! send inside the timed region:
//! - `writegraph insert_graph` and `writegraph insert_graph (CachedClient)`: the generated
//!   graph write, one statement, on a plain client (sent unprepared) and on a `CachedClient`
//!   (prepared on first use); the targets are judged on the `CachedClient` variant;
//! - `naive (per-row, transaction)`: `BEGIN`, `INSERT ... RETURNING id` for the team, then
//!   per member `INSERT ... RETURNING id` for the user and an `INSERT` of the membership,
//!   `COMMIT` (every statement prepared once and reused): 3 + 2`n` statements;
//! - `hand CTE (prepared)`: one hand-written data-modifying CTE in autocommit, prepared once
//!   and reused, the reference of the `ratio` column. The users' keys are drawn from their
//!   sequence per input row in a `MATERIALIZED` CTE that keeps each row's ordinal, and every
//!   membership takes the key of the user whose ordinal it has, so no membership depends on
//!   the order `RETURNING` gives rows in;
//! - `SignupGraph::SQL bound by hand (prepared)`: the generated statement, prepared once and
//!   run with parameters built by hand, as the hand CTE is: what the statement itself costs
//!   beside the hand CTE, without the generated code's work on the client.
//!
//! After the run, the tables are checked once more: `n` users and `n` memberships per team,
//! every user in one membership, of its own team, and each team's founder its admin. Lines
//! like the author graph's then split the difference between `insert_graph` and the hand CTE
//! at the last size into server time and client time.

use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Statement};
use writegraph::{CachedClient, GenericClient};
use writegraph_example::{
    MemberRole, NewTeamMemberForTeamWithUser, NewUser, SignupGraph, SignupGraphMember,
};
use writegraph_testing::CountingClient;

use super::super::insert_graph::{
    explain_text, median_duration, parameter_count, ExplainClient, PlanTimings,
};
use super::{expect_equal, HAND_CTE_PREPARED, NAIVE, USER_SQL, WRITEGRAPH, WRITEGRAPH_CACHED};
use crate::harness::{self, Report, Result, Strategy, Workload};

/// The sign-up graph's cells.
pub(super) const SIGNUP_SCENARIO: &str = "nested-graph signup";

/// The generated statement with parameters built by hand.
const GENERATED_BY_HAND: &str = "SignupGraph::SQL bound by hand (prepared)";

/// The member counts of the sign-up unless `--sizes` says otherwise: a founder alone, and a
/// team of ten.
pub const SIGNUP_SIZES: &[usize] = &[1, 10];

const TEAM_SQL: &str = r#"INSERT INTO "teams" ("name") VALUES ($1) RETURNING "id""#;
const MEMBER_SQL: &str =
    r#"INSERT INTO "team_members" ("team_id", "user_id", "role") VALUES ($1, $2, $3)"#;

/// The sign-up as one statement, written by hand: what `SignupGraph::SQL` competes with. The
/// roles travel as text, as the generated statement sends them.
const SIGNUP_CTE_SQL: &str = r#"WITH root AS (
    INSERT INTO "teams" ("name") VALUES ($1) RETURNING "id"),
 u AS MATERIALIZED (
    SELECT nextval('public.users_id_seq'::regclass) AS id, t.email, t.name, t.ord
    FROM UNNEST($2::text[], $3::text[]) WITH ORDINALITY AS t(email, name, ord)),
 users AS (
    INSERT INTO "users" ("id", "email", "name")
    SELECT u.id, u.email, u.name FROM u),
 members AS (
    INSERT INTO "team_members" ("team_id", "user_id", "role")
    SELECT root."id", u.id, m.role::"member_role"
    FROM root, UNNEST($4::text[]) WITH ORDINALITY AS m(role, ord)
    JOIN u ON u.ord = m.ord)
SELECT "id" FROM root"#;

/// `nested-graph signup, n = 10 (21 rows): insert_graph vs hand CTE: 1.03x (CachedClient),
/// ...`, and which targets the `CachedClient` variant meets.
pub(super) fn summary_line(report: &Report, n: usize) -> Option<String> {
    let cell = |strategy| report.find(SIGNUP_SCENARIO, strategy, n);
    let median = |strategy| Some(cell(strategy)?.median.as_secs_f64());
    let cached = median(WRITEGRAPH_CACHED)?;
    let plain = median(WRITEGRAPH)?;
    let hand = median(HAND_CTE_PREPARED)?;
    let naive = median(NAIVE)?;
    let by_hand = median(GENERATED_BY_HAND)?;
    let naive_statements = cell(NAIVE)?.statements;
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    Some(format!(
        "{SIGNUP_SCENARIO}, n = {n} ({} rows): insert_graph vs hand CTE: {:.2}x (CachedClient), \
         {:.2}x (plain client), {:.2}x (its statement bound by hand); naive ({naive_statements} \
         statements) vs insert_graph: {:.1}x (CachedClient), {:.1}x (plain client) (targets, \
         judged on `{WRITEGRAPH_CACHED}`: within 1.10x of hand CTE {}, at least 5x faster than \
         naive {})",
        rows_of(n),
        cached / hand,
        plain / hand,
        by_hand / hand,
        naive / cached,
        naive / plain,
        verdict(cached / hand <= 1.10),
        verdict(naive / cached >= 5.0),
    ))
}

/// Where `insert_graph` and the hand CTE differ, at `n` members, measured as for the author
/// graph: `EXPLAIN (ANALYZE)` of both statements sent with `query_typed`, alternately, in a
/// transaction that is rolled back (median of 11), and the client's work up to the send
/// (median of 200).
pub(super) async fn diagnose(client: &Client, n: usize) -> Result<Vec<String>> {
    // Team names and e-mail addresses apart from those of the timed operations.
    let workload = SignupGraphs {
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
        let _ = build_signup_graph(&input).insert_graph(&explaining).await;
        generated.push(explaining.timings()?);
        let input = workload.prepare(client, n).await?;
        let c = CteColumns::of(&input);
        let params: [(&(dyn ToSql + Sync), Type); 4] = [
            (&input.team, Type::TEXT),
            (&c.emails, Type::TEXT_ARRAY),
            (&c.names, Type::TEXT_ARRAY),
            (&c.roles, Type::TEXT_ARRAY),
        ];
        let rows = client
            .query_typed(&format!("EXPLAIN (ANALYZE) {SIGNUP_CTE_SQL}"), &params)
            .await?;
        hand.push(PlanTimings::of(&explain_text(&rows)?)?);
        client.batch_execute("ROLLBACK").await?;
    }
    let generated = PlanTimings::median(&mut generated);
    let hand = PlanTimings::median(&mut hand);

    let input = workload.prepare(client, n).await?;
    let answering = ExplainClient::answering_at_once();
    let client_generated = median_duration(200, || async {
        let _ = build_signup_graph(std::hint::black_box(&input))
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
            "diagnosis ({SIGNUP_SCENARIO}, n = {n}), server, EXPLAIN ANALYZE (custom plans): \
             SignupGraph::SQL planning {:.3} ms, execution {:.3} ms; hand CTE planning {:.3} \
             ms, execution {:.3} ms",
            generated.planning_ms, generated.execution_ms, hand.planning_ms, hand.execution_ms
        ),
        format!(
            "diagnosis ({SIGNUP_SCENARIO}, n = {n}), client, before the send: graph builder + \
             column vectors + parameters {:.3} ms; hand CTE arrays {:.3} ms; statement \
             parameters: SignupGraph::SQL {} ({} characters), hand CTE {} ({} characters)",
            harness::milliseconds(client_generated),
            harness::milliseconds(client_hand),
            parameter_count(SignupGraph::SQL),
            SignupGraph::SQL.len(),
            parameter_count(SIGNUP_CTE_SQL),
            SIGNUP_CTE_SQL.len(),
        ),
    ])
}

/// Rows one operation writes: the team, `n` users, `n` memberships.
fn rows_of(n: usize) -> usize {
    1 + 2 * n
}

/// The statements the hand-written strategies prepare once and reuse.
pub(super) struct SignupStatements {
    team: Statement,
    user: Statement,
    member: Statement,
    cte: Statement,
    generated: Statement,
}

impl SignupStatements {
    pub(super) async fn prepare(client: &Client) -> Result<Self> {
        Ok(SignupStatements {
            team: client.prepare(TEAM_SQL).await?,
            user: client.prepare(USER_SQL).await?,
            member: client.prepare(MEMBER_SQL).await?,
            cte: client.prepare(SIGNUP_CTE_SQL).await?,
            generated: client
                .prepare(<SignupGraph as writegraph::InsertGraph>::SQL)
                .await?,
        })
    }
}

/// The input of one sign-up, as the application has it.
#[derive(Debug, Clone)]
pub struct SignupInput {
    /// `teams.name`, unique per operation: `team <number>`, zero-padded.
    pub team: String,
    /// The members, founder first.
    pub members: Vec<MemberInput>,
}

/// One member: the user to create and the role of its membership.
#[derive(Debug, Clone)]
pub struct MemberInput {
    /// `users.email`, unique: `<team number>.<member index>@signup.bench.example`, both
    /// zero-padded, so that a user names its team and sorts in input order.
    pub email: String,
    /// `users.name`.
    pub name: String,
    /// `team_members.role`: `admin` for the founder, `member` for the others.
    pub role: MemberRole,
}

pub(super) fn strategies(
    statements: &Rc<SignupStatements>,
    cached: &Rc<CachedClient>,
) -> Vec<Strategy<SignupInput>> {
    let cached = Rc::clone(cached);
    let naive = Rc::clone(statements);
    let prepared = Rc::clone(statements);
    let by_hand = Rc::clone(statements);
    vec![
        Strategy::new(WRITEGRAPH, |client, input| {
            Box::pin(signup_writegraph(client, input))
        }),
        Strategy::new(WRITEGRAPH_CACHED, move |_client, input| {
            let cached = Rc::clone(&cached);
            Box::pin(async move { signup_writegraph(&*cached, input).await })
        }),
        Strategy::new(NAIVE, move |client, input| {
            let statements = Rc::clone(&naive);
            Box::pin(async move { signup_naive(client, &statements, input).await })
        }),
        Strategy::new(HAND_CTE_PREPARED, move |client, input| {
            let statements = Rc::clone(&prepared);
            Box::pin(async move { signup_hand_cte(client, &statements.cte, input).await })
        }),
        Strategy::new(GENERATED_BY_HAND, move |client, input| {
            let statements = Rc::clone(&by_hand);
            Box::pin(
                async move { signup_generated_by_hand(client, &statements.generated, input).await },
            )
        }),
    ]
}

/// The graph as the generated API takes it.
fn build_signup_graph(input: &SignupInput) -> SignupGraph {
    SignupGraph::new(input.team.clone()).with_members(input.members.iter().map(|member| {
        SignupGraphMember::new(NewTeamMemberForTeamWithUser::new().with_role(member.role))
            .with_user(NewUser::new(member.email.clone()).with_name(member.name.clone()))
    }))
}

/// The code under test: the generated `SignupGraph::insert_graph` on a plain client or a
/// `CachedClient`, statements counted.
async fn signup_writegraph<C: GenericClient>(client: &C, input: &SignupInput) -> Result<u64> {
    let counting = CountingClient::new(client);
    build_signup_graph(input).insert_graph(&counting).await?;
    Ok(counting.statements())
}

/// One statement per row in a transaction: `BEGIN`, the team, per member its user then its
/// membership, `COMMIT`.
async fn signup_naive(
    client: &Client,
    statements: &SignupStatements,
    input: &SignupInput,
) -> Result<u64> {
    client.batch_execute("BEGIN").await?;
    let team_id: i32 = client
        .query_one(&statements.team, &[&input.team])
        .await?
        .try_get(0)?;
    for member in &input.members {
        let user_id: i64 = client
            .query_one(&statements.user, &[&member.email, &member.name])
            .await?
            .try_get(0)?;
        client
            .execute(&statements.member, &[&team_id, &user_id, &member.role])
            .await?;
    }
    client.batch_execute("COMMIT").await?;
    Ok(3 + 2 * input.members.len() as u64)
}

/// The hand CTE's array parameters: the users' e-mail addresses and names, and the
/// memberships' roles, in member order.
struct CteColumns<'a> {
    emails: Vec<&'a str>,
    names: Vec<&'a str>,
    roles: Vec<MemberRole>,
}

impl<'a> CteColumns<'a> {
    fn of(input: &'a SignupInput) -> Self {
        CteColumns {
            emails: input.members.iter().map(|m| m.email.as_str()).collect(),
            names: input.members.iter().map(|m| m.name.as_str()).collect(),
            roles: input.members.iter().map(|m| m.role).collect(),
        }
    }
}

/// The hand-written CTE, prepared once and reused, in autocommit.
async fn signup_hand_cte(client: &Client, cte: &Statement, input: &SignupInput) -> Result<u64> {
    let c = CteColumns::of(input);
    let row = client
        .query_one(cte, &[&input.team, &c.emails, &c.names, &c.roles])
        .await?;
    let _team_id: i32 = row.try_get(0)?;
    Ok(1)
}

/// The generated statement, prepared once, with its nine parameters built here as the
/// generated code builds them: the columns a sign-up leaves to their DEFAULT as NULLs, each
/// membership's user by its ordinal.
async fn signup_generated_by_hand(
    client: &Client,
    statement: &Statement,
    input: &SignupInput,
) -> Result<u64> {
    use writegraph::types::chrono::{DateTime, Utc};
    let c = CteColumns::of(input);
    let n = input.members.len();
    let created: Option<DateTime<Utc>> = None;
    let ids: Vec<Option<i64>> = vec![None; n];
    let users_created: Vec<Option<DateTime<Utc>>> = vec![None; n];
    let po: Vec<i64> = (1..=n as i64).collect();
    let user_ids: Vec<Option<i64>> = vec![None; n];
    let row = client
        .query_one(
            statement,
            &[
                &input.team,
                &created,
                &ids,
                &c.emails,
                &c.names,
                &users_created,
                &po,
                &user_ids,
                &c.roles,
            ],
        )
        .await?;
    let _memberships: i64 = row.try_get(0)?;
    Ok(1)
}

/// The untimed side of the sign-up.
#[derive(Default)]
pub(super) struct SignupGraphs {
    /// Numbers the operations, for unique team names and e-mail addresses.
    next: AtomicU64,
}

impl Workload for SignupGraphs {
    type Input = SignupInput;

    async fn prepare(&self, _client: &Client, n: usize) -> Result<SignupInput> {
        let number = self.next.fetch_add(1, Ordering::Relaxed);
        Ok(SignupInput {
            team: format!("team {number:010}"),
            members: (0..n)
                .map(|i| MemberInput {
                    email: format!("{number:010}.{i:04}@signup.bench.example"),
                    name: format!("member {i} of team {number}"),
                    role: if i == 0 {
                        MemberRole::Admin
                    } else {
                        MemberRole::Member
                    },
                })
                .collect(),
        })
    }

    /// One team of that name; as many users with the members' e-mail addresses as members,
    /// and as many memberships of the team; and the team's memberships, in e-mail order,
    /// each with its user's e-mail address, name and its role: `email:name:role` joined by
    /// `,`, which a membership linking another member's user, or another team's, changes.
    async fn verify(&self, client: &Client, input: &SignupInput) -> Result<()> {
        let emails: Vec<&str> = input.members.iter().map(|m| m.email.as_str()).collect();
        let rows = client
            .query(
                r#"SELECT (SELECT count(*) FROM "users" u WHERE u."email" = ANY($2)),
                          (SELECT count(*) FROM "team_members" m WHERE m."team_id" = t."id"),
                          (SELECT coalesce(string_agg(u."email" || ':' || u."name" || ':' ||
                                                      m."role"::text, ',' ORDER BY u."email"), '')
                           FROM "team_members" m JOIN "users" u ON u."id" = m."user_id"
                           WHERE m."team_id" = t."id")
                   FROM "teams" t WHERE t."name" = $1"#,
                &[&input.team, &emails],
            )
            .await?;
        let [row] = rows.as_slice() else {
            return Err(format!(
                "expected 1 team named `{}`, found {}",
                input.team,
                rows.len()
            )
            .into());
        };
        let n = input.members.len() as i64;
        expect_equal(
            "users, memberships",
            (row.try_get::<_, i64>(0)?, row.try_get::<_, i64>(1)?),
            (n, n),
        )?;
        let expected: Vec<String> = input
            .members
            .iter()
            .map(|m| format!("{}:{}:{}", m.email, m.name, m.role.label()))
            .collect();
        let expected = expected.join(",");
        let found: String = row.try_get(2)?;
        if found != expected {
            let first_difference = found
                .split(',')
                .zip(expected.split(','))
                .find(|(found, expected)| found != expected)
                .map(|(found, expected)| format!("found `{found}` where `{expected}` was expected"))
                .unwrap_or_default();
            return Err(format!("memberships differ: {first_difference}").into());
        }
        Ok(())
    }

    async fn reset(&self, client: &Client) -> Result<()> {
        client
            .batch_execute(r#"TRUNCATE "team_members", "teams", "users" CASCADE"#)
            .await?;
        Ok(())
    }
}

/// The check after the run, over every sign-up since the last reset: `n` users and `n`
/// memberships per team, every user in exactly one membership, each membership's user one of
/// its own team's (its e-mail address starts with the team's number), and the founder (member
/// `0000`) the team's only admin.
pub(super) async fn check_tables(client: &Client, n: usize) -> Result<String> {
    let row = client
        .query_one(
            r#"SELECT (SELECT count(*) FROM "teams"),
                      (SELECT count(*) FROM "users"),
                      (SELECT count(*) FROM "team_members"),
                      (SELECT count(*) FROM "users" u
                        LEFT JOIN (SELECT m."user_id", count(*) AS memberships
                                   FROM "team_members" m GROUP BY m."user_id") c
                               ON c."user_id" = u."id"
                        WHERE c.memberships IS DISTINCT FROM 1),
                      (SELECT count(*) FROM "team_members" m
                        JOIN "teams" t ON t."id" = m."team_id"
                        JOIN "users" u ON u."id" = m."user_id"
                        WHERE split_part(u."email", '.', 1) <> split_part(t."name", ' ', 2)
                           OR (m."role" = 'admin') <>
                              (split_part(split_part(u."email", '@', 1), '.', 2) = '0000'))"#,
            &[],
        )
        .await?;
    let (teams, users, memberships, unlinked, misplaced): (i64, i64, i64, i64, i64) = (
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
    );
    let n = n as i64;
    expect_equal(
        "after the run: users, memberships, users not in exactly one membership, misplaced \
         memberships",
        (users, memberships, unlinked, misplaced),
        (teams * n, teams * n, 0, 0),
    )?;
    Ok(format!(
        "{SIGNUP_SCENARIO}: after the run, the tables hold {teams} teams, {users} users and \
         {memberships} memberships since the last reset, each membership linking a user of its \
         own team, each founder its team's admin"
    ))
}
