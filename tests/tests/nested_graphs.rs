//! Insert graphs of several levels (`tests/schemas/nested.toml`) against PostgreSQL: every
//! row lands under its own parent, whatever order `RETURNING` would give, in one statement;
//! keys come from a sequence, an identity, a volatile default or the application, and a
//! nested step may reference a parent column other than its key. A failing row at any depth
//! writes nothing.

use tokio_postgres::error::SqlState;
use tokio_postgres::Client;
use writegraph::{CachedClient, Error, ValidationKind, WriteStepReport};
use writegraph_testing::{self as testing, CountingClient, TestDatabase};
use writegraph_tests::nested::{
    NewAccount, NewBoxForShelf, NewBoxItemForBox, NewCommentForPost, NewForumGraph,
    NewForumGraphThread, NewMembershipForTeamWithAccount, NewMilestoneForProject,
    NewMilestoneGraph, NewMilestoneGraphTask, NewPostByEmailGraph, NewPostForAuthor,
    NewPostStatForPost, NewProfileForUser, NewProfileLinkForProfileUser, NewProjectGraph,
    NewProjectGraphMilestone, NewProjectGraphTask, NewReactionForComment, NewRelationForPerson,
    NewReplyForThreadAndForum, NewRoadmapGraph, NewRoadmapGraphMilestone, NewShelfGraph,
    NewShelfGraphBox, NewTaskForMilestoneCode, NewTaskNoteForTask, NewTeamOfAccountsGraph,
    NewTeamOfAccountsGraphMember, NewTeamOwnerForTeamWithAccount, NewThreadForForum,
    NewThreadGraph, NewUserGraph, NewUserGraphComment, NewUserGraphPost, NewUserGraphProfile,
    PersonRelationsGraph, PostRewriteGraph, SignupGraph, SignupGraphMember, SoloSignupGraph,
    SoloSignupGraphOwner, TeamMemberPatch, TeamPatchGraph,
};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const SCHEMA_SQL: &str = include_str!("../schemas/nested.sql");

/// Every table of the schema.
const TABLES: [&str; 21] = [
    "users",
    "posts",
    "comments",
    "reactions",
    "post_stats",
    "profiles",
    "profile_links",
    "projects",
    "milestones",
    "tasks",
    "task_notes",
    "shelves",
    "boxes",
    "box_items",
    "teams",
    "accounts",
    "memberships",
    "team_owners",
    "forums",
    "threads",
    "replies",
];

async fn database() -> TestResult<(TestDatabase, Client)> {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let client = db.connect().await?;
    Ok((db, client))
}

async fn count(client: &Client, sql: &str) -> TestResult<i64> {
    Ok(client.query_one(sql, &[]).await?.get(0))
}

/// `(table, rows)` of every table.
async fn row_counts(client: &Client) -> TestResult<Vec<(&'static str, i64)>> {
    let mut counts = Vec::new();
    for table in TABLES {
        counts.push((
            table,
            count(client, &format!("SELECT count(*) FROM {table}")).await?,
        ));
    }
    Ok(counts)
}

/// A user with `posts` posts of `comments` comments each; comment `c` of post `p` says
/// `"<p>/<c>"`, so that a comment under the wrong post shows.
fn author(email: &str, posts: usize, comments: usize) -> NewUserGraph {
    NewUserGraph::new(email).with_posts((0..posts).map(|p| {
        NewUserGraphPost::new(NewPostForAuthor::new(format!("post {p}")))
            .with_comments((0..comments).map(|c| NewCommentForPost::new(format!("{p}/{c}")).into()))
    }))
}

/// Comments whose body does not name their own post's title: none when every comment is
/// under its own post.
const MISPLACED_COMMENTS: &str = "SELECT count(*) FROM comments c JOIN posts p ON p.id = c.post_id
     WHERE 'post ' || split_part(c.body, '/', 1) <> p.title";

#[tokio::test]
async fn a_thousand_posts_of_ten_comments_each_land_under_their_own_post_in_one_statement(
) -> TestResult {
    let (_db, client) = database().await?;
    let counting = CountingClient::new(&client);

    let report = author("ann@example.com", 1_000, 10)
        .insert_graph_report_returning(&counting)
        .await?;
    assert_eq!(counting.statements(), 1);
    let user = report.root.ok_or("no root row")?;
    let affected: Vec<(&str, u64)> = report.steps.iter().map(|s| (s.tag, s.affected)).collect();
    assert_eq!(
        affected,
        [
            ("graph:root:users", 1),
            ("graph:has_many:posts", 1_000),
            ("graph:has_many:posts/has_many:comments", 10_000),
            (
                "graph:has_many:posts/has_many:comments/has_many:reactions",
                0
            ),
            ("graph:has_many:posts/has_one:post_stats", 0),
            ("graph:has_one:profiles", 0),
            ("graph:has_one:profiles/has_many:profile_links", 0),
        ]
    );
    assert_eq!(report.affected, 11_001);
    assert_eq!(
        count(
            &client,
            &format!("SELECT count(*) FROM posts WHERE author_id = {}", user.id)
        )
        .await?,
        1_000
    );
    assert_eq!(
        count(&client, "SELECT count(*) FROM comments").await?,
        10_000
    );
    assert_eq!(count(&client, MISPLACED_COMMENTS).await?, 0);
    // Ten comments under each post, numbered 0..9.
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM (SELECT post_id FROM comments GROUP BY post_id
              HAVING count(*) = 10 AND count(DISTINCT split_part(body, '/', 2)) = 10) t"
        )
        .await?,
        1_000
    );
    Ok(())
}

#[tokio::test]
async fn every_level_takes_its_own_parents_key_three_levels_down() -> TestResult {
    let (_db, client) = database().await?;
    let post = |title: &str, comments: &[(&str, &[&str])], views: Option<i32>| {
        NewUserGraphPost::new(NewPostForAuthor::new(title).with_labels(vec!["a".to_owned()]))
            .with_comments(comments.iter().map(|(body, emojis)| {
                NewUserGraphComment::new(NewCommentForPost::new(*body))
                    .with_reactions(emojis.iter().map(|e| NewReactionForComment::new(*e)))
            }))
            .with_stats_opt(views.map(|v| NewPostStatForPost::new().with_views(v)))
    };
    let user = NewUserGraph::new("bob@example.com")
        .with_name("Bob")
        .with_posts([
            post("first", &[("f1", &["+1", "heart"]), ("f2", &[])], Some(7)),
            post("second", &[], None),
            post("third", &[("t1", &["eyes"])], Some(0)),
        ])
        .with_profile(
            NewUserGraphProfile::new(NewProfileForUser::new().with_bio("hi")).with_links([
                NewProfileLinkForProfileUser::new("https://a.example"),
                NewProfileLinkForProfileUser::new("https://b.example"),
            ]),
        )
        .insert_graph_returning(&client)
        .await?;

    let rows = client
        .query(
            "SELECT p.title, c.body, r.emoji FROM posts p
             LEFT JOIN comments c ON c.post_id = p.id
             LEFT JOIN reactions r ON r.comment_id = c.id
             WHERE p.author_id = $1 ORDER BY p.title, c.body, r.emoji",
            &[&user.id],
        )
        .await?;
    let tree: Vec<(String, Option<String>, Option<String>)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let some = |s: &str| Some(s.to_owned());
    assert_eq!(
        tree,
        [
            ("first".to_owned(), some("f1"), some("+1")),
            ("first".to_owned(), some("f1"), some("heart")),
            ("first".to_owned(), some("f2"), None),
            ("second".to_owned(), None, None),
            ("third".to_owned(), some("t1"), some("eyes")),
        ]
    );
    let stats: Vec<(String, i32)> = client
        .query(
            "SELECT p.title, s.views FROM post_stats s JOIN posts p ON p.id = s.post_id ORDER BY p.title",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(stats, [("first".to_owned(), 7), ("third".to_owned(), 0)]);
    let links: Vec<(i64, String)> = client
        .query(
            "SELECT l.profile_user_id, l.url FROM profile_links l ORDER BY l.url",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        links,
        [
            (user.id, "https://a.example".to_owned()),
            (user.id, "https://b.example".to_owned()),
        ]
    );
    assert_eq!(
        count(&client, "SELECT count(*) FROM profiles WHERE bio = 'hi'").await?,
        1
    );
    assert_eq!(
        count(&client, "SELECT count(*) FROM posts WHERE labels = '{a}'").await?,
        3
    );
    Ok(())
}

#[tokio::test]
async fn keys_from_a_default_and_a_parent_column_other_than_its_key_link_every_level() -> TestResult
{
    let (_db, client) = database().await?;
    let milestone = |code: &str, tasks: &[(&str, usize)]| {
        NewProjectGraphMilestone::new(NewMilestoneForProject::new(code)).with_tasks(
            tasks.iter().map(|(title, notes)| {
                NewProjectGraphTask::new(NewTaskForMilestoneCode::new(*title)).with_notes(
                    (0..*notes).map(|n| NewTaskNoteForTask::new(format!("{title} note {n}"))),
                )
            }),
        )
    };
    let project = NewProjectGraph::new("launch")
        .with_milestones([
            milestone("alpha", &[("design", 2), ("build", 0)]),
            milestone("beta", &[("test", 3)]),
            milestone("gamma", &[]),
        ])
        .insert_graph_returning(&client)
        .await?;

    let tasks: Vec<(String, String, i32)> = client
        .query(
            "SELECT t.title, m.code, m.project_id FROM tasks t
             JOIN milestones m ON m.code = t.milestone_code ORDER BY m.code, t.title",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        tasks,
        [
            ("build".to_owned(), "alpha".to_owned(), project.id),
            ("design".to_owned(), "alpha".to_owned(), project.id),
            ("test".to_owned(), "beta".to_owned(), project.id),
        ]
    );
    // Each note under its own task, and uuid keys drawn once per row.
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM task_notes n JOIN tasks t ON t.id = n.task_id
             WHERE n.note LIKE t.title || ' note %'"
        )
        .await?,
        5
    );
    assert_eq!(count(&client, "SELECT count(*) FROM task_notes").await?, 5);
    assert_eq!(
        count(&client, "SELECT count(DISTINCT id) FROM milestones").await?,
        3
    );
    Ok(())
}

#[tokio::test]
async fn rows_land_under_their_parents_after_the_plan_turns_generic() -> TestResult {
    let (_db, client) = database().await?;
    let cached = CachedClient::new(client);
    // PostgreSQL plans a prepared statement generically from its sixth execution on.
    for n in 0..8 {
        author(&format!("user{n}@example.com"), 3 + n % 3, 2 + n % 2)
            .insert_graph(&cached)
            .await?;
    }
    let client = cached.client();
    assert_eq!(count(client, MISPLACED_COMMENTS).await?, 0);
    assert_eq!(count(client, "SELECT count(*) FROM users").await?, 8);
    // 3+4+5+3+4+5+3+4 posts, each with 2 or 3 comments as its user's n says.
    assert_eq!(count(client, "SELECT count(*) FROM posts").await?, 31);
    // Each user has its own number of posts, each post its user's number of comments.
    assert_eq!(
        count(
            client,
            r"SELECT count(*) FROM users u,
                LATERAL (SELECT substring(u.email from 'user(\d+)')::int AS n) k
              WHERE (SELECT count(*) FROM posts p WHERE p.author_id = u.id) <> 3 + k.n % 3
                 OR EXISTS (SELECT 1 FROM posts p WHERE p.author_id = u.id
                     AND (SELECT count(*) FROM comments c WHERE c.post_id = p.id) <> 2 + k.n % 2)"
        )
        .await?,
        0
    );
    Ok(())
}

#[tokio::test]
async fn a_failing_row_three_levels_down_writes_nothing_and_names_its_step() -> TestResult {
    let (_db, client) = database().await?;
    let before = row_counts(&client).await?;
    let mut graph = author("cat@example.com", 20, 3);
    // The twelfth post's second comment breaks the CHECK (body <> '').
    graph.posts[11].comments[1].row.body = String::new();
    let error = graph.insert_graph(&client).await.err().ok_or("no error")?;
    assert_eq!(error.sqlstate(), Some(&SqlState::CHECK_VIOLATION));
    assert_eq!(
        error.tag(),
        Some("graph:has_many:posts/has_many:comments"),
        "{error}"
    );
    assert_eq!(row_counts(&client).await?, before);
    Ok(())
}

#[tokio::test]
async fn empty_levels_write_no_rows_and_report_zero() -> TestResult {
    let (_db, client) = database().await?;
    let report = NewUserGraph::new("dan@example.com")
        .with_posts([NewUserGraphPost::from(NewPostForAuthor::new("lonely"))])
        .with_profile(NewProfileForUser::new().into())
        .insert_graph_report(&client)
        .await?;
    let zero_or_one: Vec<u64> = report
        .steps
        .iter()
        .map(|s: &WriteStepReport| s.affected)
        .collect();
    assert_eq!(zero_or_one, [1, 1, 0, 0, 0, 1, 0]);
    assert_eq!(
        row_counts(&client).await?,
        [
            ("users", 1),
            ("posts", 1),
            ("comments", 0),
            ("reactions", 0),
            ("post_stats", 0),
            ("profiles", 1),
            ("profile_links", 0),
            ("projects", 0),
            ("milestones", 0),
            ("tasks", 0),
            ("task_notes", 0),
            ("shelves", 0),
            ("boxes", 0),
            ("box_items", 0),
            ("teams", 0),
            ("accounts", 0),
            ("memberships", 0),
            ("team_owners", 0),
            ("forums", 0),
            ("threads", 0),
            ("replies", 0),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn a_bad_value_deep_down_is_a_validation_error_before_any_sql() -> TestResult {
    let (_db, client) = database().await?;
    let counting = CountingClient::new(&client);
    let mut graph = author("eve@example.com", 2, 2);
    graph.posts[1].comments[0].row.body = "nul \0 byte".to_owned();
    let error = graph
        .insert_graph(&counting)
        .await
        .err()
        .ok_or("no error")?;
    assert!(matches!(error, Error::Validation(_)), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("step `graph:has_many:posts/has_many:comments`"),
        "{message}"
    );
    assert_eq!(counting.statements(), 0);
    assert_eq!(count(&client, "SELECT count(*) FROM users").await?, 0);
    Ok(())
}

#[tokio::test]
async fn an_identity_always_key_is_drawn_once_and_read_by_the_rows_under_it() -> TestResult {
    let (_db, client) = database().await?;
    let shelf = NewShelfGraph::new("top")
        .with_boxes(["a", "b", "c"].map(|label| {
            NewShelfGraphBox::new(NewBoxForShelf::new(label))
                .with_items((0..3).map(|n| NewBoxItemForBox::new(format!("{label}{n}"))))
        }))
        .insert_graph_returning(&client)
        .await?;
    let items: Vec<(String, String)> = client
        .query(
            "SELECT b.label, i.name FROM box_items i JOIN boxes b ON b.id = i.box_id
             WHERE b.shelf_id = $1 ORDER BY i.name",
            &[&shelf.id],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let expected: Vec<(String, String)> = ["a", "b", "c"]
        .iter()
        .flat_map(|l| (0..3).map(move |n| (l.to_string(), format!("{l}{n}"))))
        .collect();
    assert_eq!(items, expected);
    // The identity's sequence gave each box one key: the next one follows them.
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM boxes WHERE id < nextval(pg_get_serial_sequence('boxes', 'id'))"
        )
        .await?,
        3
    );
    Ok(())
}

/// A sign-up of team `team`: one new account per email, each joining the team.
fn signup(team: &str, emails: &[&str]) -> SignupGraph {
    SignupGraph::new(team).with_members(emails.iter().map(|email| {
        SignupGraphMember::new(NewMembershipForTeamWithAccount::new())
            .with_account(NewAccount::new(*email))
    }))
}

/// `(team, email, role)` of every membership.
async fn memberships(client: &Client) -> TestResult<Vec<(String, String, String)>> {
    Ok(client
        .query(
            "SELECT t.name, a.email, m.role FROM memberships m
             JOIN teams t ON t.id = m.team_id JOIN accounts a ON a.id = m.account_id
             ORDER BY t.name, a.email",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

#[tokio::test]
async fn a_signup_writes_the_team_its_new_accounts_and_their_memberships_at_once() -> TestResult {
    let (_db, client) = database().await?;
    let counting = CountingClient::new(&client);
    let report = signup("acme", &["ann@acme.test", "bob@acme.test", "cy@acme.test"])
        .insert_graph_report(&counting)
        .await?;
    assert_eq!(counting.statements(), 1);
    let affected: Vec<(&str, u64)> = report.steps.iter().map(|s| (s.tag, s.affected)).collect();
    assert_eq!(
        affected,
        [
            ("graph:root:teams", 1),
            ("graph:has_many:memberships/belongs_to:accounts", 3),
            ("graph:has_many:memberships", 3),
        ]
    );
    let member = |email: &str| ("acme".to_owned(), email.to_owned(), "member".to_owned());
    assert_eq!(
        memberships(&client).await?,
        [
            member("ann@acme.test"),
            member("bob@acme.test"),
            member("cy@acme.test")
        ]
    );

    // A member given an existing account's id joins without a new account; the others
    // get theirs, each under its own membership whatever the order of the rows.
    let ann: i64 = client
        .query_one("SELECT id FROM accounts WHERE email = 'ann@acme.test'", &[])
        .await?
        .get(0);
    SignupGraph::new("globex")
        .with_members([
            SignupGraphMember::new(NewMembershipForTeamWithAccount::new().with_role("owner"))
                .with_account(NewAccount::new("dee@globex.test")),
            SignupGraphMember::new(NewMembershipForTeamWithAccount::new().with_account_id(ann)),
            SignupGraphMember::new(NewMembershipForTeamWithAccount::new().with_role("admin"))
                .with_account(NewAccount::new("eve@globex.test")),
        ])
        .insert_graph(&client)
        .await?;
    let globex: Vec<_> = memberships(&client)
        .await?
        .into_iter()
        .filter(|(team, ..)| team == "globex")
        .collect();
    let row = |email: &str, role: &str| ("globex".to_owned(), email.to_owned(), role.to_owned());
    assert_eq!(
        globex,
        [
            row("ann@acme.test", "member"),
            row("dee@globex.test", "owner"),
            row("eve@globex.test", "admin"),
        ]
    );
    assert_eq!(count(&client, "SELECT count(*) FROM accounts").await?, 5);
    Ok(())
}

#[tokio::test]
async fn a_second_signup_of_a_taken_team_name_leaves_no_orphan_account() -> TestResult {
    let (_db, client) = database().await?;
    signup("acme", &["ann@acme.test"])
        .insert_graph(&client)
        .await?;
    let before = row_counts(&client).await?;

    let error = signup("acme", &["zed@acme.test", "yan@acme.test"])
        .insert_graph(&client)
        .await
        .err()
        .ok_or("no error")?;
    assert_eq!(error.sqlstate(), Some(&SqlState::UNIQUE_VIOLATION));
    assert_eq!(error.tag(), Some("graph:root:teams"), "{error}");
    assert_eq!(row_counts(&client).await?, before);
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM accounts WHERE email LIKE '%@acme.test'"
        )
        .await?,
        1
    );
    Ok(())
}

#[tokio::test]
async fn a_member_needs_an_account_or_its_id_but_not_both() -> TestResult {
    let (_db, client) = database().await?;
    let counting = CountingClient::new(&client);
    let neither = SignupGraph::new("a")
        .with_members([SignupGraphMember::new(
            NewMembershipForTeamWithAccount::new(),
        )])
        .insert_graph(&counting)
        .await
        .err()
        .ok_or("no error")?;
    assert!(matches!(neither, Error::Validation(_)), "{neither:?}");
    assert!(neither.to_string().contains("account"), "{neither}");
    let both = SignupGraph::new("b")
        .with_members([SignupGraphMember::new(
            NewMembershipForTeamWithAccount::new().with_account_id(1),
        )
        .with_account(NewAccount::new("x@b.test"))])
        .insert_graph(&counting)
        .await
        .err()
        .ok_or("no error")?;
    assert!(matches!(both, Error::Validation(_)), "{both:?}");
    assert_eq!(counting.statements(), 0);
    assert_eq!(count(&client, "SELECT count(*) FROM teams").await?, 0);
    Ok(())
}

#[tokio::test]
async fn a_one_row_step_takes_the_key_of_its_own_new_parent() -> TestResult {
    let (_db, client) = database().await?;
    let team = SoloSignupGraph::new(
        "solo",
        SoloSignupGraphOwner::new(NewTeamOwnerForTeamWithAccount::new())
            .with_account(NewAccount::new("owner@solo.test").with_display_name("Owner")),
    )
    .insert_graph_returning(&client)
    .await?;
    let owner: (i64, String, Option<String>) = client
        .query_one(
            "SELECT o.team_id, a.email, a.display_name FROM team_owners o
             JOIN accounts a ON a.id = o.account_id",
            &[],
        )
        .await
        .map(|r| (r.get(0), r.get(1), r.get(2)))?;
    assert_eq!(
        owner,
        (
            team.id,
            "owner@solo.test".to_owned(),
            Some("Owner".to_owned())
        )
    );
    Ok(())
}

/// `(reply body, its thread's title, its forum_id, its thread's forum_id)` of every reply.
async fn replies(client: &Client) -> TestResult<Vec<(String, String, i32, i32)>> {
    Ok(client
        .query(
            "SELECT r.body, t.title, r.forum_id, t.forum_id FROM replies r
             JOIN threads t ON t.id = r.thread_id ORDER BY r.body",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect())
}

#[tokio::test]
async fn copied_columns_come_from_each_rows_own_parent() -> TestResult {
    let (_db, client) = database().await?;
    let forums: Vec<i32> = client
        .query(
            "INSERT INTO forums (name) VALUES ('rust'), ('sql') RETURNING id",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let counting = CountingClient::new(&client);
    NewThreadGraph::new(forums[1], "joins")
        .with_replies([
            NewReplyForThreadAndForum::new("j1"),
            NewReplyForThreadAndForum::new("j2"),
        ])
        .insert_graph(&counting)
        .await?;
    let forum = NewForumGraph::new("web")
        .with_threads(["css", "html"].map(|title| {
            NewForumGraphThread::new(NewThreadForForum::new(title)).with_replies(
                (1..=2).map(|n| NewReplyForThreadAndForum::new(format!("{title}{n}"))),
            )
        }))
        .insert_graph_returning(&counting)
        .await?;
    assert_eq!(counting.statements(), 2);
    let row =
        |body: &str, title: &str, forum: i32| (body.to_owned(), title.to_owned(), forum, forum);
    assert_eq!(
        replies(&client).await?,
        [
            row("css1", "css", forum.id),
            row("css2", "css", forum.id),
            row("html1", "html", forum.id),
            row("html2", "html", forum.id),
            row("j1", "joins", forums[1]),
            row("j2", "joins", forums[1]),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn connect_by_a_unique_key_looks_the_parent_up_in_the_same_statement() -> TestResult {
    let (_db, client) = database().await?;
    let ann: i64 = client
        .query_one(
            "INSERT INTO users (email) VALUES ('ann@x.test') RETURNING id",
            &[],
        )
        .await?
        .get(0);
    let counting = CountingClient::new(&client);
    let post = NewPostByEmailGraph::new("hello")
        .with_author("ann@x.test")
        .insert_graph_returning(&counting)
        .await?;
    assert_eq!(counting.statements(), 1);
    assert_eq!(post.author_id, ann);

    // A key no row has: NotFound naming the step, and nothing written.
    let before = row_counts(&client).await?;
    let missing = NewPostByEmailGraph::new("lost")
        .with_author("nobody@x.test")
        .insert_graph(&counting)
        .await
        .err()
        .ok_or("no error")?;
    match &missing {
        Error::NotFound { table, step, .. } => {
            assert_eq!(*table, "public.users");
            assert_eq!(*step, Some("graph:belongs_to:users"));
        }
        other => return Err(format!("expected NotFound, got {other:?}").into()),
    }
    assert!(
        missing.to_string().contains("graph:belongs_to:users"),
        "{missing}"
    );
    assert_eq!(row_counts(&client).await?, before);
    Ok(())
}

#[tokio::test]
async fn each_row_of_a_nested_step_connects_to_its_own_parent_by_key() -> TestResult {
    let (_db, client) = database().await?;
    client
        .batch_execute(
            "INSERT INTO accounts (email) VALUES ('a@t.test'), ('b@t.test'), ('c@t.test')",
        )
        .await?;
    let member = |email: &str, role: &str| {
        NewTeamOfAccountsGraphMember::new(NewMembershipForTeamWithAccount::new().with_role(role))
            .with_account(email)
    };
    let cached = CachedClient::new(client);
    // Seven writes, so the last ones run a generic plan.
    for n in 0..7 {
        NewTeamOfAccountsGraph::new(format!("team{n}"))
            .with_members([member("c@t.test", "owner"), member("a@t.test", "member")])
            .insert_graph(&cached)
            .await?;
    }
    let client = cached.client();
    let rows: Vec<(String, String, String)> = memberships(client)
        .await?
        .into_iter()
        .filter(|(team, ..)| team == "team6")
        .collect();
    assert_eq!(
        rows,
        [
            (
                "team6".to_owned(),
                "a@t.test".to_owned(),
                "member".to_owned()
            ),
            (
                "team6".to_owned(),
                "c@t.test".to_owned(),
                "owner".to_owned()
            ),
        ]
    );
    assert_eq!(count(client, "SELECT count(*) FROM memberships").await?, 14);
    assert_eq!(
        count(
            client,
            "SELECT count(*) FROM memberships m JOIN accounts a ON a.id = m.account_id
             WHERE (a.email = 'c@t.test') <> (m.role = 'owner')"
        )
        .await?,
        0
    );

    let before = row_counts(client).await?;
    let missing = NewTeamOfAccountsGraph::new("ghosts")
        .with_members([member("a@t.test", "member"), member("zz@t.test", "member")])
        .insert_graph(&cached)
        .await
        .err()
        .ok_or("no error")?;
    assert!(
        matches!(
            missing,
            Error::NotFound {
                step: Some("graph:has_many:memberships/belongs_to:accounts"),
                ..
            }
        ),
        "{missing:?}"
    );
    assert_eq!(row_counts(client).await?, before);
    Ok(())
}

#[tokio::test]
async fn an_update_graph_connects_its_root_to_a_parent_found_by_email() -> TestResult {
    let (_db, client) = database().await?;
    client
        .batch_execute(
            "INSERT INTO users (id, email) VALUES (1, 'ann@x.test'), (2, 'bob@x.test');
             INSERT INTO posts (id, author_id, title) VALUES (42, 1, 'draft');",
        )
        .await?;
    let counting = CountingClient::new(&client);
    let post = PostRewriteGraph::default()
        .with_title("final")
        .with_author("bob@x.test")
        .with_comments([NewCommentForPost::new("moved to bob")])
        .update_by_id_graph_returning(&counting, &42)
        .await?;
    assert_eq!(counting.statements(), 1);
    assert_eq!((post.author_id, post.title.as_str()), (2, "final"));
    assert_eq!(
        count(&client, "SELECT count(*) FROM comments WHERE post_id = 42").await?,
        1
    );

    // Only the connect: the root is updated by it alone.
    let post = PostRewriteGraph::default()
        .with_author("ann@x.test")
        .update_by_id_graph_returning(&client, &42)
        .await?;
    assert_eq!((post.author_id, post.title.as_str()), (1, "final"));

    // A missing email changes nothing: not the title, not the comments.
    let before = row_counts(&client).await?;
    let missing = PostRewriteGraph::default()
        .with_title("lost")
        .with_author("nobody@x.test")
        .with_comments([NewCommentForPost::new("never")])
        .update_by_id_graph(&client, &42)
        .await
        .err()
        .ok_or("no error")?;
    assert!(
        matches!(
            missing,
            Error::NotFound {
                table: "public.users",
                step: Some("graph:belongs_to:users"),
                ..
            }
        ),
        "{missing:?}"
    );
    assert_eq!(row_counts(&client).await?, before);
    let stored: (i64, String) = client
        .query_one("SELECT author_id, title FROM posts WHERE id = 42", &[])
        .await
        .map(|r| (r.get(0), r.get(1)))?;
    assert_eq!(stored, (1, "final".to_owned()));

    // The author and its id both given contradict each other, before any SQL.
    let both = PostRewriteGraph::default()
        .with_author_id(2)
        .with_author("bob@x.test")
        .update_by_id_graph(&counting, &42)
        .await
        .err()
        .ok_or("no error")?;
    assert!(matches!(both, Error::Validation(_)), "{both:?}");
    assert_eq!(counting.statements(), 1);
    Ok(())
}

#[tokio::test]
async fn many_update_graphs_connect_each_root_to_its_own_parent_by_email() -> TestResult {
    let (_db, client) = database().await?;
    client
        .batch_execute(
            "INSERT INTO users (id, email) VALUES (1, 'ann@x.test'), (2, 'bob@x.test');
             INSERT INTO posts (id, author_id, title) VALUES (41, 1, 'a'), (42, 1, 'b'), (43, 2, 'c');",
        )
        .await?;
    let counting = CountingClient::new(&client);
    // 41 moves to bob; 42 to ann (its own author) with a new title; 43 keeps bob and only
    // gets a comment.
    let posts = PostRewriteGraph::update_graph_many_returning(
        &counting,
        [
            (41, PostRewriteGraph::default().with_author("bob@x.test")),
            (
                42,
                PostRewriteGraph::default()
                    .with_author("ann@x.test")
                    .with_title("b2"),
            ),
            (
                43,
                PostRewriteGraph::default().with_comments([NewCommentForPost::new("hi")]),
            ),
        ],
    )
    .await?;
    assert_eq!(counting.statements(), 1);
    let stored: Vec<(i64, i64, String)> = posts
        .iter()
        .map(|p| (p.id, p.author_id, p.title.clone()))
        .collect();
    assert_eq!(
        stored,
        [
            (41, 2, "a".to_owned()),
            (42, 1, "b2".to_owned()),
            (43, 2, "c".to_owned())
        ]
    );
    assert_eq!(
        count(&client, "SELECT count(*) FROM comments WHERE post_id = 43").await?,
        1
    );

    // One missing email in the batch changes nothing of any graph.
    let before = row_counts(&client).await?;
    let missing = PostRewriteGraph::update_graph_many(
        &client,
        [
            (41, PostRewriteGraph::default().with_title("lost")),
            (42, PostRewriteGraph::default().with_author("nobody@x.test")),
        ],
    )
    .await
    .err()
    .ok_or("no error")?;
    assert!(
        matches!(
            missing,
            Error::NotFound {
                table: "public.users",
                step: Some("graph:belongs_to:users"),
                ..
            }
        ),
        "{missing:?}"
    );
    assert_eq!(row_counts(&client).await?, before);

    // The author and its id both given in one graph: refused before any SQL, naming it.
    counting.reset();
    let both = PostRewriteGraph::update_graph_many(
        &counting,
        [
            (41, PostRewriteGraph::default().with_title("x")),
            (
                42,
                PostRewriteGraph::default()
                    .with_author_id(2)
                    .with_author("bob@x.test"),
            ),
        ],
    )
    .await
    .err()
    .ok_or("no error")?;
    assert!(both.to_string().contains("graph 1: "), "{both}");
    assert_eq!(counting.statements(), 0);
    Ok(())
}

#[tokio::test]
async fn a_graph_named_by_an_edge_is_written_inside_another_and_alone() -> TestResult {
    let (_db, client) = database().await?;
    let roadmap = NewRoadmapGraph::new("roadmap")
        .with_milestones(["m1", "m2"].map(|code| {
            NewRoadmapGraphMilestone::new(NewMilestoneForProject::new(code)).with_tasks([
                NewMilestoneGraphTask::new(NewTaskForMilestoneCode::new(format!("{code} task")))
                    .with_notes([NewTaskNoteForTask::new(format!("{code} note"))]),
            ])
        }))
        .insert_graph_returning(&client)
        .await?;
    // The same graph alone, under the same project, with the same item types.
    NewMilestoneGraph::new(roadmap.id, "m3")
        .with_tasks([NewMilestoneGraphTask::new(NewTaskForMilestoneCode::new(
            "m3 task",
        ))])
        .insert_graph(&client)
        .await?;
    let rows: Vec<(String, String, String)> = client
        .query(
            "SELECT m.code, t.title, coalesce(n.note, '') FROM milestones m
             JOIN tasks t ON t.milestone_code = m.code
             LEFT JOIN task_notes n ON n.task_id = t.id
             WHERE m.project_id = $1 ORDER BY m.code",
            &[&roadmap.id],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let row = |code: &str, note: &str| (code.to_owned(), format!("{code} task"), note.to_owned());
    assert_eq!(
        rows,
        [row("m1", "m1 note"), row("m2", "m2 note"), row("m3", "")]
    );
    Ok(())
}

/// `(other, kind)` of every relation of person 1.
async fn relations(client: &Client) -> TestResult<Vec<(String, String)>> {
    Ok(client
        .query(
            "SELECT other, kind FROM relations WHERE person_id = 1 ORDER BY kind, other",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

#[tokio::test]
async fn a_strategy_with_where_manages_only_the_children_it_selects() -> TestResult {
    let (_db, client) = database().await?;
    client
        .batch_execute(
            "INSERT INTO people (id, handle) VALUES (1, 'ann'), (2, 'bob');
             INSERT INTO relations VALUES (1, 'a', 'follow'), (1, 'b', 'follow'),
                 (1, 'x', 'block'), (2, 'a', 'follow'), (2, 'z', 'block');",
        )
        .await?;
    let rel = |other: &str, kind: &str| NewRelationForPerson::new(other, kind);
    let pair = |other: &str, kind: &str| (other.to_owned(), kind.to_owned());

    // Diff the follows: the block stays.
    let report = PersonRelationsGraph::default()
        .with_follows([rel("b", "follow"), rel("c", "follow")])
        .update_by_id_graph_report(&client, &1)
        .await?;
    let affected: Vec<(&str, u64)> = report.steps.iter().map(|s| (s.tag, s.affected)).collect();
    assert_eq!(
        affected,
        [
            ("graph:root:people", 0),
            ("graph:has_many:relations", 3),
            ("graph:has_many:relations:blocks", 0),
        ]
    );
    assert_eq!(
        relations(&client).await?,
        [pair("x", "block"), pair("b", "follow"), pair("c", "follow")]
    );

    // Replace the blocks: the follows stay.
    PersonRelationsGraph::default()
        .with_blocks([rel("y", "block")])
        .update_by_id_graph(&client, &1)
        .await?;
    assert_eq!(
        relations(&client).await?,
        [pair("y", "block"), pair("b", "follow"), pair("c", "follow")]
    );

    // An empty diff deletes every follow and nothing else.
    PersonRelationsGraph::default()
        .with_follows([])
        .update_by_id_graph(&client, &1)
        .await?;
    assert_eq!(relations(&client).await?, [pair("y", "block")]);
    // Another person's rows are untouched throughout.
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM relations WHERE person_id = 2"
        )
        .await?,
        2
    );
    Ok(())
}

/// One row of `team_members`: (id, team_id, kind, name, active).
type Member = (i64, i64, String, Option<String>, bool);

/// Teams 1 (`red`) and 2 (`blue`) and their members: red has players 1 and 3 and coach 5
/// without a name, player 2 and coach 4 with one; blue has an unnamed player 6 and a
/// coach 7.
async fn teams_with_members(client: &Client) -> TestResult {
    client
        .batch_execute(
            "INSERT INTO teams (id, name) VALUES (1, 'red'), (2, 'blue');
             INSERT INTO team_members (id, team_id, kind, name) VALUES
                 (1, 1, 'player', NULL), (2, 1, 'player', 'Ann'), (3, 1, 'player', NULL),
                 (4, 1, 'coach', 'Bo'), (5, 1, 'coach', NULL),
                 (6, 2, 'player', NULL), (7, 2, 'coach', 'Dee');",
        )
        .await?;
    Ok(())
}

/// Every row of `team_members`, by id.
async fn members(client: &Client) -> TestResult<Vec<Member>> {
    Ok(client
        .query(
            "SELECT id, team_id, kind, name::text, active FROM team_members ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect())
}

/// The members as [`teams_with_members`] writes them.
fn seeded_members() -> Vec<Member> {
    let m = |id, team, kind: &str, name: Option<&str>| {
        (id, team, kind.to_owned(), name.map(str::to_owned), true)
    };
    vec![
        m(1, 1, "player", None),
        m(2, 1, "player", Some("Ann")),
        m(3, 1, "player", None),
        m(4, 1, "coach", Some("Bo")),
        m(5, 1, "coach", None),
        m(6, 2, "player", None),
        m(7, 2, "coach", Some("Dee")),
    ]
}

/// `(member id, trigger)` of every row an update of `team_members` wrote, in order.
async fn member_writes(client: &Client) -> TestResult<Vec<(i64, String)>> {
    Ok(client
        .query(
            "SELECT member_id, trigger_name FROM team_member_writes ORDER BY member_id, trigger_name",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// The name of team `id`.
async fn team_name(client: &Client, id: i64) -> TestResult<String> {
    Ok(client
        .query_one("SELECT name FROM teams WHERE id = $1", &[&id])
        .await?
        .get(0))
}

/// Each step's tag and count.
fn step_counts(steps: &[WriteStepReport]) -> Vec<(&'static str, u64)> {
    steps.iter().map(|s| (s.tag, s.affected)).collect()
}

#[tokio::test]
async fn update_steps_of_many_graphs_patch_each_roots_own_children() -> TestResult {
    let (_db, client) = database().await?;
    teams_with_members(&client).await?;
    let counting = CountingClient::new(&client);
    // Red's coaches are deactivated; blue's coaches renamed and its unnamed members named:
    // the coaches step sets a different column for each team.
    let report = TeamPatchGraph::update_graph_many_report(
        &counting,
        [
            (
                1,
                TeamPatchGraph::default()
                    .with_coaches(TeamMemberPatch::default().with_active(false)),
            ),
            (
                2,
                TeamPatchGraph::default()
                    .with_coaches(TeamMemberPatch::default().with_name("Coach"))
                    .with_unnamed_members(TeamMemberPatch::default().with_name("U2")),
            ),
        ],
    )
    .await?;
    assert_eq!(counting.statements(), 1);
    assert_eq!(
        step_counts(&report.steps),
        [
            ("graph:root:teams", 0),
            ("graph:has_many:team_members", 1),
            ("graph:has_many:team_members:coaches", 3),
            ("graph:has_many:team_members:members", 0),
        ]
    );
    let mut expected = seeded_members();
    expected[3].4 = false;
    expected[4].4 = false;
    expected[5].3 = Some("U2".to_owned());
    expected[6].3 = Some("Coach".to_owned());
    assert_eq!(members(&client).await?, expected);

    // No graph's patch sets a column of a step: the step writes nothing.
    let report = TeamPatchGraph::update_graph_many_report(
        &counting,
        [(
            1,
            TeamPatchGraph::default().with_members(TeamMemberPatch::default()),
        )],
    )
    .await?;
    assert_eq!(report.affected, 0);
    assert_eq!(members(&client).await?, expected);
    Ok(())
}

#[tokio::test]
async fn an_update_step_patches_only_the_children_its_where_selects() -> TestResult {
    let (_db, client) = database().await?;
    teams_with_members(&client).await?;
    let counting = CountingClient::new(&client);

    let report = TeamPatchGraph::default()
        .with_unnamed_members(TeamMemberPatch::default().with_name("Unknown User"))
        .update_by_id_graph_report(&counting, &1)
        .await?;
    assert_eq!(counting.statements(), 1);
    assert_eq!(
        step_counts(&report.steps),
        [
            ("graph:root:teams", 0),
            ("graph:has_many:team_members", 3),
            ("graph:has_many:team_members:coaches", 0),
            ("graph:has_many:team_members:members", 0),
        ]
    );
    assert_eq!(report.affected, 3);
    // Red's unnamed members are named; its named ones and blue's unnamed player are not.
    let mut expected = seeded_members();
    for id in [1, 3, 5] {
        expected[id - 1].3 = Some("Unknown User".to_owned());
    }
    assert_eq!(members(&client).await?, expected);
    let written = |ids: &[i64]| -> Vec<(i64, String)> {
        ids.iter()
            .flat_map(|&id| {
                [
                    (id, "member_named".to_owned()),
                    (id, "member_written".to_owned()),
                ]
            })
            .collect()
    };
    assert_eq!(member_writes(&client).await?, written(&[1, 3, 5]));
    assert_eq!(team_name(&client, 1).await?, "red");

    // Without `where`, every member of the team, and no other team's.
    client
        .batch_execute("DELETE FROM team_member_writes")
        .await?;
    let report = TeamPatchGraph::default()
        .with_members(TeamMemberPatch::default().with_active(false))
        .update_by_id_graph_report(&client, &2)
        .await?;
    assert_eq!(
        step_counts(&report.steps),
        [
            ("graph:root:teams", 0),
            ("graph:has_many:team_members", 0),
            ("graph:has_many:team_members:coaches", 0),
            ("graph:has_many:team_members:members", 2),
        ]
    );
    expected[5].4 = false;
    expected[6].4 = false;
    assert_eq!(members(&client).await?, expected);
    // Only `active` is assigned: the trigger `UPDATE OF name` does not fire.
    assert_eq!(
        member_writes(&client).await?,
        [
            (6, "member_written".to_owned()),
            (7, "member_written".to_owned())
        ]
    );
    Ok(())
}

#[tokio::test]
async fn child_patches_and_the_roots_patch_go_in_one_statement() -> TestResult {
    let (_db, client) = database().await?;
    teams_with_members(&client).await?;
    let counting = CountingClient::new(&client);
    let mut expected = seeded_members();

    // Blue's name, its unnamed player's name and its coach's flag and name: each patch's
    // values are bound after the root's, and the step after them is `None`.
    let report = TeamPatchGraph::default()
        .with_name("crimson")
        .with_unnamed_members(TeamMemberPatch::default().with_name("Rookie"))
        .with_coaches(
            TeamMemberPatch::default()
                .with_active(false)
                .with_name_opt(None),
        )
        .update_by_id_graph_report_returning(&counting, &2)
        .await?;
    assert_eq!(counting.statements(), 1);
    assert_eq!(
        step_counts(&report.steps),
        [
            ("graph:root:teams", 1),
            ("graph:has_many:team_members", 1),
            ("graph:has_many:team_members:coaches", 1),
            ("graph:has_many:team_members:members", 0),
        ]
    );
    let team = report.root.ok_or("no root row")?;
    assert_eq!((team.id, team.name.as_str()), (2, "crimson"));
    assert_eq!(team_name(&client, 1).await?, "red");
    expected[5].3 = Some("Rookie".to_owned());
    (expected[6].3, expected[6].4) = (None, false);
    assert_eq!(members(&client).await?, expected);

    // Only the step in the middle: the steps around it are `None`.
    let report = TeamPatchGraph::default()
        .with_coaches(TeamMemberPatch::default().with_kind("player"))
        .update_by_id_graph_report(&counting, &1)
        .await?;
    assert_eq!(counting.statements(), 2);
    assert_eq!(
        step_counts(&report.steps),
        [
            ("graph:root:teams", 0),
            ("graph:has_many:team_members", 0),
            ("graph:has_many:team_members:coaches", 2),
            ("graph:has_many:team_members:members", 0),
        ]
    );
    expected[3].2 = "player".to_owned();
    expected[4].2 = "player".to_owned();
    assert_eq!(members(&client).await?, expected);
    Ok(())
}

#[tokio::test]
async fn a_child_patch_that_is_none_empty_or_under_a_missing_root_changes_nothing() -> TestResult {
    let (_db, client) = database().await?;
    teams_with_members(&client).await?;
    let counting = CountingClient::new(&client);
    let no_children = [
        ("graph:has_many:team_members", 0),
        ("graph:has_many:team_members:coaches", 0),
        ("graph:has_many:team_members:members", 0),
    ];

    // Every child field `None`: only the root's name changes.
    let report = TeamPatchGraph::default()
        .with_name("ruby")
        .update_by_id_graph_report(&counting, &1)
        .await?;
    assert_eq!(step_counts(&report.steps)[1..], no_children);
    assert_eq!(team_name(&client, 1).await?, "ruby");
    assert_eq!(members(&client).await?, seeded_members());
    assert_eq!(member_writes(&client).await?, []);

    // A patch that sets no column: no member row is written, no trigger fires, and the
    // root is only read.
    let report = TeamPatchGraph::default()
        .with_unnamed_members(TeamMemberPatch::default())
        .with_members(TeamMemberPatch::default())
        .update_by_id_graph_report(&counting, &1)
        .await?;
    assert_eq!(counting.statements(), 2);
    assert_eq!(report.steps[0].affected, 0);
    assert_eq!(step_counts(&report.steps)[1..], no_children);
    assert_eq!(report.affected, 0);
    assert_eq!(members(&client).await?, seeded_members());
    assert_eq!(member_writes(&client).await?, []);

    // No team 99: NotFound, and neither the teams nor any member changed.
    let missing = TeamPatchGraph::default()
        .with_name("ghost")
        .with_unnamed_members(TeamMemberPatch::default().with_name("Unknown User"))
        .with_members(TeamMemberPatch::default().with_active(false))
        .update_by_id_graph(&counting, &99)
        .await
        .err()
        .ok_or("no error")?;
    assert!(
        matches!(
            missing,
            Error::NotFound {
                table: "public.teams",
                step: None,
                ..
            }
        ),
        "{missing:?}"
    );
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM teams WHERE name IN ('ruby', 'blue')"
        )
        .await?,
        2
    );
    assert_eq!(count(&client, "SELECT count(*) FROM teams").await?, 2);
    assert_eq!(members(&client).await?, seeded_members());
    assert_eq!(member_writes(&client).await?, []);

    // A name longer than `varchar(20)` is refused before any SQL, naming the step.
    let too_long = TeamPatchGraph::default()
        .with_coaches(TeamMemberPatch::default().with_name("x".repeat(21)))
        .update_by_id_graph(&counting, &1)
        .await
        .err()
        .ok_or("no error")?;
    assert_eq!(too_long.validation_kind(), Some(ValidationKind::TooLong));
    assert!(
        too_long
            .to_string()
            .contains("step `graph:has_many:team_members:coaches`"),
        "{too_long}"
    );
    assert_eq!(counting.statements(), 3);

    // A patch the database refuses (the kind's CHECK) fails the whole statement: the root's
    // name and the other step's patch are not written either.
    let refused = TeamPatchGraph::default()
        .with_name("rose")
        .with_unnamed_members(TeamMemberPatch::default().with_name("Unknown User"))
        .with_coaches(TeamMemberPatch::default().with_kind("manager"))
        .update_by_id_graph(&counting, &1)
        .await
        .err()
        .ok_or("no error")?;
    assert!(refused.is_check_violation(), "{refused:?}");
    assert_eq!(counting.statements(), 4);
    assert_eq!(team_name(&client, 1).await?, "ruby");
    assert_eq!(members(&client).await?, seeded_members());
    assert_eq!(member_writes(&client).await?, []);
    Ok(())
}
