//! The example's nested insert graphs against PostgreSQL, each in one statement:
//! `NewAuthorGraph` (users → posts → comments), every comment under its own post, and
//! `SignupGraph` (a team, a new user per membership, the memberships), every membership
//! linking its own user.

use writegraph_example::SCHEMA_SQL;
use writegraph_example::{
    MemberRole, NewAuthorGraph, NewAuthorGraphPost, NewCommentForPost, NewPostForAuthor,
    NewTeamMemberForTeamWithUser, NewUser, SignupGraph, SignupGraphMember,
};
use writegraph_testing::{self as testing, CountingClient};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

#[tokio::test]
async fn an_author_with_posts_and_comments_lands_under_the_right_parents_in_one_statement(
) -> TestResult {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let client = db.connect().await?;
    // Post `p` has `p + 1` comments, each saying `"<p>/<c>"`, so that a comment under the
    // wrong post, or a post with the wrong number of comments, shows.
    let graph = NewAuthorGraph::new("ada@example.com").with_posts((0..4).map(|p| {
        NewAuthorGraphPost::new(NewPostForAuthor::new(format!("post {p}"), "body"))
            .with_comments((0..=p).map(|c| NewCommentForPost::new("bob", format!("{p}/{c}"))))
    }));
    let counting = CountingClient::new(&client);
    graph.insert_graph(&counting).await?;
    assert_eq!(counting.statements(), 1);

    let users: i64 = client
        .query_one("SELECT count(*) FROM users", &[])
        .await?
        .get(0);
    assert_eq!(users, 1);
    let posts: i64 = client
        .query_one(
            "SELECT count(*) FROM posts p JOIN users u ON u.id = p.author_id
             WHERE u.email = 'ada@example.com'",
            &[],
        )
        .await?
        .get(0);
    assert_eq!(posts, 4);
    let comments: i64 = client
        .query_one("SELECT count(*) FROM comments", &[])
        .await?
        .get(0);
    assert_eq!(comments, 1 + 2 + 3 + 4);
    let misplaced: i64 = client
        .query_one(
            "SELECT count(*) FROM comments c JOIN posts p ON p.id = c.post_id
             WHERE 'post ' || split_part(c.body, '/', 1) <> p.title",
            &[],
        )
        .await?
        .get(0);
    assert_eq!(misplaced, 0);
    let per_post: Vec<(String, i64)> = client
        .query(
            "SELECT p.title, count(c.id) FROM posts p LEFT JOIN comments c ON c.post_id = p.id
             GROUP BY p.title ORDER BY p.title",
            &[],
        )
        .await?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert_eq!(
        per_post,
        [
            ("post 0".to_owned(), 1),
            ("post 1".to_owned(), 2),
            ("post 2".to_owned(), 3),
            ("post 3".to_owned(), 4),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn a_signup_writes_the_team_its_new_users_and_their_memberships_in_one_statement(
) -> TestResult {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let client = db.connect().await?;
    // The founder is an admin, the others members; one member leaves the role to its
    // DEFAULT.
    let graph = SignupGraph::new("acme").with_members([
        SignupGraphMember::new(NewTeamMemberForTeamWithUser::new().with_role(MemberRole::Admin))
            .with_user(NewUser::new("ann@acme.test").with_name("Ann")),
        SignupGraphMember::new(NewTeamMemberForTeamWithUser::new().with_role(MemberRole::Member))
            .with_user(NewUser::new("bob@acme.test").with_name("Bob")),
        SignupGraphMember::new(NewTeamMemberForTeamWithUser::new())
            .with_user(NewUser::new("cy@acme.test")),
    ]);
    let counting = CountingClient::new(&client);
    let report = graph.insert_graph_report(&counting).await?;
    assert_eq!(counting.statements(), 1);
    let affected: Vec<(&str, u64)> = report.steps.iter().map(|s| (s.tag, s.affected)).collect();
    assert_eq!(
        affected,
        [
            ("graph:root:teams", 1),
            ("graph:has_many:team_members/belongs_to:users", 3),
            ("graph:has_many:team_members", 3),
        ]
    );

    let teams: Vec<(i32, String)> = client
        .query("SELECT id, name FROM teams", &[])
        .await?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let [(team_id, team_name)] = teams.as_slice() else {
        return Err(format!("expected one team, found {teams:?}").into());
    };
    assert_eq!(team_name, "acme");
    let users: Vec<(String, Option<String>)> = client
        .query("SELECT email, name FROM users ORDER BY email", &[])
        .await?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert_eq!(
        users,
        [
            ("ann@acme.test".to_owned(), Some("Ann".to_owned())),
            ("bob@acme.test".to_owned(), Some("Bob".to_owned())),
            ("cy@acme.test".to_owned(), None),
        ]
    );
    // Every membership is the team's, and links the user written for it, with its role.
    let memberships: Vec<(i32, String, String)> = client
        .query(
            "SELECT m.team_id, u.email, m.role::text FROM team_members m
             JOIN users u ON u.id = m.user_id ORDER BY u.email",
            &[],
        )
        .await?
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect();
    let member = |email: &str, role: &str| (*team_id, email.to_owned(), role.to_owned());
    assert_eq!(
        memberships,
        [
            member("ann@acme.test", "admin"),
            member("bob@acme.test", "member"),
            member("cy@acme.test", "member"),
        ]
    );
    let memberships: i64 = client
        .query_one("SELECT count(*) FROM team_members", &[])
        .await?
        .get(0);
    assert_eq!(memberships, 3);
    Ok(())
}
