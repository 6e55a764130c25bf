//! Names: quoting SQL identifiers the way PostgreSQL does, and Rust names for them.

mod singular;

/// PostgreSQL keywords that `quote_ident` quotes: every keyword that is not unreserved
/// (`SELECT word FROM pg_get_keywords() WHERE catcode <> 'U'` on PostgreSQL 15).
const QUOTED_KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

/// Quotes a SQL identifier unconditionally, doubling embedded quotes. Generated SQL quotes
/// every identifier this way so that no name can change the statement's meaning.
pub fn quote_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for ch in name.chars() {
        if ch == '"' {
            out.push('"');
        }
        out.push(ch);
    }
    out.push('"');
    out
}

/// Quotes a SQL identifier only where PostgreSQL's `quote_ident` would: names that are not
/// all lowercase letters, digits and underscores (not starting with a digit), and keywords
/// that are not unreserved. Used where our output must match PostgreSQL's own spelling.
pub fn quote_ident_if_needed(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain && QUOTED_KEYWORDS.binary_search(&name).is_err() {
        name.to_owned()
    } else {
        quote_ident(name)
    }
}

/// Rust keywords that cannot be field names as they are (`r#` does not work for all of
/// them, so generated names get a trailing `_` instead).
const RUST_KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "union", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Words of a SQL name, split the way `heck` splits them: at anything that is not an ASCII
/// letter or digit, at a lower-to-upper case change (`OrderLine` → `order`, `line`), and
/// before the last capital of a run of capitals followed by a small letter (`HTTPStatus` →
/// `http`, `status`); digits go with the letters before them (`md5Hash` → `md5`, `hash`).
/// Only ASCII goes into Rust names: other characters (`²`, `①`) are not all valid in Rust
/// identifiers, and those that are draw lints (`uncommon_codepoints`, confusables).
fn words(name: &str) -> Vec<String> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mode {
        Boundary,
        Lower,
        Upper,
    }
    let mut words = Vec::new();
    for run in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let chars: Vec<char> = run.chars().collect();
        let mut current = String::new();
        let mut mode = Mode::Boundary;
        for (i, &ch) in chars.iter().enumerate() {
            current.push(ch.to_ascii_lowercase());
            let Some(&next) = chars.get(i + 1) else {
                break;
            };
            let next_mode = if ch.is_ascii_lowercase() {
                Mode::Lower
            } else if ch.is_ascii_uppercase() {
                Mode::Upper
            } else {
                mode
            };
            if next_mode == Mode::Lower && next.is_ascii_uppercase() {
                words.push(std::mem::take(&mut current));
                mode = Mode::Boundary;
            } else if mode == Mode::Upper && ch.is_ascii_uppercase() && next.is_ascii_lowercase() {
                current.pop();
                words.push(std::mem::take(&mut current));
                current.push(ch.to_ascii_lowercase());
                mode = Mode::Boundary;
            } else {
                mode = next_mode;
            }
        }
        if !current.is_empty() {
            words.push(current);
        }
    }
    words
}

/// A Rust field or function name for a SQL name: `snake_case`, keywords suffixed with `_`,
/// a leading digit prefixed with `_` (`user name` → `user_name`, `type` → `type_`).
pub fn rust_field_name(name: &str) -> String {
    let mut out = words(name).join("_");
    if out.is_empty() {
        out.push_str("column");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if RUST_KEYWORDS.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// The name a field's setters are built from (`with_{stem}`, `with_{stem}_opt`): the field
/// name without the `_` a keyword got (`type_` → `type`), since `with_type` is no keyword.
pub fn setter_stem(field: &str) -> &str {
    match field.strip_suffix('_') {
        Some(stem) if RUST_KEYWORDS.contains(&stem) => stem,
        _ => field,
    }
}

/// A Rust type or variant name for a SQL name: `UpperCamelCase` (`order_status` →
/// `OrderStatus`, `"in progress"` → `InProgress`).
pub fn rust_type_name(name: &str) -> String {
    let mut out: String = words(name)
        .iter()
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect();
    if out.is_empty() {
        out.push_str("Value");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    if out == "Self" {
        out.push('_');
    }
    out
}

/// A name usable as a generated Rust type as written: `UpperCamelCase` ASCII letters and
/// digits (`rust_name` overrides and graph names).
pub fn is_rust_type_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// A table name with its last word made singular, as lowercase words joined by `_`, for row
/// struct names (`order_items` → `order_item`, `http_statuses` → `http_status`,
/// `HTTPStatuses` → `http_status`, `people` → `person`, `status` and `data` stay).
/// The rule table is in `ident/singular.rs` (`singular_word`).
pub fn singular(name: &str) -> String {
    let mut words = words(name);
    if let Some(last) = words.last_mut() {
        *last = singular::singular_word(last);
    }
    words.join("_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_list_is_sorted_for_binary_search() {
        assert!(QUOTED_KEYWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn quotes_like_postgres() {
        assert_eq!(quote_ident_if_needed("orders"), "orders");
        assert_eq!(quote_ident_if_needed("Order"), "\"Order\"");
        assert_eq!(quote_ident_if_needed("user"), "\"user\"");
        assert_eq!(quote_ident_if_needed("select"), "\"select\"");
        assert_eq!(quote_ident_if_needed("name"), "name");
        assert_eq!(quote_ident_if_needed("user name"), "\"user name\"");
        assert_eq!(quote_ident_if_needed("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident_if_needed("1abc"), "\"1abc\"");
    }

    /// Table names and the row struct names made of them: the cases the rule table exists for,
    /// then table names from public schemas (Lemmy, OpenStreetMap, Vaultwarden, Documenso,
    /// Atuin, Conductor, Supabase Auth).
    #[test]
    fn row_struct_names_from_table_names() {
        let cases = [
            ("statuses", "Status"),
            ("movies", "Movie"),
            ("series", "Series"),
            ("quizzes", "Quiz"),
            ("analyses", "Analysis"),
            ("http_statuses", "HttpStatus"),
            ("HTTPStatuses", "HttpStatus"),
            ("HTTPStatus", "HttpStatus"),
            ("people", "Person"),
            ("children", "Child"),
            ("indices", "Index"),
            ("data", "Data"),
            ("poll_data", "PollData"),
            ("metadata", "Metadata"),
            ("file_metadata", "FileMetadata"),
            ("men", "Man"),
            ("women", "Woman"),
            ("mice", "Mouse"),
            ("criteria", "Criterion"),
            ("vertices", "Vertex"),
            ("matrices", "Matrix"),
            ("axes", "Axis"),
            ("taxes", "Tax"),
            ("crises", "Crisis"),
            ("theses", "Thesis"),
            ("news", "News"),
            ("species", "Species"),
            ("status", "Status"),
            ("address", "Address"),
            ("analysis", "Analysis"),
            ("buses", "Bus"),
            ("houses", "House"),
            ("courses", "Course"),
            ("caches", "Cache"),
            ("batches", "Batch"),
            ("wishes", "Wish"),
            ("boxes", "Box"),
            ("heroes", "Hero"),
            ("shoes", "Shoe"),
            ("knives", "Knife"),
            ("wives", "Wife"),
            ("archives", "Archive"),
            ("olives", "Olive"),
            ("leaves", "Leaf"),
            ("cookies", "Cookie"),
            ("ties", "Tie"),
            ("parties", "Party"),
            ("aliases", "Alias"),
            ("alias", "Alias"),
            ("phrases", "Phrase"),
            ("databases", "Database"),
            ("menus", "Menu"),
            ("emojis", "Emoji"),
            ("abuses", "Abuse"),
            ("gps", "Gps"),
            ("salespeople", "Salesperson"),
            ("grandchildren", "Grandchild"),
            ("buzzes", "Buzz"),
            ("__diesel_schema_migrations", "DieselSchemaMigration"),
            ("acls", "Acl"),
            ("active_storage_attachments", "ActiveStorageAttachment"),
            ("active_storage_blobs", "ActiveStorageBlob"),
            (
                "active_storage_variant_records",
                "ActiveStorageVariantRecord",
            ),
            ("ar_internal_metadata", "ArInternalMetadata"),
            ("archives", "Archive"),
            ("auth_requests", "AuthRequest"),
            ("changeset_comments", "ChangesetComment"),
            ("changesets_subscribers", "ChangesetsSubscriber"),
            ("ciphers", "Cipher"),
            ("ciphers_collections", "CiphersCollection"),
            ("collections_groups", "CollectionsGroup"),
            ("comment_aggregates", "CommentAggregate"),
            ("community_actions", "CommunityAction"),
            ("current_relation_members", "CurrentRelationMember"),
            ("current_way_nodes", "CurrentWayNode"),
            ("delayed_jobs", "DelayedJob"),
            ("devices", "Device"),
            ("diary_entries", "DiaryEntry"),
            ("diary_entry_subscriptions", "DiaryEntrySubscription"),
            ("emergency_access", "EmergencyAccess"),
            ("event_data", "EventData"),
            ("favorites", "Favorite"),
            ("folders_ciphers", "FoldersCipher"),
            ("friends", "Friend"),
            ("gps_points", "GpsPoint"),
            ("gpx_file_tags", "GpxFileTag"),
            ("history", "History"),
            ("image_details", "ImageDetail"),
            ("instance", "Instance"),
            ("invitations", "Invitation"),
            ("issues", "Issue"),
            ("languages", "Language"),
            ("local_site_rate_limit", "LocalSiteRateLimit"),
            ("locks", "Lock"),
            ("moderation_zones", "ModerationZone"),
            ("noticed_notifications", "NoticedNotification"),
            ("oauth_access_grants", "OauthAccessGrant"),
            ("oauth_openid_requests", "OauthOpenidRequest"),
            ("org_policies", "OrgPolicy"),
            ("organisationglobalsettings", "Organisationglobalsetting"),
            ("person_post_aggregates", "PersonPostAggregate"),
            ("private_message_report", "PrivateMessageReport"),
            ("redactions", "Redaction"),
            ("relation_members", "RelationMember"),
            ("schema_migrations", "SchemaMigration"),
            ("sends", "Send"),
            ("session_data", "SessionData"),
            ("sessions", "Session"),
            ("skill_metadata", "SkillMetadata"),
            ("social_links", "SocialLink"),
            ("spammy_phrases", "SpammyPhrase"),
            ("sso_nonce", "SsoNonce"),
            ("store_idx_cache", "StoreIdxCache"),
            ("task_execution_logs", "TaskExecutionLog"),
            ("task_in_progress", "TaskInProgress"),
            ("twofactor_duo_ctx", "TwofactorDuoCtx"),
            ("user_", "User"),
            ("User", "User"),
            ("user_preferences", "UserPreference"),
            ("users_organizations", "UsersOrganization"),
            ("usersecurityauditlog", "Usersecurityauditlog"),
            ("way_tags", "WayTag"),
            ("webhookcall", "Webhookcall"),
            ("workflow_def_to_workflow", "WorkflowDefToWorkflow"),
            ("order_items", "OrderItem"),
            ("categories", "Category"),
            ("shipping_addresses", "ShippingAddress"),
            ("audit_logs", "AuditLog"),
            ("item_returns", "ItemReturn"),
            ("product_details", "ProductDetail"),
            ("team_members", "TeamMember"),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .filter(|(table, expected)| rust_type_name(&singular(table)) != *expected)
            .map(|(table, expected)| {
                format!(
                    "{table} → {} (expected {expected})",
                    rust_type_name(&singular(table))
                )
            })
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn rust_names() {
        assert_eq!(rust_type_name(&singular("order_items")), "OrderItem");
        assert_eq!(rust_type_name(&singular("categories")), "Category");
        assert_eq!(
            rust_type_name(&singular("shipping_addresses")),
            "ShippingAddress"
        );
        assert_eq!(rust_type_name(&singular("status")), "Status");
        assert_eq!(rust_type_name(&singular("Order")), "Order");
        assert_eq!(rust_type_name(&singular("order items")), "OrderItem");
        assert_eq!(rust_type_name(&singular("boxes")), "Box");
        assert_eq!(rust_type_name("OrderLine"), "OrderLine");
        assert_eq!(rust_type_name("HTTPStatus"), "HttpStatus");
        assert_eq!(rust_field_name("HTTPCode"), "http_code");
        assert_eq!(rust_field_name("documentURL"), "document_url");
        assert_eq!(rust_field_name("md5Hash"), "md5_hash");
        assert_eq!(rust_field_name("V2Api"), "v2_api");
        assert_eq!(rust_type_name("in progress"), "InProgress");
        assert_eq!(rust_type_name("3d"), "V3d");
        assert_eq!(rust_field_name("user name"), "user_name");
        assert_eq!(rust_field_name("Id"), "id");
        assert_eq!(rust_field_name("type"), "type_");
        assert_eq!(rust_field_name("select"), "select");
        assert_eq!(rust_field_name("self"), "self_");
        assert_eq!(rust_field_name("a\"b"), "a_b");
        assert_eq!(rust_field_name("OrderId"), "order_id");
        assert_eq!(rust_field_name("area_m²"), "area_m");
        assert_eq!(rust_field_name("①"), "column");
        assert_eq!(rust_type_name("①"), "Value");
        assert_eq!(rust_type_name("größe"), "GrE");
        assert_eq!(setter_stem("type_"), "type");
        assert_eq!(setter_stem("self_"), "self");
        assert_eq!(setter_stem("note_"), "note_");
    }
}
