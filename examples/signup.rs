//! The example sign-up flow end to end, on a deadpool-postgres pool: a team, then people
//! joining it at once, each user found or created by email in the same statement as the
//! membership (connect-or-create); someone joining twice is told so by the database's unique
//! key; a second team is created with its admins in one statement. Every step is checked
//! against the rows PostgreSQL holds.
//!
//! Run it with `cargo run --example signup` (a throwaway PostgreSQL, or a fresh database on
//! the server `DATABASE_URL` names).

use deadpool_postgres::{Manager, Pool};
use tokio_postgres::NoTls;
use writegraph_example::{
    constraints, MemberRole, MemberSignupGraph, NewTeam, NewTeamMemberForTeam, NewUser,
    TeamSignupGraph, SCHEMA_SQL,
};
use writegraph_testing as testing;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[tokio::main]
async fn main() -> Result {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let pool = Pool::builder(Manager::new(db.config().clone(), NoTls))
        .max_size(4)
        .build()?;
    println!("database `{}` ready, pool of 4", db.name());
    let conn = pool.get().await?;

    let team = NewTeam::new("core").insert_returning(&conn).await?;

    // Six people join at once; ann and bob already have accounts (with names, which a
    // sign-up by email alone keeps).
    NewUser::insert_many(
        &conn,
        vec![
            NewUser::new("ann@example.com").with_name("Ann"),
            NewUser::new("bob@example.com").with_name("Bob"),
        ],
    )
    .await?;
    let emails = ["ann", "bob", "cy", "di", "ed", "flo"].map(|n| format!("{n}@example.com"));
    let mut joins = Vec::new();
    for email in emails.clone() {
        let pool = pool.clone();
        joins.push(tokio::spawn(async move {
            let conn = pool.get().await?;
            let written = MemberSignupGraph::new(team.id)
                .with_user(NewUser::new(email))
                .insert_graph(&conn)
                .await?;
            Result::Ok(written)
        }));
    }
    for join in joins {
        // The user (found or created) and the membership.
        assert_eq!(join.await??, 2);
    }

    // Joining twice: the membership's primary key says so, and nothing is written.
    let again = MemberSignupGraph::new(team.id)
        .with_user(NewUser::new("cy@example.com"))
        .insert_graph(&conn)
        .await;
    match again {
        Err(e)
            if e.is_unique_violation()
                && e.constraint() == Some(constraints::TEAM_MEMBERS_PKEY) =>
        {
            println!("cy@example.com is already a member of `core`")
        }
        other => return Err(format!("expected a unique violation, got {other:?}").into()),
    }

    let members: Vec<(String, Option<String>)> = conn
        .query(
            "SELECT u.email, u.name FROM team_members m JOIN users u ON u.id = m.user_id \
             WHERE m.team_id = $1 ORDER BY u.email",
            &[&team.id],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    println!("members of `core`: {members:?}");
    let names = |email: &str| match email {
        "ann@example.com" => Some("Ann".to_owned()),
        "bob@example.com" => Some("Bob".to_owned()),
        _ => None,
    };
    let expected: Vec<(String, Option<String>)> =
        emails.iter().map(|e| (e.clone(), names(e))).collect();
    assert_eq!(members, expected);
    let users: i64 = conn
        .query_one("SELECT count(*) FROM users", &[])
        .await?
        .get(0);
    assert_eq!(users, 6);

    // A second team with two existing users as its admins, in one statement.
    let admins: Vec<i64> = conn
        .query(
            "SELECT id FROM users WHERE email IN ('ann@example.com', 'cy@example.com') ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let platform = TeamSignupGraph::new("platform")
        .with_members(
            admins
                .iter()
                .map(|&user| NewTeamMemberForTeam::new(user).with_role(MemberRole::Admin)),
        )
        .insert_graph_returning(&conn)
        .await?;
    let roles: Vec<(i64, String)> = conn
        .query(
            "SELECT user_id, role::text FROM team_members WHERE team_id = $1 ORDER BY user_id",
            &[&platform.id],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    println!("team `{}`: {roles:?}", platform.name);
    assert_eq!(
        roles,
        admins
            .iter()
            .map(|&id| (id, "admin".to_owned()))
            .collect::<Vec<_>>()
    );
    println!("ok");
    Ok(())
}
