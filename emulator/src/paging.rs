//! The two ways Auth0 pages a listing: checkpoint (`from`/`take`, an opaque `next` cursor:
//! connection and user attribute profiles) and offset (`page`/`per_page`/`include_totals`:
//! self-service profiles). Query parsing and page cutting, shared by every resource.

use std::collections::BTreeMap;

use hyper::StatusCode;

use crate::http::{self, Answer, auth0_error};
use crate::state::{Shared, Tenant};
use crate::validate::ValidationError;

/// A 400 `invalid_query_string` answer, worded like Auth0's validator.
pub fn invalid_query(problem: &str, property: Option<&str>) -> Answer {
    let error = ValidationError {
        problem: problem.to_string(),
        property: property.map(str::to_string),
    };
    auth0_error(
        StatusCode::BAD_REQUEST,
        &error.message("Query"),
        Some("invalid_query_string"),
    )
}

/// The limits of one checkpoint listing.
#[derive(Debug, Clone, Copy)]
pub struct Checkpoint {
    /// `take` when the query has none.
    pub default_take: usize,
    /// The largest `take` accepted (400 above it).
    pub max_take: usize,
    /// The most items one page holds, whatever `take` asks.
    pub page_cap: usize,
    /// The id prefix of the resource: a cursor of another resource's listing is refused.
    pub id_prefix: &'static str,
}

fn integer(value: &str, property: &str) -> Result<i64, Answer> {
    value
        .parse()
        .map_err(|_| invalid_query("Expected type integer but found type string", Some(property)))
}

fn at_least(parsed: i64, minimum: i64, property: &str) -> Result<(), Answer> {
    if parsed < minimum {
        return Err(invalid_query(
            &format!("Value {parsed} is less than minimum {minimum}"),
            Some(property),
        ));
    }
    Ok(())
}

fn at_most(parsed: i64, maximum: usize, property: &str) -> Result<(), Answer> {
    if parsed > maximum as i64 {
        return Err(invalid_query(
            &format!("Value {parsed} is greater than maximum {maximum}"),
            Some(property),
        ));
    }
    Ok(())
}

fn unknown_parameter(name: &str) -> Answer {
    invalid_query(&format!("Additional properties not allowed: {name}"), None)
}

/// Checks the query of a checkpoint listing: `take` 1..=`max_take` (default `default_take`)
/// and an optional cursor of this tenant and resource. Returns the page size and the id to
/// list after.
pub fn checkpoint_query(
    shared: &Shared,
    tenant: &Tenant,
    query: Option<&str>,
    now: u64,
    limits: Checkpoint,
) -> Result<(usize, Option<String>), Answer> {
    let mut take = limits.default_take;
    let mut after = None;
    for (key, value) in http::query_pairs(query) {
        match key.as_str() {
            "take" => {
                let parsed = integer(&value, "take")?;
                at_least(parsed, 1, "take")?;
                at_most(parsed, limits.max_take, "take")?;
                take = (parsed as usize).min(limits.page_cap);
            }
            "from" if value.is_empty() => after = None,
            "from" => {
                // An empty last id is the cursor a `repeat_cursor` fault hands out on an
                // empty first page.
                after = Some(
                    shared
                        .signer
                        .open_cursor(&value, &tenant.domain, now)
                        .filter(|last| last.is_empty() || last.starts_with(limits.id_prefix))
                        .ok_or_else(|| invalid_query("Invalid checkpoint", Some("from")))?,
                );
            }
            other => return Err(unknown_parameter(other)),
        }
    }
    Ok((take, after))
}

/// One page of a checkpoint listing: up to `take` items in id order after `after`, and
/// whether the page is full. A full page gets a `next` cursor even when nothing follows, so
/// the last page of a listing whose size is a multiple of `take` is empty and has no `next`
/// (recorded: Auth0 does not look ahead). Listing by "greater than the last id" never skips
/// or repeats an item that exists for the whole listing, whatever is created or deleted in
/// between.
pub fn page<'a, T>(items: &'a BTreeMap<String, T>, after: Option<&str>, take: usize) -> (Vec<&'a T>, bool) {
    let (page, full) = page_with_ids(items, after, take);
    (page.into_iter().map(|(_, item)| item).collect(), full)
}

/// [`page`], each item with its id (the key it is listed by).
pub fn page_with_ids<'a, T>(
    items: &'a BTreeMap<String, T>,
    after: Option<&str>,
    take: usize,
) -> (Vec<(&'a String, &'a T)>, bool) {
    use std::ops::Bound;
    let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
    let page: Vec<(&String, &T)> = items.range::<str, _>((lower, Bound::Unbounded)).take(take).collect();
    let full = page.len() == take;
    (page, full)
}

/// An offset listing's query: `page` ≥ 0 (default 0), `per_page` 1..=`max_per_page`
/// (default `default_per_page`), `include_totals` `true`/`false` (default false).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offset {
    pub page: usize,
    pub per_page: usize,
    pub include_totals: bool,
}

impl Offset {
    /// The first index of the page (saturating, so a huge page number is past the end).
    pub fn start(&self) -> usize {
        self.page.saturating_mul(self.per_page)
    }

    /// The page's items out of all of them, in order; past the end it is empty.
    pub fn cut<'a, T>(&self, all: &'a [T]) -> &'a [T] {
        let start = self.start().min(all.len());
        let end = start.saturating_add(self.per_page).min(all.len());
        &all[start..end]
    }
}

/// Parses an offset listing's query.
pub fn offset_query(query: Option<&str>, default_per_page: usize, max_per_page: usize) -> Result<Offset, Answer> {
    let mut offset = Offset {
        page: 0,
        per_page: default_per_page,
        include_totals: false,
    };
    for (key, value) in http::query_pairs(query) {
        match key.as_str() {
            "page" => {
                let parsed = integer(&value, "page")?;
                at_least(parsed, 0, "page")?;
                offset.page = parsed as usize;
            }
            "per_page" => {
                let parsed = integer(&value, "per_page")?;
                at_least(parsed, 1, "per_page")?;
                at_most(parsed, max_per_page, "per_page")?;
                offset.per_page = parsed as usize;
            }
            "include_totals" => {
                offset.include_totals = match value.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(invalid_query(
                            "Expected type boolean but found type string",
                            Some("include_totals"),
                        ));
                    }
                };
            }
            other => return Err(unknown_parameter(other)),
        }
    }
    Ok(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_pages_cut_and_end_empty() {
        let all = [1, 2, 3, 4, 5];
        let at = |page, per_page| {
            Offset {
                page,
                per_page,
                include_totals: false,
            }
            .cut(&all)
            .to_vec()
        };
        assert_eq!(at(0, 2), [1, 2]);
        assert_eq!(at(2, 2), [5]);
        assert_eq!(at(3, 2), Vec::<i32>::new());
        assert_eq!(at(usize::MAX, 100), Vec::<i32>::new());
    }

    #[test]
    fn offset_queries_have_defaults_and_bounds() {
        let parsed = |query: &str| offset_query(Some(query), 50, 100).map_err(|answer| answer.status().as_u16());
        assert_eq!(
            parsed(""),
            Ok(Offset {
                page: 0,
                per_page: 50,
                include_totals: false
            })
        );
        assert_eq!(
            parsed("page=2&per_page=100&include_totals=true"),
            Ok(Offset {
                page: 2,
                per_page: 100,
                include_totals: true
            })
        );
        for bad in [
            "page=-1",
            "per_page=0",
            "per_page=101",
            "include_totals=yes",
            "page=x",
            "sort=name",
        ] {
            assert_eq!(parsed(bad), Err(400), "{bad}");
        }
    }
}
