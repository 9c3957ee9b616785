//! The message catalogue: every text a page or an e-mail shows, by id, in Project Fluent files
//! built into the binary (`i18n/locales/*.ftl`). The staff pages are in English; what a subject
//! reads (their page, their e-mails) and `/verify` is in Dutch and English, and a test holds
//! the two catalogues to the same messages with the same placeholders. Country names and dates
//! come from the Unicode CLDR (ICU4X's compiled data), never from a list of our own.
use std::{collections::HashMap, sync::LazyLock};

use fluent_bundle::{FluentArgs, FluentResource, FluentValue, concurrent::FluentBundle};
use icu_datetime::{
    DateTimeFormatter,
    fieldsets::{YM, YMD},
};
use icu_experimental::displaynames::{DisplayNamesOptions, multi::RegionDisplayNames};
use icu_locale_core::{Locale, locale};

/// A language the catalogue holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Nl,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Nl => "nl",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "en" => Some(Lang::En),
            "nl" => Some(Lang::Nl),
            _ => None,
        }
    }

    /// The first language of an `Accept-Language` header the catalogue holds (weights are
    /// ignored: browsers list languages in the order they prefer them).
    pub fn from_accept_language(header: &str) -> Option<Self> {
        header.split(',').find_map(|item| {
            let tag = item.split(';').next()?.trim();
            Lang::parse(&tag.get(..2)?.to_ascii_lowercase())
        })
    }

    fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("locales/en.ftl"),
            Lang::Nl => include_str!("locales/nl.ftl"),
        }
    }

    pub const ALL: [Lang; 2] = [Lang::En, Lang::Nl];

    /// The CLDR locale of names and dates: British English writes "3 December 2027", as the
    /// Dutch do ("3 december 2027").
    fn locale(self) -> Locale {
        match self {
            Lang::En => locale!("en-GB"),
            Lang::Nl => locale!("nl"),
        }
    }
}

/// Per language: the CLDR's region names and its long date and month formats.
struct Formats {
    regions: RegionDisplayNames,
    dates: DateTimeFormatter<YMD>,
    months: DateTimeFormatter<YM>,
}

static FORMATS: LazyLock<HashMap<Lang, Formats>> = LazyLock::new(|| {
    Lang::ALL
        .into_iter()
        .map(|lang| {
            let formats = Formats {
                regions: RegionDisplayNames::try_new(
                    lang.locale().into(),
                    DisplayNamesOptions::default(),
                )
                .expect("the compiled CLDR data has region names"),
                dates: DateTimeFormatter::try_new(lang.locale().into(), YMD::long())
                    .expect("the compiled CLDR data has date formats"),
                months: DateTimeFormatter::try_new(lang.locale().into(), YM::long())
                    .expect("the compiled CLDR data has month formats"),
            };
            (lang, formats)
        })
        .collect()
});

/// A country's name in `lang` ("Oeganda", "Uganda"), from its ISO 3166-1 code; the code itself
/// when it is not one.
pub fn country_name(lang: Lang, code: &str) -> String {
    code.parse()
        .ok()
        .and_then(|region| FORMATS[&lang].regions.of(region))
        .map_or_else(|| code.to_owned(), str::to_owned)
}

/// Every assigned country (code, name in `lang`), by name, for a page's choice: built once
/// per language, not on every form shown.
pub fn countries_by_name(lang: Lang) -> &'static [(String, String)] {
    static BY_NAME: LazyLock<HashMap<Lang, Vec<(String, String)>>> = LazyLock::new(|| {
        Lang::ALL
            .into_iter()
            .map(|lang| {
                let mut countries: Vec<(String, String)> = celes::Country::get_countries()
                    .iter()
                    .map(|c| (c.alpha2.to_owned(), country_name(lang, c.alpha2)))
                    .collect();
                countries.sort_by_cached_key(|(_, name)| name.to_lowercase());
                (lang, countries)
            })
            .collect()
    });
    &BY_NAME[&lang]
}

/// A date written out in `lang`: "3 December 2027", "3 december 2027".
pub fn long_date(lang: Lang, date: time::Date) -> String {
    match icu_calendar::Date::try_new_iso(date.year(), date.month() as u8, date.day()) {
        Ok(iso) => FORMATS[&lang].dates.format(&iso).to_string(),
        Err(_) => date.to_string(),
    }
}

/// A month written out in `lang`: "January 2019", "januari 2019".
fn long_month(lang: Lang, year: i32, month: time::Month) -> Option<String> {
    let iso = icu_calendar::Date::try_new_iso(year, month as u8, 1).ok()?;
    Some(FORMATS[&lang].months.format(&iso).to_string())
}

/// A date or a month as the API writes them (`1990-04-21`, `2019-01`), written out in `lang`;
/// anything else as it is.
pub fn written_date(lang: Lang, text: &str) -> String {
    use crate::domain::calendar::{parse_date, parse_month};
    if let Ok(date) = parse_date(text) {
        return long_date(lang, date);
    }
    parse_month(text)
        .ok()
        .and_then(|(year, month)| long_month(lang, year, month))
        .unwrap_or_else(|| text.to_owned())
}

static BUNDLES: LazyLock<HashMap<Lang, FluentBundle<FluentResource>>> = LazyLock::new(|| {
    Lang::ALL
        .into_iter()
        .map(|lang| {
            let resource = FluentResource::try_new(lang.source().to_owned())
                .unwrap_or_else(|(_, errors)| panic!("{} catalogue: {errors:?}", lang.code()));
            let mut bundle =
                FluentBundle::new_concurrent(vec![lang.code().parse().expect("a language tag")]);
            // No Unicode isolation marks around placeables: the pages are HTML, and the marks
            // would sit invisibly inside names and numbers.
            bundle.set_use_isolating(false);
            bundle
                .add_resource(resource)
                .unwrap_or_else(|errors| panic!("{} catalogue: {errors:?}", lang.code()));
            (lang, bundle)
        })
        .collect()
});

/// The message `id` in `lang`, with `args` filled in. A missing message shows its id (and is
/// logged); a test keeps every id the pages use in the catalogue.
pub fn text(lang: Lang, id: &str, args: &[(&str, FluentValue)]) -> String {
    let found = |lang: Lang| {
        let bundle = &BUNDLES[&lang];
        Some((bundle, bundle.get_message(id).and_then(|m| m.value())?))
    };
    let Some((bundle, pattern)) = found(lang).or_else(|| found(Lang::En)) else {
        tracing::warn!(id, lang = lang.code(), "message missing from the catalogue");
        return id.to_owned();
    };
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        fluent_args.set(*name, value.clone());
    }
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
    if !errors.is_empty() {
        tracing::warn!(id, ?errors, "message formatted with errors");
    }
    text.into_owned()
}

/// The message `id` in English, for the staff pages.
pub fn t(id: &str) -> String {
    text(Lang::En, id, &[])
}

/// The same with arguments: `t_with("signed-in-as", &[("name", name.into())])`.
pub fn t_with(id: &str, args: &[(&str, FluentValue)]) -> String {
    text(Lang::En, id, args)
}

/// Whether the catalogue of `lang` holds `id` (for the tests).
pub fn has(lang: Lang, id: &str) -> bool {
    BUNDLES[&lang].has_message(id)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    /// Every message id a page asks for is in the catalogue: the ids are read from the source,
    /// where they are always string literals passed to `t` or `t_with`.
    #[test]
    fn every_message_the_pages_use_is_in_the_catalogue() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut missing = Vec::new();
        let mut seen = 0;
        let mut files = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(dir)];
        while let Some(path) = stack.pop() {
            for entry in std::fs::read_dir(path).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        let call = regex::Regex::new(r#"\bt(?:_with)?\(\s*"([a-z0-9-]+)""#).unwrap();
        for file in files {
            let source = std::fs::read_to_string(&file).unwrap();
            for found in call.captures_iter(&source) {
                seen += 1;
                let id = &found[1];
                if !has(Lang::En, id) {
                    missing.push(format!("{}: {id}", file.display()));
                }
            }
        }
        assert!(seen > 20, "the scan found only {seen} messages");
        // The ids composed from a value (the portal names a decline's reason).
        for reason in crate::domain::DeclineReason::ALL {
            let id = format!("portal-decline-{}", reason.as_str());
            if !has(Lang::En, &id) {
                missing.push(id);
            }
        }
        assert!(
            missing.is_empty(),
            "not in the catalogue:\n{}",
            missing.join("\n")
        );
    }

    /// Each message of a catalogue with the placeholders (`{ $name }`) its text uses.
    fn messages(lang: Lang) -> BTreeMap<String, BTreeSet<String>> {
        use fluent_syntax::ast::{Entry, Expression, InlineExpression, Pattern, PatternElement};
        fn variables(pattern: &Pattern<&str>, found: &mut BTreeSet<String>) {
            for element in &pattern.elements {
                let PatternElement::Placeable { expression } = element else {
                    continue;
                };
                let (inline, variants) = match expression {
                    Expression::Inline(inline) => (inline, None),
                    Expression::Select { selector, variants } => (selector, Some(variants)),
                };
                if let InlineExpression::VariableReference { id } = inline {
                    found.insert(id.name.to_owned());
                }
                for variant in variants.into_iter().flatten() {
                    variables(&variant.value, found);
                }
            }
        }
        let resource = fluent_syntax::parser::parse(lang.source()).expect("the catalogue parses");
        resource
            .body
            .iter()
            .filter_map(|entry| match entry {
                Entry::Message(message) => {
                    let mut found = BTreeSet::new();
                    if let Some(value) = &message.value {
                        variables(value, &mut found);
                    }
                    Some((message.id.name.to_owned(), found))
                }
                _ => None,
            })
            .collect()
    }

    /// Every Dutch message is in English with the same placeholders: a translation can neither
    /// drop a name nor ask for one the code does not give.
    #[test]
    fn every_dutch_message_is_in_english_with_the_same_placeholders() {
        let english = messages(Lang::En);
        let mut wrong = Vec::new();
        for (id, placeholders) in messages(Lang::Nl) {
            match english.get(&id) {
                None => wrong.push(format!("{id}: not in English")),
                Some(other) if *other != placeholders => wrong.push(format!(
                    "{id}: {placeholders:?} in Dutch, {other:?} in English"
                )),
                Some(_) => {}
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    /// Everything a subject reads, and `/verify`, is in both languages: each id their pages and
    /// e-mails ask for (the literal ones read from the source, the composed ones built from the
    /// lists they are composed from), and every `subject-` and `mail-` message.
    #[test]
    fn everything_a_subject_reads_is_in_both_languages() {
        use crate::domain::{Authorisation, PositionRole, RequestStatus};
        let english = messages(Lang::En);
        let dutch = messages(Lang::Nl);
        let mut needed: BTreeSet<String> = english
            .keys()
            .filter(|id| id.starts_with("subject-") || id.starts_with("mail-"))
            .cloned()
            .collect();
        let literal = regex::Regex::new(r#""([a-z][a-z0-9_-]*-[a-z0-9_-]+)""#).unwrap();
        for source in [
            include_str!("../web/subject.rs"),
            include_str!("../web/verify.rs"),
            include_str!("../mail/subject.rs"),
        ] {
            for found in literal.captures_iter(source) {
                if english.contains_key(&found[1]) {
                    needed.insert(found[1].to_owned());
                }
            }
        }
        for status in RequestStatus::ALL {
            needed.insert(format!("subject-status-{}", status.as_str()));
        }
        for authorisation in Authorisation::ALL {
            needed.insert(format!("subject-check-{}", authorisation.as_str()));
        }
        for role in PositionRole::ALL {
            needed.insert(format!("subject-role-{}", role.as_str()));
        }
        for (kind, paragraphs) in crate::mail::subject::KINDS {
            needed.insert(format!("mail-{kind}-subject"));
            needed.extend(paragraphs.iter().map(|id| id.to_string()));
        }
        // The shell around a subject's page, and the labels of its error summary.
        for id in [
            "skip-to-content",
            "footer-about",
            "footer-api",
            "footer-keys",
            "error-summary-title",
            "error-prefix",
            "field-reason",
            "field-message",
            "field-statement",
            "field-grounds",
        ] {
            needed.insert(id.to_owned());
        }
        let missing: Vec<String> = needed
            .iter()
            .flat_map(|id| {
                [(Lang::En, &english), (Lang::Nl, &dutch)]
                    .into_iter()
                    .filter(|(_, catalogue)| !catalogue.contains_key(id))
                    .map(move |(lang, _)| format!("{id} ({})", lang.code()))
            })
            .collect();
        assert!(needed.len() > 150, "only {} messages found", needed.len());
        assert!(missing.is_empty(), "missing: {missing:?}");
    }

    #[test]
    fn country_names_and_dates_come_from_the_cldr_in_each_language() {
        assert_eq!(country_name(Lang::Nl, "UG"), "Oeganda");
        assert_eq!(country_name(Lang::En, "UG"), "Uganda");
        assert_eq!(country_name(Lang::Nl, "NL"), "Nederland");
        assert_eq!(country_name(Lang::En, "XX"), "XX");
        let date = time::macros::date!(2027 - 12 - 03);
        assert_eq!(long_date(Lang::En, date), "3 December 2027");
        assert_eq!(long_date(Lang::Nl, date), "3 december 2027");
        assert_eq!(
            long_month(Lang::Nl, 2019, time::Month::January).as_deref(),
            Some("januari 2019")
        );
        assert_eq!(
            long_month(Lang::En, 2019, time::Month::January).as_deref(),
            Some("January 2019")
        );
        // As the subject's data and the certificate's claims write them; anything else as it is.
        assert_eq!(written_date(Lang::Nl, "2019-01"), "januari 2019");
        assert_eq!(written_date(Lang::Nl, "1990-04-21"), "21 april 1990");
        for as_it_is in ["2019-13", "1990-02-31", "soon", ""] {
            assert_eq!(written_date(Lang::En, as_it_is), as_it_is);
        }
        let dutch = countries_by_name(Lang::Nl);
        assert!(dutch.len() >= 249, "{}", dutch.len());
        let position = |code: &str| dutch.iter().position(|(c, _)| c == code).unwrap();
        assert!(
            position("DE") < position("NL"),
            "Duitsland before Nederland"
        );
    }

    #[test]
    fn the_browser_language_is_chosen_when_the_catalogue_has_it() {
        assert_eq!(
            Lang::from_accept_language("nl-NL,nl;q=0.9,en;q=0.8"),
            Some(Lang::Nl)
        );
        assert_eq!(
            Lang::from_accept_language("fr-FR, en-GB;q=0.8"),
            Some(Lang::En)
        );
        for unreadable in ["fr", "", ";;;", "é", "n", "*", "q=0.5,,", "\u{0}nl"] {
            assert_eq!(
                Lang::from_accept_language(unreadable),
                None,
                "{unreadable:?}"
            );
        }
    }

    #[test]
    fn arguments_are_filled_in_without_isolation_marks() {
        let text = t_with("signed-in-as", &[("name", "Jan".into())]);
        assert!(text.contains("Jan"), "{text}");
        assert!(!text.contains('\u{2068}'), "{text:?}");
    }
}
