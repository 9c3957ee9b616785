//! What list and form pages read from a query or a posted form: values by name, unknown names
//! as field errors, the cursor, and the links to the next page.
use axum::extract::{Query, rejection::QueryRejection};

use super::i18n::t;
use crate::{
    error::{AppError, FieldError},
    pagination::{PageParams, PageRequest},
};

/// A list page's query string as name–value pairs; one that cannot be read is the page with
/// an error, as an unknown filter is.
pub fn query_pairs(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Vec<(String, String)>, AppError> {
    query
        .map(|Query(pairs)| pairs)
        .map_err(|_| AppError::BadRequest("the address could not be read".into()))
}

/// The value of `name` among a form's or a query's pairs (the last one wins), `None` when
/// absent or blank.
pub fn value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// A page's language: `?lang=` when the catalogue has it, else the browser's
/// `Accept-Language`, else `default`. Anything unreadable falls through, never an error.
pub fn page_language(
    pairs: &[(String, String)],
    headers: &axum::http::HeaderMap,
    default: crate::i18n::Lang,
) -> crate::i18n::Lang {
    use crate::i18n::Lang;
    value(pairs, "lang")
        .and_then(Lang::parse)
        .or_else(|| {
            headers
                .get(axum::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or(default)
}

/// Field errors for the names among `pairs` that are not in `known`.
pub fn unknown_fields(pairs: &[(String, String)], known: &[&str]) -> Vec<FieldError> {
    pairs
        .iter()
        .filter(|(key, _)| !known.contains(&key.as_str()))
        .map(|(key, _)| FieldError::new(key.clone(), t("console-unknown-filter")))
        .collect()
}

/// The page of a list a query asks for (its `cursor`); when the cursor is broken, what is
/// wrong goes to `problems` and the first page stands in (the list is not read then).
pub fn page_request(pairs: &[(String, String)], problems: &mut Vec<FieldError>) -> PageRequest {
    PageParams {
        limit: None,
        cursor: value(pairs, "cursor").map(str::to_owned),
    }
    .validate()
    .unwrap_or_else(|list| {
        problems.extend(list);
        PageRequest {
            limit: 25,
            after: None,
        }
    })
}

/// One page of rows fetched with one extra, and the link to the next page if there is one.
pub fn one_page<R>(
    mut rows: Vec<R>,
    request: PageRequest,
    next_href: impl Fn(&R) -> String,
) -> (Vec<R>, Option<String>) {
    let more = rows.len() as u64 > request.limit;
    rows.truncate(request.limit as usize);
    let next = if more {
        rows.last().map(next_href)
    } else {
        None
    };
    (rows, next)
}

/// Field errors of listed values (`conflicts[2]`) named for the form's one field
/// (`conflicts`), so the error summary links to a control that exists.
pub fn fold_indexed(list: Vec<FieldError>) -> Vec<FieldError> {
    list.into_iter()
        .map(|mut error| {
            if let Some(at) = error.field.find('[') {
                error.field.truncate(at);
            }
            error
        })
        .collect()
}

/// The status a page answers with: 422 when its form or query has errors.
pub fn status_for(errors: &crate::web::components::Errors) -> axum::http::StatusCode {
    if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    }
}

/// The whole number a form field holds; when it holds none, its error goes to `problems`
/// (and the -1 returned is never used).
pub fn whole_number(text: &str, field: &str, problems: &mut Vec<FieldError>) -> i64 {
    text.parse().unwrap_or_else(|_| {
        problems.push(FieldError::new(field, t("field-whole-number")));
        -1
    })
}

/// Every value of `name` among a form's pairs (checkboxes, multiple selections).
pub fn values(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(key, _)| key == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

/// A link to the same list with these parameters (`None` ones left out).
pub fn list_href(path: &str, params: &[(&str, Option<String>)]) -> String {
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (*k, v)))
        .collect();
    if pairs.is_empty() {
        return path.to_owned();
    }
    format!(
        "{path}?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_link_keeps_its_filters_and_leaves_out_the_empty_ones() {
        let href = list_href(
            "/console/tasks",
            &[
                ("view", Some("all".into())),
                ("kind", None),
                ("status", Some("a b".into())),
            ],
        );
        assert_eq!(href, "/console/tasks?view=all&status=a+b");
        assert_eq!(
            list_href("/console/tasks", &[("kind", None)]),
            "/console/tasks"
        );
    }
}
