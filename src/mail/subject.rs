//! The e-mails to a subject: Dutch first, the same text in English below, each part from the
//! message catalogue (`mail-*` messages), so both languages always say the same.
use fluent_bundle::FluentValue;

use super::OutgoingMail;
use crate::{
    domain::subject::Subject,
    i18n::{Lang, text},
};

/// A placeholder of a subject e-mail: a text, or a date written out in each language.
pub enum Arg {
    Text(String),
    Date(time::Date),
}

impl From<&str> for Arg {
    fn from(value: &str) -> Self {
        Arg::Text(value.to_owned())
    }
}

impl From<String> for Arg {
    fn from(value: String) -> Self {
        Arg::Text(value)
    }
}

/// What an e-mail says: the catalogue's `mail-{kind}-subject` and the paragraphs [`KINDS`]
/// lists for the kind, between a greeting and the operator's name. A `link` is added after the
/// first paragraph, in each language's version.
pub struct SubjectMail<'a> {
    /// One of [`KINDS`].
    pub kind: &'static str,
    /// Whom it goes to (their address) and greets (their name).
    pub subject: &'a Subject,
    pub operator: &'a str,
    /// The personal link, when the e-mail carries it; the English part links to the English
    /// page.
    pub link: Option<&'a str>,
    pub args: Vec<(&'static str, Arg)>,
}

impl SubjectMail<'_> {
    fn args_in(&self, lang: Lang) -> Vec<(&'static str, FluentValue<'static>)> {
        let mut args: Vec<(&'static str, FluentValue<'static>)> = self
            .args
            .iter()
            .map(|(name, arg)| {
                let value = match arg {
                    Arg::Text(text) => text.clone(),
                    Arg::Date(date) => crate::i18n::long_date(lang, *date),
                };
                (*name, FluentValue::from(value))
            })
            .collect();
        let name = format!("{} {}", self.subject.given_names, self.subject.family_name);
        args.push(("name", FluentValue::from(name)));
        args.push(("operator", FluentValue::from(self.operator.to_owned())));
        args
    }

    fn part(&self, lang: Lang) -> String {
        let args = self.args_in(lang);
        let mut paragraphs = vec![text(lang, "mail-greeting", &args)];
        let ids = KINDS
            .iter()
            .find(|(kind, _)| *kind == self.kind)
            .map_or(&[][..], |(_, ids)| *ids);
        for (n, id) in ids.iter().enumerate() {
            paragraphs.push(text(lang, id, &args));
            if n == 0
                && let Some(link) = self.link
            {
                paragraphs.push(match lang {
                    Lang::Nl => link.to_owned(),
                    Lang::En => format!("{link}?lang=en"),
                });
            }
        }
        paragraphs.push(text(lang, "mail-signature", &args));
        paragraphs.join("\n\n")
    }

    pub fn compose(&self) -> OutgoingMail {
        let subject_in = |lang| {
            text(
                lang,
                &format!("mail-{}-subject", self.kind),
                &self.args_in(lang),
            )
        };
        OutgoingMail {
            to: self.subject.email.clone(),
            subject: format!("{} / {}", subject_in(Lang::Nl), subject_in(Lang::En)),
            body: format!(
                "{}\n\n{}\n\n{}\n",
                self.part(Lang::Nl),
                text(Lang::En, "mail-english-below", &[]),
                self.part(Lang::En)
            ),
        }
    }
}

/// The e-mails a subject is sent and the catalogue's paragraphs of each (the catalogue test
/// holds every one to both languages).
pub const KINDS: [(&str, &[&str]); 5] = [
    (
        "invitation",
        &[
            "mail-invitation-1",
            "mail-invitation-2",
            "mail-invitation-3",
            "mail-invitation-4",
        ],
    ),
    (
        "reminder",
        &["mail-reminder-1", "mail-reminder-2", "mail-personal-link"],
    ),
    (
        "intent-to-refuse",
        &["mail-intent-to-refuse-1", "mail-open-first-link"],
    ),
    ("decision", &["mail-decision-1", "mail-open-first-link"]),
    (
        "consent-withdrawn",
        &[
            "mail-consent-withdrawn-1",
            "mail-consent-withdrawn-2",
            "mail-consent-withdrawn-3",
        ],
    ),
];
