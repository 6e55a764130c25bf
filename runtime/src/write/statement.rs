//! Statement consts of generated code, each with its text written once.

/// A documented `&'static str` const of a statement, in an `impl`: the doc comment shows
/// the statement in a ```` ```sql ```` block, built by `concat!` from the same literals as
/// the const, so the text is written once and the doc and the const are the same bytes.
///
/// - `statement!(NAME, "doc" = "piece", "piece", ..);` is one statement.
/// - `statement!(A, "doc"; B, "doc" = "shared", ("only in A", "only in B"), "shared", ..);`
///   is two statements that share most of their text (a statement and its `RETURNING`
///   form): a bare piece is in both, a pair `(a, b)` gives A's piece and B's.
/// - `statement!(A, "doc"; B, "doc"; C, "doc"; D, "doc" = "shared", [..], (..), ..);` is
///   two such pairs, A and B, C and D, that share most of their text too (an upsert and
///   an insert that skips, each with its `RETURNING` form): a bare piece is in all four, a
///   pair `(a, b)` gives the piece of the first statement of each pair (A and C) and of
///   the second (B and D), a pair `[a, b]` gives the piece of the first pair (A and B) and
///   of the second (C and D), and `[(a, b), (c, d)]` gives each statement its own piece.
/// - `statement!(assigned patch: ..)` and `statement!(assigned graph: ..)` are that form
///   with the doc of a [`Patch`](crate::Patch)'s or an [`UpdateGraph`](crate::UpdateGraph)'s
///   statement.
/// - `statement!(upsert = "shared", [..], (..), ..);` is that form for the four statements
///   of an [`Upsert`](crate::Upsert) implementation, with their docs: `UPSERT_SQL` and
///   `UPSERT_RETURNING_SQL`, `INSERT_IGNORE_SQL` and `INSERT_IGNORE_RETURNING_SQL`.
/// - `statement!(graph = ..);` is that form for the two statements of an
///   [`InsertGraph`](crate::InsertGraph), `SQL` and `SQL_RETURNING`, with their docs, and
///   `statement!(graph_many "Graph", "table" = ..);` (or `; ..` for `SQL_MANY` alone) for
///   `SQL_MANY` and `SQL_MANY_RETURNING` of an [`InsertGraphMany`](crate::InsertGraphMany).
/// - A doc may be `[tokens]` instead of a literal: `concat!` of them.
/// - `statement!(assigned "doc": START = "..", WHERE = ".." [, TAIL = ".."] [; ".."]);` is
///   an `UPDATE` whose assignments are added at run time, between `START` and `WHERE`; the
///   doc shows it with one placeholder assignment, followed by the last literal when there
///   is one (the rest of an update graph's statement, after its child patches' parts).
#[doc(hidden)]
#[macro_export]
macro_rules! statement {
    (assigned patch: $($rest:tt)*) => {
        $crate::statement!(
            assigned "The start of the update; `assign` appends a `\"column\" = $n` for each field the patch sets, then `WHERE_SQL` (and `RETURNING_SQL`) follow.":
            $($rest)*
        );
    };
    (assigned graph: $($rest:tt)*) => {
        $crate::statement!(
            assigned "The start of the graph's statement: `assign_root` appends the root columns the graph sets, then `UPDATE_WHERE_SQL` and `TAIL_SQL` follow (or `SELECT_SQL` and `TAIL_SQL` when it sets none).":
            $($rest)*
        );
    };
    (graph = $($piece:tt),+) => {
        $crate::statement!(
            SQL, "The graph's statement: every step as a data-modifying CTE, one round trip. Returns the per-step counts.";
            SQL_RETURNING, "`SQL`, returning the root row before the per-step counts (the `*_returning` methods)." =
            $($piece),+
        );
    };
    (graph_many $graph:literal, $table:literal $sep:tt $($piece:tt),+) => {
        $crate::statement!(@many [concat!(
            "Any number of `", $graph, "` graphs in one statement: each step's rows of every graph in one array per column, each row joined to its own graph's rows by ordinal. Returns the number of `", $table, "` rows, then the per-step counts."
        )] $sep $($piece),+);
    };
    (@many $doc:tt = $($piece:tt),+) => {
        $crate::statement!(
            SQL_MANY, $doc;
            SQL_MANY_RETURNING, "`SQL_MANY`, returning every root row in input order, each followed by the per-step counts." =
            $($piece),+
        );
    };
    (@many $doc:tt ; $($sql:literal),+) => {
        $crate::statement!(SQL_MANY, $doc = $($sql),+);
    };
    (assigned $doc:literal: $start:ident = $s:literal, $where_:ident = $w:literal $(, $tail:ident = $t:literal)? $(; $shown:literal)?) => {
        #[doc = concat!($doc, "\n\n```sql\n", $s, "\"column\" = $n, ...", $w, $($t,)? $($shown,)? "\n```")]
        const $start: &'static str = $s;
        const $where_: &'static str = $w;
        $(const $tail: &'static str = $t;)?
    };
    ($name:ident, $doc:literal = $($sql:literal),+) => {
        #[doc = concat!($doc, "\n\n```sql\n", $($sql,)+ "\n```")]
        const $name: &'static str = concat!($($sql),+);
    };
    ($name:ident, [$($doc:tt)*] = $($sql:literal),+) => {
        #[doc = concat!($($doc)*, "\n\n```sql\n", $($sql,)+ "\n```")]
        const $name: &'static str = concat!($($sql),+);
    };
    ($a:ident, $doc_a:tt; $b:ident, $doc_b:tt = $($piece:tt),+) => {
        $crate::statement!(@two [$a $doc_a] [$b $doc_b] [] [] $($piece)+);
    };
    (@two $na:tt $nb:tt [$($a:literal)*] [$($b:literal)*] ($x:literal, $y:literal) $($rest:tt)*) => {
        $crate::statement!(@two $na $nb [$($a)* $x] [$($b)* $y] $($rest)*);
    };
    (@two $na:tt $nb:tt [$($a:literal)*] [$($b:literal)*] $x:literal $($rest:tt)*) => {
        $crate::statement!(@two $na $nb [$($a)* $x] [$($b)* $x] $($rest)*);
    };
    (@two [$na:ident $da:tt] [$nb:ident $db:tt] [$($a:literal)*] [$($b:literal)*]) => {
        $crate::statement!($na, $da = $($a),*);
        $crate::statement!($nb, $db = $($b),*);
    };
    (upsert = $($piece:tt),+) => {
        $crate::statement!(
            UPSERT_SQL, "Inserts rows, or updates the row with the same conflict key.";
            UPSERT_RETURNING_SQL, "`UPSERT_SQL` returning every column.";
            INSERT_IGNORE_SQL, "Inserts rows, skipping each row whose conflict key is stored or repeats an earlier row's.";
            INSERT_IGNORE_RETURNING_SQL, "`INSERT_IGNORE_SQL` returning every column of the rows it inserted." =
            $($piece),+
        );
    };
    ($a:ident, $doc_a:literal; $b:ident, $doc_b:literal; $c:ident, $doc_c:literal; $d:ident, $doc_d:literal = $($piece:tt),+) => {
        $crate::statement!(@four [[$a $doc_a] [$b $doc_b] [$c $doc_c] [$d $doc_d]] [] [] [] [] $($piece)+);
    };
    (@four $n:tt [$($a:literal)*] [$($b:literal)*] [$($c:literal)*] [$($d:literal)*] ($x:literal, $y:literal) $($rest:tt)*) => {
        $crate::statement!(@four $n [$($a)* $x] [$($b)* $y] [$($c)* $x] [$($d)* $y] $($rest)*);
    };
    (@four $n:tt [$($a:literal)*] [$($b:literal)*] [$($c:literal)*] [$($d:literal)*] [($w:literal, $x:literal), ($y:literal, $z:literal)] $($rest:tt)*) => {
        $crate::statement!(@four $n [$($a)* $w] [$($b)* $x] [$($c)* $y] [$($d)* $z] $($rest)*);
    };
    (@four $n:tt [$($a:literal)*] [$($b:literal)*] [$($c:literal)*] [$($d:literal)*] [$x:literal, $y:literal] $($rest:tt)*) => {
        $crate::statement!(@four $n [$($a)* $x] [$($b)* $x] [$($c)* $y] [$($d)* $y] $($rest)*);
    };
    (@four $n:tt [$($a:literal)*] [$($b:literal)*] [$($c:literal)*] [$($d:literal)*] $x:literal $($rest:tt)*) => {
        $crate::statement!(@four $n [$($a)* $x] [$($b)* $x] [$($c)* $x] [$($d)* $x] $($rest)*);
    };
    (@four [[$na:ident $da:literal] [$nb:ident $db:literal] [$nc:ident $dc:literal] [$nd:ident $dd:literal]] [$($a:literal)*] [$($b:literal)*] [$($c:literal)*] [$($d:literal)*]) => {
        $crate::statement!($na, $da = $($a),*);
        $crate::statement!($nb, $db = $($b),*);
        $crate::statement!($nc, $dc = $($c),*);
        $crate::statement!($nd, $dd = $($d),*);
    };
}

#[cfg(test)]
mod tests {
    struct Pair;
    impl Pair {
        crate::statement!(A, "a"; B, "b" = "INSERT", (" x", " y"), ";");
    }

    struct Upsert;
    impl Upsert {
        crate::statement!(
            upsert = "INSERT .. DO ",
            ["UPDATE SET a = 1", "NOTHING"],
            ("", " RETURNING a")
        );
    }

    struct Whole;
    impl Whole {
        crate::statement!(upsert = "INSERT", [(" u", " ur"), (" i", " ir")], ";");
    }

    struct Graph;
    impl Graph {
        crate::statement!(graph = "WITH root AS (..", (")", ") RETURNING *"));
        crate::statement!(graph_many "Graph", "t" = "WITH many", ("", " RETURNING *"));
    }

    struct One;
    impl One {
        crate::statement!(graph_many "One", "t"; "WITH ", "many");
    }

    #[test]
    fn the_graph_forms_name_the_statements_of_insert_graphs() {
        assert_eq!(
            [
                Graph::SQL,
                Graph::SQL_RETURNING,
                Graph::SQL_MANY,
                Graph::SQL_MANY_RETURNING
            ],
            [
                "WITH root AS (..)",
                "WITH root AS (..) RETURNING *",
                "WITH many",
                "WITH many RETURNING *"
            ]
        );
        assert_eq!(One::SQL_MANY, "WITH many");
    }

    #[test]
    fn a_pair_takes_each_statements_own_piece_of_a_parenthesized_pair() {
        assert_eq!((Pair::A, Pair::B), ("INSERT x;", "INSERT y;"));
    }

    #[test]
    fn the_upsert_form_gives_the_four_statements_of_upsert() {
        assert_eq!(
            [
                Upsert::UPSERT_SQL,
                Upsert::UPSERT_RETURNING_SQL,
                Upsert::INSERT_IGNORE_SQL,
                Upsert::INSERT_IGNORE_RETURNING_SQL,
            ],
            [
                "INSERT .. DO UPDATE SET a = 1",
                "INSERT .. DO UPDATE SET a = 1 RETURNING a",
                "INSERT .. DO NOTHING",
                "INSERT .. DO NOTHING RETURNING a",
            ]
        );
        assert_eq!(
            [
                Whole::UPSERT_SQL,
                Whole::UPSERT_RETURNING_SQL,
                Whole::INSERT_IGNORE_SQL,
                Whole::INSERT_IGNORE_RETURNING_SQL,
            ],
            ["INSERT u;", "INSERT ur;", "INSERT i;", "INSERT ir;"]
        );
    }
}
