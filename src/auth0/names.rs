//! Matching profiles by name when Auth0 may keep a name in another form than it was sent.
//!
//! Whether Auth0 normalizes a connection profile's `name` (case, blanks) is not recorded
//! (`auth0-connection-profiles-api.md`: uniqueness is DECIDED, unconfirmed); the emulator can
//! be told to lower-case it (`normalize`). Every look-up the operator makes by name (a
//! create's name check, an interrupted create looked up by the name it posted, a deletion's
//! look-up, `auth0-operator plan`) compares names in [`key`] form, so a profile stored as
//! `hb07-mixed-case` is found for a create that posted `HB07-Mixed-Case` (issue 24: it was
//! taken for "nothing stored", the next POST got 409, and the profile became an orphan).
//! The cost: a resource whose name differs from a foreign profile's only in case or blanks
//! is a `Conflict`, as it would be on a tenant that normalizes.

/// The form names are compared in: Unicode lower case, blanks at either end dropped and
/// every run of inner whitespace one space.
pub fn key(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Whether Auth0 may hold `stored` for a profile that was sent as `sent` (or the reverse).
pub fn same(stored: &str, sent: &str) -> bool {
    stored == sent || key(stored) == key(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_blanks_do_not_tell_names_apart() {
        assert!(same("hb07-mixed-case", "HB07-Mixed-Case"));
        assert!(same(" Okta  Partners ", "okta partners"));
        assert!(same("ÜNÏ", "ünï"));
        assert!(!same("acme", "acme-2"));
        assert!(!same("a b", "ab"));
        assert_eq!(key("  A\tB  "), "a b");
    }
}
