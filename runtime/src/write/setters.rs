//! The `with_*` setters of generated structs, from one macro call per struct.

/// The documented `with_*` / `with_*_opt` setters of one field of a generated struct, as
/// one line in its `impl`: `writegraph::setter!(kind field "name" with_field / with_field_opt:
/// Type);` (the second setter only for kinds that have one). `name` is the SQL column (or
/// graph field) the docs name; left out, it is the field's name.
///
/// | Kind | Field type | `with_x(v)` sets | `with_x_opt(v)` sets |
/// |---|---|---|---|
/// | `required` | `T` | `v.into()` | — |
/// | `unset` | `Option<T>`, `None` is the DEFAULT | `Some(v.into())` | `v` |
/// | `null` | `Option<T>`, `None` is NULL | `Some(v.into())` | `v` |
/// | `null_default` | `Option<Option<T>>` | `Some(Some(v.into()))` | `Some(v)` |
/// | `patch` | `Option<T>`, `None` unchanged | `Some(v.into())` | `v` |
/// | `patch_null` | `Option<Option<T>>`, `None` unchanged | `Some(Some(v.into()))` | `Some(v)` |
/// | `one` | a required one-row step `T` | `v` | — |
/// | `maybe` | an optional one-row step `Option<T>` | `Some(v)` | `v` |
/// | `many` | the rows of a step `Vec<T>` | `v.into_iter().collect()` | — |
/// | `children` | an update graph's rows `Option<Vec<T>>` | `Some(v.into_iter().collect())` | — |
/// | `child` | an update graph's row `Option<Option<T>>` | `Some(Some(v))` | `Some(v)` |
/// | `root` | a column of an update graph's root patch (`self.root`) | the patch's `with_x(v)` | the patch's `with_x_opt(v)` |
#[doc(hidden)]
#[macro_export]
macro_rules! setter {
    ($kind:ident $f:ident $name:literal $with:ident $($rest:tt)*) => {
        $crate::setter!(@ $kind $f [$name] $with $($rest)*);
    };
    ($kind:ident $f:ident $with:ident $($rest:tt)*) => {
        $crate::setter!(@ $kind $f [stringify!($f)] $with $($rest)*);
    };
    (@ required $f:ident [$($name:tt)*] $with:ident : $t:ty) => {
        $crate::setter!(@with $f [$($name)*] $with $t, |v| v.into());
    };
    (@ unset $f:ident [$($name:tt)*] $with:ident / $with_opt:ident : $t:ty) => {
        $crate::setter!(@with $f [$($name)*] $with $t, |v| Some(v.into()));
        $crate::setter!(@opt $f [$($name)*] $with_opt $t, |v| v,
            "from an `Option`: sets the value, or leaves it unset with `None`.");
    };
    (@ null $f:ident [$($name:tt)*] $with:ident / $with_opt:ident : $t:ty) => {
        $crate::setter!(@with $f [$($name)*] $with $t, |v| Some(v.into()));
        $crate::setter!(@opt $f [$($name)*] $with_opt $t, |v| v,
            "from an `Option`: sets the value, or NULL with `None`.");
    };
    (@ null_default $f:ident [$($name:tt)*] $with:ident / $with_opt:ident : $t:ty) => {
        $crate::setter!(@with $f [$($name)*] $with $t, |v| Some(Some(v.into())));
        $crate::setter!(@opt $f [$($name)*] $with_opt $t, |v| Some(v),
            "from an `Option`: sets the value, or NULL with `None`.");
    };
    (@ patch $f:ident [$($name:tt)*] $with:ident / $with_opt:ident : $t:ty) => {
        $crate::setter!(@with $f [$($name)*] $with $t, |v| Some(v.into()));
        $crate::setter!(@opt $f [$($name)*] $with_opt $t, |v| v,
            "from an `Option`: `None` leaves it unchanged.");
    };
    (@ patch_null $f:ident [$($name:tt)*] $with:ident / $with_opt:ident : $t:ty) => {
        $crate::setter!(@with $f [$($name)*] $with $t, |v| Some(Some(v.into())));
        $crate::setter!(@opt $f [$($name)*] $with_opt $t, |v| Some(v),
            "to a value, or to NULL with `None`.");
    };
    (@ one $f:ident [$($name:tt)*] $with:ident : $t:ty) => {
        #[doc = concat!("Sets `", $($name)*, "`.")]
        pub fn $with(mut self, v: $t) -> Self {
            self.$f = v;
            self
        }
    };
    (@ maybe $f:ident [$($name:tt)*] $with:ident / $with_opt:ident : $t:ty) => {
        #[doc = concat!("Sets `", $($name)*, "`.")]
        pub fn $with(mut self, v: $t) -> Self {
            self.$f = Some(v);
            self
        }
        #[doc = concat!("Sets or clears `", $($name)*, "`.")]
        pub fn $with_opt(mut self, v: ::std::option::Option<$t>) -> Self {
            self.$f = v;
            self
        }
    };
    (@ many $f:ident [$($name:tt)*] $with:ident : $t:ty) => {
        #[doc = concat!("Sets `", $($name)*, "`.")]
        pub fn $with(mut self, v: impl ::std::iter::IntoIterator<Item = $t>) -> Self {
            self.$f = v.into_iter().collect();
            self
        }
    };
    (@ children $f:ident [$($name:tt)*] $with:ident : $t:ty) => {
        #[doc = concat!("Sets the children of `", $($name)*, "`.")]
        pub fn $with(mut self, v: impl ::std::iter::IntoIterator<Item = $t>) -> Self {
            self.$f = Some(v.into_iter().collect());
            self
        }
    };
    (@ child $f:ident [$($name:tt)*] $with:ident / $with_opt:ident : $t:ty) => {
        #[doc = concat!("Sets the children of `", $($name)*, "`.")]
        pub fn $with(mut self, v: $t) -> Self {
            self.$f = Some(Some(v));
            self
        }
        #[doc = concat!("Sets the child of `", $($name)*, "`, or deletes it with `None`.")]
        pub fn $with_opt(mut self, v: ::std::option::Option<$t>) -> Self {
            self.$f = Some(v);
            self
        }
    };
    (@ root $f:ident [$($name:tt)*] $with:ident / $with_opt:ident : $t:ty) => {
        #[doc = concat!("Sets the root's `", $($name)*, "`: `root.", stringify!($with), "(v)`.")]
        pub fn $with(mut self, v: impl ::std::convert::Into<$t>) -> Self {
            self.root = self.root.$with(v);
            self
        }
        #[doc = concat!("Sets the root's `", $($name)*, "` from an `Option`: `root.", stringify!($with_opt), "(v)`.")]
        pub fn $with_opt(mut self, v: ::std::option::Option<$t>) -> Self {
            self.root = self.root.$with_opt(v);
            self
        }
    };
    (@with $f:ident [$($name:tt)*] $with:ident $t:ty, |$v:ident| $set:expr) => {
        #[doc = concat!("Sets `", $($name)*, "`.")]
        pub fn $with(mut self, $v: impl ::std::convert::Into<$t>) -> Self {
            self.$f = $set;
            self
        }
    };
    (@opt $f:ident [$($name:tt)*] $with_opt:ident $t:ty, |$v:ident| $set:expr, $what:literal) => {
        #[doc = concat!("Sets `", $($name)*, "` ", $what)]
        pub fn $with_opt(mut self, $v: ::std::option::Option<$t>) -> Self {
            self.$f = $set;
            self
        }
    };
}

/// Every `with_*` setter of a generated struct, from one call in its `impl`: the fields of
/// [`setter!`](crate::setter) separated by `;`, so that the output lists each field once
/// and not a macro call per field. `writegraph::setters!(unset id with_id / with_id_opt:
/// i64; required sku with_sku: String);` is `setter!(unset id with_id / with_id_opt: i64);
/// setter!(required sku with_sku: String);`.
#[doc(hidden)]
#[macro_export]
macro_rules! setters {
    ($($kind:ident $f:ident $($name:literal)? $with:ident $(/ $with_opt:ident)? : $t:ty);* $(;)?) => {
        $($crate::setter!($kind $f $($name)? $with $(/ $with_opt)? : $t);)*
    };
}

/// The documented `new` of a generated struct from its field lists, so that the output
/// names each field once: `new!(row; into(id: i64, name: String) take() none(note) vec())`
/// is `pub fn new(id: impl Into<i64>, name: impl Into<String>) -> Self`, each `into` field
/// converted, each `take` field (a required one-row step, an item's row) as given, each
/// `none` field `None` and each `vec` field empty. The first word picks the doc: `row` (a
/// row type), `graph` (an insert graph) or `item` (an item type of a graph step).
#[doc(hidden)]
#[macro_export]
macro_rules! new {
    (@doc row) => {
        "A row with its required values; every other column is left unset (its DEFAULT, or NULL)."
    };
    (@doc graph) => {
        "A graph with the root's required values (and required one-row steps); every other part is left unset."
    };
    (@doc item) => {
        "The row, with the rows under it given only where they are required."
    };
    (
        $kind:ident; into($($f:ident: $t:ty),* $(,)?) take($($g:ident: $u:ty),* $(,)?)
        none($($n:ident),* $(,)?) vec($($v:ident),* $(,)?)
    ) => {
        #[doc = $crate::new!(@doc $kind)]
        #[allow(clippy::too_many_arguments)]
        pub fn new($($f: impl ::std::convert::Into<$t>,)* $($g: $u,)*) -> Self {
            Self {
                $($f: $f.into(),)*
                $($g,)*
                $($n: ::std::option::Option::None,)*
                $($v: ::std::vec::Vec::new(),)*
            }
        }
    };
}

#[cfg(test)]
mod tests {
    #[derive(Debug, Default, PartialEq)]
    struct Row {
        id: Option<i64>,
        sku: String,
        note: Option<String>,
        tags: Vec<String>,
    }

    impl Row {
        crate::new!(row; into(sku: String) take() none(id, note) vec(tags));
        crate::setters!(
            unset id with_id / with_id_opt: i64;
            required sku with_sku: String;
            null note "the_note" with_note / with_note_opt: String;
            many tags with_tags: String;
        );
    }

    #[test]
    fn new_and_setters_set_each_field_they_list() {
        let row = Row::new("a")
            .with_id_opt(Some(6))
            .with_id(7)
            .with_sku("b")
            .with_note_opt(None)
            .with_tags(["x".to_owned()]);
        assert_eq!(
            row,
            Row {
                id: Some(7),
                sku: "b".to_owned(),
                note: None,
                tags: vec!["x".to_owned()],
            }
        );
        assert_eq!(Row::new("a").with_note("n").note.as_deref(), Some("n"));
    }
}
