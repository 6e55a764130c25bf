//! PostgreSQL's limit on one statement's values, checked while tokio-postgres encodes them,
//! before anything is sent.
//!
//! A statement's values all travel in one Bind message, which PostgreSQL reads whole into
//! memory and refuses past [`MAX_STATEMENT_BYTES`] (it closes the connection, as for a
//! broken client); one value it stores (an array of a batch's column) may take no more than
//! 1 GiB either. Generated writes bind each column of a batch as one array, so a batch whose
//! values add up past the limit would upload up to a gigabyte and then fail with an error
//! that says little. Instead, every parameter of a write is bound through a [`Counted`]
//! wrapper: it lets the value encode itself into tokio-postgres's buffer, as it would unwrapped,
//! then adds the bytes it wrote to the statement's [`Budget`]. Past the limit the encoding
//! fails, which tokio-postgres reports as an error of the parameter before it writes any
//! message to the connection (it encodes the whole Bind message first, then sends it), and
//! the write maps that error to [`ValidationKind::TooLarge`], saying how many rows or graphs
//! fit in one call.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use bytes::BytesMut;
use tokio_postgres::types::{Format, IsNull, Kind, ToSql, Type};
use tokio_postgres::Error as PgError;

use super::Param;
use crate::{Error, ValidationError, ValidationKind};

/// PostgreSQL's `MaxAllocSize`, 1 GiB - 1 byte: the most it allocates at once, for one
/// value it stores as for one message it reads.
const MAX_ALLOC_SIZE: usize = (1 << 30) - 1;

/// The most bytes PostgreSQL reads as one message from a client, its length word included
/// (`PQ_LARGE_MESSAGE_LIMIT`, `MaxAllocSize - 1`: 1 GiB - 2 bytes). All values of a statement
/// travel in one Bind message, so together they must fit; a write whose values do not is
/// [`ValidationKind::TooLarge`], and nothing of it is sent.
pub const MAX_STATEMENT_BYTES: usize = MAX_ALLOC_SIZE - 1;

/// The bytes of a Bind message besides its values: its length word (4), the portal's and
/// the statement's names with their NUL bytes (2, and the name, counted here up to 64
/// bytes: tokio-postgres names statements `s<number>`), the two counts of values and
/// formats (4) and the one result format, counted (4): 15 + 64.
const BIND_BYTES: usize = 79;

/// The bytes each value adds to a Bind message besides its encoding: its length word (4)
/// and its format code (2).
const VALUE_BYTES: usize = 6;

/// The share of the limit a suggested batch fills, in tenths: the rows of a batch are not
/// all of one size, and arrays of text take a few bytes more per element in memory.
const SUGGESTED_TENTHS: u128 = 9;

/// The limits a statement's values are checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Limits {
    /// The most bytes of a Bind message: [`MAX_STATEMENT_BYTES`].
    statement: usize,
    /// The most bytes one value takes as PostgreSQL stores it: `MaxAllocSize`.
    value: usize,
}

/// PostgreSQL's limits.
const POSTGRES: Limits = Limits {
    statement: MAX_STATEMENT_BYTES,
    value: MAX_ALLOC_SIZE,
};

/// What one encoding of a statement's values has taken so far: the [`Counted`] values of
/// one statement share it, and its first value starts it afresh (a statement sent again, as
/// a statement cache does after `DEALLOCATE ALL`, encodes its values again).
#[derive(Debug)]
pub(crate) struct Budget {
    /// The limits, PostgreSQL's but in tests.
    limits: Limits,
    /// The Bind message's bytes so far ([`BIND_BYTES`], then each value's).
    used: AtomicUsize,
    /// The value (from 0) that takes the most bytes as PostgreSQL stores it.
    largest: AtomicUsize,
    /// Its encoding's bytes.
    largest_bytes: AtomicUsize,
    /// The most bytes it takes as PostgreSQL stores it ([`stored_bytes`]).
    largest_stored: AtomicUsize,
}

impl Default for Budget {
    fn default() -> Self {
        Self::with_limits(POSTGRES)
    }
}

impl Budget {
    /// A budget of `limits`.
    const fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            used: AtomicUsize::new(0),
            largest: AtomicUsize::new(0),
            largest_bytes: AtomicUsize::new(0),
            largest_stored: AtomicUsize::new(0),
        }
    }

    /// Starts an encoding of the statement's values.
    fn start(&self) {
        self.used.store(BIND_BYTES, Relaxed);
        self.largest.store(0, Relaxed);
        self.largest_bytes.store(0, Relaxed);
        self.largest_stored.store(0, Relaxed);
    }

    /// Counts value `index`, whose encoding took `bytes` and takes up to `stored` bytes
    /// as PostgreSQL stores it; whether the statement is now over the limit.
    fn add(&self, index: usize, bytes: usize, stored: usize) -> bool {
        let used = self
            .used
            .load(Relaxed)
            .saturating_add(VALUE_BYTES)
            .saturating_add(bytes);
        self.used.store(used, Relaxed);
        let mut largest_stored = self.largest_stored.load(Relaxed);
        if stored > largest_stored || index == 0 {
            self.largest.store(index, Relaxed);
            self.largest_bytes.store(bytes, Relaxed);
            self.largest_stored.store(stored, Relaxed);
            largest_stored = stored;
        }
        used > self.limits.statement || largest_stored > self.limits.value
    }

    /// The error of a statement over the limit.
    fn too_large(&self) -> TooLarge {
        TooLarge {
            limits: self.limits,
            bytes: self.used.load(Relaxed),
            largest: self.largest.load(Relaxed),
            largest_bytes: self.largest_bytes.load(Relaxed),
            largest_stored: self.largest_stored.load(Relaxed),
        }
    }
}

/// A value of a statement, encoded as it is and counted in the statement's [`Budget`].
///
/// Once the statement is over the limit, the values after the one that crossed it are
/// still encoded, so that the error knows the size of the whole statement, but their bytes
/// are dropped again at once; the last value fails the encoding. So a statement whose
/// values are counted must bind them all, in order (generated writes do, as tokio-postgres
/// does).
pub(crate) struct Counted<'a> {
    /// The value.
    value: &'a (dyn ToSql + Sync),
    /// The statement's budget.
    budget: &'a Budget,
    /// Its position among the statement's values, from 0.
    index: usize,
    /// It is the statement's last value.
    last: bool,
}

impl fmt::Debug for Counted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl ToSql for Counted<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        self.to_sql_checked(ty, out)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn to_sql_checked(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        if self.index == 0 {
            self.budget.start();
        }
        let start = out.len();
        let is_null = self.value.to_sql_checked(ty, out)?;
        let bytes = out.len() - start;
        let stored = stored_bytes(ty, bytes, &out[start..], self.budget.limits.value);
        if !self.budget.add(self.index, bytes, stored) {
            return Ok(is_null);
        }
        if !self.last {
            // The message will not be sent: keep only the count.
            out.truncate(start);
            return Ok(IsNull::Yes);
        }
        // Nothing of the message is sent. Drop the bytes of the values before, up to a
        // gigabyte, which the client's buffer would keep for the connection's life.
        *out = BytesMut::new();
        Err(Box::new(self.budget.too_large()))
    }

    fn encode_format(&self, ty: &Type) -> Format {
        self.value.encode_format(ty)
    }
}

/// The most bytes a value of `ty` that PostgreSQL receives encoded in `bytes` bytes,
/// `encoded`, takes as it stores it: its encoding's, except for an array of values of
/// varying length, whose elements PostgreSQL aligns to 4 bytes (up to 3 more each) and whose
/// NULLs it marks in a bitmap. Read only when that could pass `limit`, from the array's
/// header.
fn stored_bytes(ty: &Type, bytes: usize, encoded: &[u8], limit: usize) -> usize {
    // Every element takes at least 4 bytes of the encoding (its length), so an array takes
    // less than 1.8 times its encoding in memory: up to half the limit, any array fits.
    if bytes <= limit / 2 {
        return bytes;
    }
    let Kind::Array(member) = ty.kind() else {
        return bytes;
    };
    if fixed_length(member) {
        // An element takes its length and no more in memory, less than its encoding.
        return bytes;
    }
    let elements = array_elements(encoded);
    bytes
        .saturating_add(elements.saturating_mul(3))
        .saturating_add(elements.div_ceil(8))
        .saturating_add(16)
}

/// Whether values of `ty` have one length, which PostgreSQL stores in no more bytes than
/// their encoding takes less its length word.
fn fixed_length(ty: &Type) -> bool {
    [
        Type::BOOL,
        Type::CHAR,
        Type::INT2,
        Type::INT4,
        Type::INT8,
        Type::FLOAT4,
        Type::FLOAT8,
        Type::OID,
        Type::DATE,
        Type::TIME,
        Type::TIMESTAMP,
        Type::TIMESTAMPTZ,
        Type::INTERVAL,
        Type::UUID,
        Type::MACADDR,
        Type::MACADDR8,
        Type::POINT,
        Type::MONEY,
    ]
    .contains(ty)
}

/// The number of elements of an array in PostgreSQL's binary encoding: the product of its
/// dimensions' lengths, which follow its number of dimensions, its NULL flag and its
/// element type.
fn array_elements(encoded: &[u8]) -> usize {
    let word = |at: usize| {
        encoded
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, |b| usize::try_from(i32::from_be_bytes(b)).unwrap_or(0))
    };
    let dimensions = word(0);
    if dimensions == 0 {
        return 0;
    }
    (0..dimensions).fold(1_usize, |n, d| n.saturating_mul(word(12 + 8 * d)))
}

/// Each of `params` wrapped, counted in `budget`: the values of one statement.
pub(crate) fn count<'a>(budget: &'a Budget, params: &[Param<'a>]) -> Vec<Counted<'a>> {
    let last = params.len().saturating_sub(1);
    params
        .iter()
        .enumerate()
        .map(|(index, (value, _))| Counted {
            value: *value,
            budget,
            index,
            last: index == last,
        })
        .collect()
}

/// The wrapped values as parameters, each with its type from `params`.
pub(crate) fn params<'a>(counted: &'a [Counted<'a>], params: &[Param<'a>]) -> Vec<Param<'a>> {
    counted
        .iter()
        .zip(params)
        .map(|(value, (_, ty))| (value as &(dyn ToSql + Sync), ty.clone()))
        .collect()
}

/// `counted!(let name = params);` binds `name` to the parameters `params` (a `&[Param]`),
/// each wrapped in a [`Counted`] of one [`Budget`], which live to the end of the block.
macro_rules! counted {
    (let $name:ident = $params:expr) => {
        $crate::write::limit::counted!(let $name = $params, $crate::write::limit::Budget::default());
    };
    (let $name:ident = $params:expr, $budget:expr) => {
        let budget: $crate::write::limit::Budget = $budget;
        let params: &[$crate::write::Param<'_>] = $params;
        let counted = $crate::write::limit::count(&budget, params);
        let $name = $crate::write::limit::params(&counted, params);
    };
}
pub(crate) use counted;

/// Why a statement's values were refused while they were encoded: the error tokio-postgres
/// reports as the cause of its own (`error serializing parameter ..`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TooLarge {
    /// The limits it is over.
    limits: Limits,
    /// The bytes of the Bind message, every value counted.
    bytes: usize,
    /// The value (from 0) that takes the most bytes as PostgreSQL stores it.
    largest: usize,
    /// Its encoding's bytes.
    largest_bytes: usize,
    /// The most bytes it takes as PostgreSQL stores it.
    largest_stored: usize,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what())
    }
}

impl std::error::Error for TooLarge {}

/// What a statement refused as [`TooLarge`] writes, as its error names it.
#[derive(Clone, Copy)]
pub(crate) enum Writes<'a> {
    /// `count` rows or graphs (`noun`) of a batch, written by `writer` (a graph's type, a
    /// table).
    Batch {
        /// The graph's type or the table (quoted in backticks).
        writer: &'a str,
        /// The rows or graphs of the call.
        count: usize,
        /// `rows` or `graphs`.
        noun: &'static str,
    },
    /// One graph or row, by `writer`; `label` names each parameter (from 0) it can.
    One {
        /// The graph's type or the table (quoted in backticks).
        writer: &'a str,
        /// What parameter `index` holds (`column `body` of step `graph:root:posts``).
        label: &'a dyn Fn(usize) -> Option<String>,
    },
}

impl TooLarge {
    /// Whether the largest value alone is over the limit of one value.
    fn value_over(&self) -> bool {
        self.largest_stored > self.limits.value
    }

    /// What is over the limit, and by how much.
    fn what(&self) -> String {
        let n = self.largest + 1;
        if self.value_over() {
            format!(
                "parameter ${n} takes {} bytes, up to {} as PostgreSQL stores it, more than the \
                 {} bytes (1 GiB) it stores as one value",
                self.largest_bytes, self.largest_stored, self.limits.value
            )
        } else {
            format!(
                "the statement's values take {} bytes, more than the {} bytes (1 GiB) \
                 PostgreSQL reads as one statement's values; the largest, parameter ${n}, \
                 takes {}",
                self.bytes, self.limits.statement, self.largest_bytes
            )
        }
    }

    /// How many of the `count` rows or graphs of a batch fit in one call: `count` scaled
    /// by the limit over the size, on the measure that is over, filled to 90%, rounded
    /// down.
    fn fitting(&self, count: usize) -> usize {
        let (limit, size) = if self.value_over() {
            (self.limits.value, self.largest_stored)
        } else {
            (self.limits.statement, self.bytes)
        };
        let fit = count as u128 * limit as u128 * SUGGESTED_TENTHS / (10 * size.max(1) as u128);
        usize::try_from(fit).unwrap_or(usize::MAX).min(count)
    }

    /// The validation error of a write of `writes` refused as too large.
    pub(crate) fn error(&self, writes: Writes<'_>) -> Error {
        let message = match writes {
            Writes::Batch {
                writer,
                count,
                noun,
            } => {
                let advice = match self.fitting(count) {
                    0 => format!(
                        "even one of these {noun} comes near the limit: write its largest \
                         values in parts"
                    ),
                    fit => format!("write at most {fit} {noun} per call"),
                };
                format!(
                    "{writer}: {count} {noun} in one statement: {}; nothing was sent: {advice}",
                    self.what()
                )
            }
            Writes::One { writer, label } => {
                let what = self.what();
                let what = match label(self.largest) {
                    Some(label) => what.replacen(
                        &format!("parameter ${}", self.largest + 1),
                        &format!("{label} (parameter ${})", self.largest + 1),
                        1,
                    ),
                    None => what,
                };
                format!(
                    "{writer}: {what}; nothing was sent: write fewer rows in that step, or \
                     smaller values"
                )
            }
        };
        Error::Validation(ValidationError::new(ValidationKind::TooLarge, message))
    }
}

/// The [`TooLarge`] a statement's error reports, if it does.
pub(crate) fn too_large(error: &PgError) -> Option<&TooLarge> {
    std::error::Error::source(error)?.downcast_ref::<TooLarge>()
}

/// `error` of a statement of `writes`: [`ValidationKind::TooLarge`] when its values were
/// refused as too large, else [`Error::Db`].
pub(crate) fn statement_error(error: PgError, writes: Writes<'_>) -> Error {
    match too_large(&error) {
        Some(too_large) => too_large.error(writes),
        None => Error::from(error),
    }
}

/// What parameter `index` (from 0) of `sql`, a patch's UPDATE, holds: the column it
/// assigns.
pub(crate) fn assigned_label(sql: &str, index: usize) -> Option<String> {
    assigned_column(sql, index).map(|column| format!("column `{column}`"))
}

/// The column that parameter `index` (from 0) of `sql` assigns (`"body" = $3`), unquoted,
/// if it is an assignment: the SET list of a patch is built at run time.
pub(crate) fn assigned_column(sql: &str, index: usize) -> Option<String> {
    let mark = format!(" = ${}", index + 1);
    let at = sql.match_indices(&mark).map(|(at, _)| at).find(|&at| {
        !sql[at + mark.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })?;
    let before = &sql.as_bytes()[..at];
    let (&b'"', quoted) = before.split_last()? else {
        return None;
    };
    // Back to the opening quote, past doubled quotes inside the name.
    let mut end = quoted.len();
    loop {
        let open = quoted[..end].iter().rposition(|&b| b == b'"')?;
        if open > 0 && quoted[open - 1] == b'"' {
            end = open - 1;
            continue;
        }
        let name = std::str::from_utf8(&quoted[open + 1..]).ok()?;
        return Some(name.replace("\"\"", "\""));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Limits of a few kilobytes, for values the tests can afford.
    const SMALL: Limits = Limits {
        statement: 10_000,
        value: 8_000,
    };

    /// Encodes `params` counted against `limits`, as tokio-postgres does: each after the
    /// other in one buffer. Returns the error, if any, and what is left in the buffer.
    fn encode(params: &[Param<'_>], limits: Limits) -> (Result<(), TooLarge>, usize) {
        counted!(let wrapped = params, Budget::with_limits(limits));
        let mut out = BytesMut::new();
        for (value, ty) in &wrapped {
            if let Err(e) = value.to_sql_checked(ty, &mut out) {
                let too_large = e.downcast_ref::<TooLarge>().cloned();
                return (Err(too_large.expect("a TooLarge error")), out.len());
            }
        }
        (Ok(()), out.len())
    }

    #[test]
    fn values_under_the_limit_encode_as_they_would_unwrapped() {
        let (id, names) = (7_i64, vec!["a".to_owned(), "bc".to_owned()]);
        let params: [Param<'_>; 2] = [(&id, Type::INT8), (&names, Type::TEXT_ARRAY)];
        counted!(let wrapped = &params);
        let (mut counted_out, mut plain_out) = (BytesMut::new(), BytesMut::new());
        for ((value, ty), (plain, _)) in wrapped.iter().zip(&params) {
            assert!(value.to_sql_checked(ty, &mut counted_out).is_ok());
            assert!(plain.to_sql_checked(ty, &mut plain_out).is_ok());
        }
        assert_eq!(counted_out, plain_out);
    }

    #[test]
    fn a_statement_over_the_limit_fails_at_its_last_value_having_counted_them_all() {
        // Three values of 4,000 bytes: the third crosses the limit, the fourth is counted.
        let big = "x".repeat(4_000);
        let params: [Param<'_>; 4] = [
            (&big, Type::TEXT),
            (&big, Type::TEXT),
            (&big, Type::TEXT),
            (&1_i32, Type::INT4),
        ];
        let (result, left) = encode(&params, SMALL);
        let Err(error) = result else {
            panic!("over the limit, encoded");
        };
        assert_eq!(
            error.bytes,
            BIND_BYTES + 3 * (VALUE_BYTES + 4_000) + VALUE_BYTES + 4
        );
        assert_eq!((error.largest, error.largest_bytes), (0, 4_000));
        assert!(!error.value_over());
        // The buffer is dropped, not kept at the size of the values before.
        assert_eq!(left, 0);
        // Two of them fit.
        assert_eq!(encode(&params[1..3], SMALL).0, Ok(()));
    }

    #[test]
    fn an_encoding_starts_its_count_afresh() {
        let big = "x".repeat(6_000);
        let params: [Param<'_>; 1] = [(&big, Type::TEXT)];
        counted!(let wrapped = &params, Budget::with_limits(SMALL));
        for _ in 0..3 {
            let mut out = BytesMut::new();
            assert!(wrapped[0].0.to_sql_checked(&Type::TEXT, &mut out).is_ok());
        }
    }

    /// The encoding of a one-dimensional array of `elements` elements of type `oid`, its
    /// header only.
    fn array_header(elements: i32, oid: u32) -> Vec<u8> {
        [1_i32.to_be_bytes(), 0_i32.to_be_bytes(), oid.to_be_bytes()]
            .into_iter()
            .chain([elements.to_be_bytes(), 1_i32.to_be_bytes()])
            .flatten()
            .collect()
    }

    #[test]
    fn an_array_of_short_text_counts_its_alignment_in_memory() {
        // 150 million one-byte strings: 5 bytes each encoded, 8 in memory.
        let header = array_header(150_000_000, 25);
        assert_eq!(array_elements(&header), 150_000_000);
        let bytes = 20 + 150_000_000 * 5;
        let stored = stored_bytes(&Type::TEXT_ARRAY, bytes, &header, MAX_ALLOC_SIZE);
        assert!(
            bytes < MAX_ALLOC_SIZE && stored > MAX_ALLOC_SIZE,
            "{stored}"
        );
        assert_eq!(stored, bytes + 450_000_000 + 18_750_000 + 16);
        // Integers take less in memory than encoded; small arrays are not read.
        let ints = array_header(100_000_000, 20);
        let bytes = 20 + 100_000_000 * 12;
        assert_eq!(
            stored_bytes(&Type::INT8_ARRAY, bytes, &ints, MAX_ALLOC_SIZE),
            bytes
        );
        assert_eq!(
            stored_bytes(&Type::TEXT_ARRAY, 1_000, &header, MAX_ALLOC_SIZE),
            1_000
        );
        // An array whose stored size is over is refused, though its encoding fits.
        let short: Vec<&str> = vec!["x"; 1_000];
        let params: [Param<'_>; 1] = [(&short, Type::TEXT_ARRAY)];
        let (result, _) = encode(&params, SMALL);
        let Err(error) = result else {
            panic!("over the limit of one value, encoded");
        };
        assert!(error.value_over());
        assert_eq!(error.largest_bytes, 20 + 5 * 1_000);
        assert!(error.bytes < SMALL.statement);
    }

    /// A statement of twice the limit, its third value the largest.
    fn twice_over() -> TooLarge {
        TooLarge {
            limits: POSTGRES,
            bytes: 2 * MAX_STATEMENT_BYTES,
            largest: 2,
            largest_bytes: 1 << 29,
            largest_stored: 1 << 29,
        }
    }

    #[test]
    fn a_batch_suggests_the_rows_that_fit_filled_to_nine_tenths() {
        let over = twice_over();
        assert_eq!(over.fitting(1_000), 450);
        assert_eq!(over.fitting(3), 1);
        assert_eq!(over.fitting(1), 0);
        let value = TooLarge {
            largest_stored: 4 * MAX_ALLOC_SIZE,
            ..over.clone()
        };
        assert!(value.value_over());
        assert_eq!(value.fitting(1_000), 225);
        let error = over.error(Writes::Batch {
            writer: "NewPostGraph",
            count: 1_000,
            noun: "graphs",
        });
        assert_eq!(error.validation_kind(), Some(ValidationKind::TooLarge));
        assert_eq!(
            error.to_string(),
            "invalid write: NewPostGraph: 1000 graphs in one statement: the statement's values \
             take 2147483644 bytes, more than the 1073741822 bytes (1 GiB) PostgreSQL reads as \
             one statement's values; the largest, parameter $3, takes 536870912; nothing was \
             sent: write at most 450 graphs per call"
        );
        let one = over.error(Writes::Batch {
            writer: "`public.posts`",
            count: 1,
            noun: "rows",
        });
        assert!(one.to_string().ends_with(
            "even one of these rows comes near the limit: write its largest values in parts"
        ));
    }

    #[test]
    fn one_graph_names_the_step_and_column_of_its_largest_value() {
        let label = |index: usize| {
            (index == 2).then(|| "column `body` of step `graph:has_many:comments`".to_owned())
        };
        let error = twice_over().error(Writes::One {
            writer: "NewPostGraph",
            label: &label,
        });
        assert_eq!(
            error.to_string(),
            "invalid write: NewPostGraph: the statement's values take 2147483644 bytes, more \
             than the 1073741822 bytes (1 GiB) PostgreSQL reads as one statement's values; the \
             largest, column `body` of step `graph:has_many:comments` (parameter $3), takes \
             536870912; nothing was sent: write fewer rows in that step, or smaller values"
        );
    }

    #[test]
    fn an_assignment_names_its_column() {
        let sql = r#"UPDATE "t" SET "a" = $2, "say ""hi""" = $12::"e", "b" = $1 WHERE "id" = $1"#;
        assert_eq!(assigned_column(sql, 1).as_deref(), Some("a"));
        assert_eq!(assigned_column(sql, 11).as_deref(), Some("say \"hi\""));
        assert_eq!(assigned_column(sql, 0).as_deref(), Some("b"));
        assert_eq!(assigned_column(sql, 2), None);
    }
}
