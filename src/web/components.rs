//! The pieces pages are built of, written once: the error summary and fields that show their
//! errors, the summary list, tables, pagination, the confirmation banner. Everything a user
//! typed is escaped by maud; nothing here is `PreEscaped` but our own markup.
use std::collections::HashMap;

use maud::{Markup, html};

use super::i18n::{Lang, has, t, text};
use crate::error::FieldError;

/// The id of a form field's control, from its name (`subject.given_names` →
/// `f-subject-given_names`), for labels and the error summary's links.
pub fn field_id(name: &str) -> String {
    format!("f-{}", name.replace(['.', '[', ']'], "-"))
}

/// A form's field errors by field name, the API's messages as they are.
#[derive(Default)]
pub struct Errors {
    list: Vec<FieldError>,
    by_field: HashMap<String, String>,
}

impl Errors {
    pub fn new(list: Vec<FieldError>) -> Self {
        let mut by_field = HashMap::new();
        for error in &list {
            by_field
                .entry(error.field.clone())
                .or_insert_with(|| error.message.clone());
        }
        Errors { list, by_field }
    }

    pub fn none() -> Self {
        Errors::default()
    }

    pub fn of(&self, field: &str) -> Option<&str> {
        self.by_field.get(field).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// `There is a problem`, each message a link to its field; focus lands on it.
    pub fn summary(&self) -> Markup {
        self.summary_in(Lang::En)
    }

    /// The same in a page's language (the pages for anyone).
    pub fn summary_in(&self, lang: Lang) -> Markup {
        html! {
            @if !self.list.is_empty() {
                div.error-summary role="alert" aria-labelledby="error-summary-title" tabindex="-1" autofocus {
                    h2 id="error-summary-title" { (text(lang, "error-summary-title", &[])) }
                    ul {
                        @for error in &self.list {
                            li { a href={ "#" (field_id(&error.field)) } { (label_for_in(lang, &error.field)) ": " (error.message) } }
                        }
                    }
                }
            }
        }
    }
}

/// How a field is named to people (the error summary, the console's task view): its label in
/// the catalogue, else the label of its last part (`subject.given_names` → "Given names"), a
/// listed row's with its number ("Employer 2: From"), else its name.
pub fn label_for(field: &str) -> String {
    label_for_in(Lang::En, field)
}

/// The same in `lang` (a label not yet in its catalogue is the English one).
pub fn label_for_in(lang: Lang, field: &str) -> String {
    let known = |name: &str| {
        let id = format!("field-{}", name.replace(['.', '_'], "-"));
        (has(lang, &id) || has(Lang::En, &id)).then(|| text(lang, &id, &[]))
    };
    if let Some((list, rest)) = field.split_once('[')
        && let Some((index, inner)) = rest.split_once(']')
        && let Ok(index) = index.parse::<usize>()
    {
        let number = (index + 1).to_string();
        let inner = inner.trim_start_matches('.');
        let row = match list {
            "subject.previous_employers" => Some("field-employer-row"),
            "subject.referees" => Some("field-referee-row"),
            _ => None,
        };
        return match (row, inner.is_empty()) {
            (Some(row), false) => text(
                lang,
                row,
                &[
                    ("number", number.into()),
                    ("field", label_for_in(lang, inner).into()),
                ],
            ),
            _ => format!("{} {number}", label_for_in(lang, list)),
        };
    }
    known(field)
        .or_else(|| field.rsplit('.').next().and_then(known))
        .unwrap_or_else(|| field.to_owned())
}

/// A text input with its label, hint and error.
pub struct Input<'a> {
    pub name: &'a str,
    pub label: String,
    pub hint: Option<String>,
    pub value: &'a str,
    pub kind: &'a str,
    pub autocomplete: Option<&'a str>,
    pub inputmode: Option<&'a str>,
    pub class: Option<&'a str>,
}

impl<'a> Input<'a> {
    pub fn text(name: &'a str, label: String) -> Self {
        Input {
            name,
            label,
            hint: None,
            value: "",
            kind: "text",
            autocomplete: None,
            inputmode: None,
            class: None,
        }
    }

    pub fn kind(mut self, kind: &'a str) -> Self {
        self.kind = kind;
        self
    }

    pub fn value(mut self, value: &'a str) -> Self {
        self.value = value;
        self
    }

    pub fn hint(mut self, hint: String) -> Self {
        self.hint = Some(hint);
        self
    }

    pub fn autocomplete(mut self, autocomplete: &'a str) -> Self {
        self.autocomplete = Some(autocomplete);
        self
    }

    pub fn inputmode(mut self, inputmode: &'a str) -> Self {
        self.inputmode = Some(inputmode);
        self
    }

    pub fn class(mut self, class: &'a str) -> Self {
        self.class = Some(class);
        self
    }

    pub fn render(&self, errors: &Errors) -> Markup {
        let id = field_id(self.name);
        let error = errors.of(self.name);
        let hint_id = format!("{id}-hint");
        let error_id = format!("{id}-error");
        let described: Vec<&str> = [
            self.hint.as_ref().map(|_| hint_id.as_str()),
            error.map(|_| error_id.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect();
        html! {
            div class=(if error.is_some() { "field has-error" } else { "field" }) {
                label for=(id) { (self.label) }
                @if let Some(hint) = &self.hint { span.hint id=(hint_id) { (hint) } }
                @if let Some(message) = error { span.error-message id=(error_id) { (t("error-prefix")) " " (message) } }
                input id=(id) name=(self.name) type=(self.kind) value=(self.value)
                    class=[self.class]
                    autocomplete=[self.autocomplete] inputmode=[self.inputmode]
                    aria-describedby=[(!described.is_empty()).then(|| described.join(" "))]
                    aria-invalid=[error.map(|_| "true")];
            }
        }
    }
}

/// The hidden field every form carries.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// Rows of a key and its value, as a description list.
pub fn summary_list(rows: &[(String, Markup)]) -> Markup {
    html! {
        dl.summary {
            @for (key, value) in rows {
                dt { (key) }
                dd { (value) }
            }
        }
    }
}

/// A table with a caption and header cells.
pub fn table(caption: &str, headers: &[String], rows: &[Vec<Markup>]) -> Markup {
    html! {
        table {
            caption { (caption) }
            thead { tr { @for header in headers { th scope="col" { (header) } } } }
            tbody {
                @for row in rows {
                    tr { @for cell in row { td { (cell) } } }
                }
            }
        }
    }
}

/// A link to the next page of a list, when there is one.
pub fn pagination(next: Option<&str>) -> Markup {
    html! {
        @if let Some(next) = next {
            nav.pagination aria-label=(t("pagination-label")) {
                ul { li { a href=(next) rel="next" { (t("pagination-next")) } } }
            }
        }
    }
}

/// The confirmation after an action ("Task completed"), or a notice.
pub fn banner(title: &str, text: Option<&str>) -> Markup {
    html! {
        div.banner role="status" {
            p { strong { (title) } @if let Some(text) = text { (text) } }
        }
    }
}

/// A notice that something did not happen or cannot be done, and why.
pub fn notice(title: &str, text: Option<&str>) -> Markup {
    html! {
        div.banner.notice role="status" {
            p { strong { (title) } @if let Some(text) = text { (text) } }
        }
    }
}

/// A moment as staff read it: `2026-12-02 09:30 UTC`.
pub fn date_time(at: time::PrimitiveDateTime) -> String {
    format!("{} {:02}:{:02} UTC", at.date(), at.hour(), at.minute())
}

/// A multi-line text area with its label, hint and error.
pub fn textarea(
    name: &str,
    label: &str,
    hint: Option<&str>,
    value: &str,
    errors: &Errors,
) -> Markup {
    textarea_in(Lang::En, name, label, hint, value, errors)
}

/// The same on a page in `lang` (the subject's).
pub fn textarea_in(
    lang: Lang,
    name: &str,
    label: &str,
    hint: Option<&str>,
    value: &str,
    errors: &Errors,
) -> Markup {
    let id = field_id(name);
    let error = errors.of(name);
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described: Vec<&str> = [
        hint.map(|_| hint_id.as_str()),
        error.map(|_| error_id.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    html! {
        div class=(if error.is_some() { "field has-error" } else { "field" }) {
            label for=(id) { (label) }
            @if let Some(hint) = hint { span.hint id=(hint_id) { (hint) } }
            @if let Some(message) = error { span.error-message id=(error_id) { (text(lang, "error-prefix", &[])) " " (message) } }
            textarea id=(id) name=(name) rows="5"
                aria-describedby=[(!described.is_empty()).then(|| described.join(" "))]
                aria-invalid=[error.map(|_| "true")] { (value) }
        }
    }
}

/// A choice of one among `options` (value, label), as radio buttons in a fieldset whose legend
/// names the question; the first radio carries the field's id for the error summary's link.
pub fn radios(
    name: &str,
    legend: &str,
    options: &[(String, String)],
    chosen: &str,
    errors: &Errors,
) -> Markup {
    radios_in(Lang::En, name, legend, options, chosen, errors)
}

/// The same on a page in `lang` (the subject's).
pub fn radios_in(
    lang: Lang,
    name: &str,
    legend: &str,
    options: &[(String, String)],
    chosen: &str,
    errors: &Errors,
) -> Markup {
    let id = field_id(name);
    let error = errors.of(name);
    html! {
        div class=(if error.is_some() { "field has-error" } else { "field" }) {
            fieldset aria-describedby=[error.map(|_| format!("{id}-error"))] {
                legend { (legend) }
                @if let Some(message) = error { span.error-message id={ (id) "-error" } { (text(lang, "error-prefix", &[])) " " (message) } }
                div.radios {
                    @for (index, (value, label)) in options.iter().enumerate() {
                        @let option_id = if index == 0 { id.clone() } else { format!("{id}-{index}") };
                        label for=(option_id) {
                            input type="radio" id=(option_id) name=(name) value=(value) checked[chosen == value];
                            (label)
                        }
                    }
                }
            }
        }
    }
}

/// A drop-down list of `options` (value, label) with its label; `chosen` is selected.
pub fn select(
    name: &str,
    label: &str,
    options: &[(String, String)],
    chosen: &str,
    errors: &Errors,
) -> Markup {
    let id = field_id(name);
    let error = errors.of(name);
    html! {
        div class=(if error.is_some() { "field has-error" } else { "field" }) {
            label for=(id) { (label) }
            @if let Some(message) = error { span.error-message id={ (id) "-error" } { (t("error-prefix")) " " (message) } }
            select id=(id) name=(name) aria-invalid=[error.map(|_| "true")]
                aria-describedby=[error.map(|_| format!("{id}-error"))] {
                @for (value, text) in options {
                    option value=(value) selected[chosen == value] { (text) }
                }
            }
        }
    }
}

/// A choice of any number among `options` (value, label), as checkboxes in a fieldset whose
/// legend names the question; the first box carries the field's id for the error summary.
pub fn checkboxes(
    name: &str,
    legend: &str,
    options: &[(String, String)],
    chosen: &[String],
    errors: &Errors,
) -> Markup {
    let id = field_id(name);
    let error = errors.of(name);
    html! {
        div class=(if error.is_some() { "field has-error" } else { "field" }) {
            fieldset aria-describedby=[error.map(|_| format!("{id}-error"))] {
                legend { (legend) }
                @if let Some(message) = error { span.error-message id={ (id) "-error" } { (t("error-prefix")) " " (message) } }
                div.checkboxes {
                    @for (index, (value, label)) in options.iter().enumerate() {
                        @let option_id = if index == 0 { id.clone() } else { format!("{id}-{index}") };
                        label for=(option_id) {
                            input type="checkbox" id=(option_id) name=(name) value=(value) checked[chosen.contains(value)];
                            (label)
                        }
                    }
                }
            }
        }
    }
}

/// A list from which several may be chosen (a long one, such as countries), with its label.
pub fn select_many(
    name: &str,
    label: &str,
    hint: &str,
    options: &[(String, String)],
    chosen: &[String],
    errors: &Errors,
) -> Markup {
    let id = field_id(name);
    let error = errors.of(name);
    html! {
        div class=(if error.is_some() { "field has-error" } else { "field" }) {
            label for=(id) { (label) }
            span.hint id={ (id) "-hint" } { (hint) }
            @if let Some(message) = error { span.error-message id={ (id) "-error" } { (t("error-prefix")) " " (message) } }
            select id=(id) name=(name) multiple size="8" aria-invalid=[error.map(|_| "true")]
                aria-describedby={ (id) "-hint" @if error.is_some() { " " (id) "-error" } } {
                @for (value, text) in options {
                    option value=(value) selected[chosen.contains(value)] { (text) }
                }
            }
        }
    }
}

/// A QR code of `text` as an image the CSP allows (an SVG `data:` URL), one unit a module
/// (a vector image: sharp at any size the page scales it to).
pub fn qr_image(text: &str) -> Option<String> {
    use base64::{Engine, engine::general_purpose::STANDARD};
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .module_dimensions(1, 1)
        .quiet_zone(true)
        .build();
    Some(format!(
        "data:image/svg+xml;base64,{}",
        STANDARD.encode(svg)
    ))
}

/// A QR code of `text` as a 1-bit PNG `data:` URL, one pixel a module with the quiet zone; the
/// page scales it up without smoothing. For long texts (a certificate's link) the PNG is a
/// few KB where the SVG would be a hundred.
pub fn qr_png(text: &str) -> Option<String> {
    use base64::{Engine, engine::general_purpose::STANDARD};
    const QUIET: usize = 4;
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let modules = code.width();
    let side = modules + 2 * QUIET;
    let colors = code.to_colors();
    let row_bytes = side.div_ceil(8);
    // 1 is white in a grayscale PNG: start white, clear the dark modules' bits.
    let mut pixels = vec![0xFFu8; row_bytes * side];
    for (i, color) in colors.iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (x, y) = (i % modules + QUIET, i / modules + QUIET);
            pixels[y * row_bytes + x / 8] &= !(0x80 >> (x % 8));
        }
    }
    let mut out = Vec::new();
    {
        let size = u32::try_from(side).ok()?;
        let mut encoder = png::Encoder::new(&mut out, size, size);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        let mut writer = encoder.write_header().ok()?;
        writer.write_image_data(&pixels).ok()?;
    }
    Some(format!("data:image/png;base64,{}", STANDARD.encode(out)))
}
