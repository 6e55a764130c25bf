//! Statement consts of generated code, each with its text written once.

/// A documented `&'static str` const of a statement, in an `impl`: the doc comment shows
/// the statement in a ```` ```sql ```` block, built by `concat!` from the same literals as
/// the const, so the text is written once and the doc and the const are the same bytes.
///
/// - `statement!(NAME, "doc" = "piece", "piece", ..);` is one statement.
/// - `statement!(A, "doc"; B, "doc" = "shared", ("only in A", "only in B"), "shared", ..);`
///   is two statements that share most of their text (a statement and its `RETURNING`
///   form): a bare piece is in both, a pair `(a, b)` gives A's piece and B's.
/// - `statement!(assigned "doc": START = "..", WHERE = ".." [, TAIL = ".."] [; ".."]);` is
///   an `UPDATE` whose assignments are added at run time, between `START` and `WHERE`; the
///   doc shows it with one placeholder assignment, followed by the last literal when there
///   is one (the rest of an update graph's statement, after its child patches' parts).
#[doc(hidden)]
#[macro_export]
macro_rules! statement {
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
    ($a:ident, $doc_a:literal; $b:ident, $doc_b:literal = $($piece:tt),+) => {
        $crate::statement!(@two [$a $doc_a] [$b $doc_b] [] [] $($piece)+);
    };
    (@two $na:tt $nb:tt [$($a:literal)*] [$($b:literal)*] ($x:literal, $y:literal) $($rest:tt)*) => {
        $crate::statement!(@two $na $nb [$($a)* $x] [$($b)* $y] $($rest)*);
    };
    (@two $na:tt $nb:tt [$($a:literal)*] [$($b:literal)*] $x:literal $($rest:tt)*) => {
        $crate::statement!(@two $na $nb [$($a)* $x] [$($b)* $x] $($rest)*);
    };
    (@two [$na:ident $da:literal] [$nb:ident $db:literal] [$($a:literal)*] [$($b:literal)*]) => {
        $crate::statement!($na, $da = $($a),*);
        $crate::statement!($nb, $db = $($b),*);
    };
}
