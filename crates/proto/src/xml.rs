//! Small XML helpers shared by every action (reading text children,
//! escaping on write). Built on quick-xml.
//!
//! Reading is a pull walker over a borrowed document: [`XmlReader::open`]
//! checks the root, [`XmlReader::next_child`] yields the child elements of
//! the element currently open, and each yielded [`Element`] is consumed by
//! exactly one of [`XmlReader::read_text`] (a leaf: its unescaped text),
//! [`XmlReader::enter`] (a container: the following `next_child` calls walk
//! its children) or [`XmlReader::skip`] (anything unknown). Text between
//! elements of a container is ignored. Mismatched or unclosed tags, a
//! truncated document, invalid UTF-8, unknown entities and content after the
//! root are errors; nothing is guessed.
//!
//! Text is returned borrowed from the input when it contains no entity, so a
//! parse allocates little more than the output strings themselves.

use std::borrow::Cow;
use std::fmt;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// Why a document could not be read. The message is what callers put in
/// [`crate::MalformedResponse::reason`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XmlError(String);

impl XmlError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        XmlError(message.into())
    }
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<XmlError> for String {
    fn from(error: XmlError) -> String {
        error.0
    }
}

/// A child element whose start tag has been read. Must be handed to
/// `read_text`, `enter` or `skip` before the next `next_child` call.
#[derive(Debug)]
#[must_use = "an element must be read, entered or skipped"]
pub(crate) struct Element<'a> {
    start: BytesStart<'a>,
}

impl Element<'_> {
    /// The local name (namespace prefix removed).
    pub(crate) fn name(&self) -> &[u8] {
        self.start.local_name().into_inner()
    }

    /// The name for error messages.
    pub(crate) fn display_name(&self) -> String {
        String::from_utf8_lossy(self.name()).into_owned()
    }
}

/// Pull walker over one borrowed XML document.
#[derive(Debug)]
pub(crate) struct XmlReader<'a> {
    reader: Reader<&'a [u8]>,
    /// How many elements are open (the root included).
    depth: usize,
}

impl<'a> XmlReader<'a> {
    /// Check the body is UTF-8 XML whose root element is `<root>`, and open it.
    pub(crate) fn open(body: &'a [u8], root: &str) -> Result<Self, XmlError> {
        let (mut reader, found) = Self::open_any(body)?;
        if found.name() != root.as_bytes() {
            return Err(XmlError::new(format!(
                "expected root element <{root}>, found <{}>",
                found.display_name()
            )));
        }
        reader.enter(found);
        Ok(reader)
    }

    /// Open the document and return its root element (not yet consumed).
    pub(crate) fn open_any(body: &'a [u8]) -> Result<(Self, Element<'a>), XmlError> {
        let text = std::str::from_utf8(body).map_err(|error| {
            XmlError::new(format!(
                "body is not valid UTF-8 (at byte {})",
                error.valid_up_to()
            ))
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.trim().is_empty() {
            return Err(XmlError::new("body is empty"));
        }
        let mut reader = Reader::from_str(text);
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        config.check_comments = true;
        let mut this = XmlReader { reader, depth: 0 };
        loop {
            match this.event()? {
                Event::Start(start) => return Ok((this, Element { start })),
                Event::Text(text) if is_whitespace(&text) => {}
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
                Event::Eof => return Err(XmlError::new("document has no root element")),
                Event::End(_) => return Err(this.error_here("end tag before any element")),
                _ => return Err(this.error_here("text before the root element (not XML)")),
            }
        }
    }

    /// The next child element of the currently open element, or `None` once
    /// that element has closed.
    pub(crate) fn next_child(&mut self) -> Result<Option<Element<'a>>, XmlError> {
        if self.depth == 0 {
            return Ok(None);
        }
        loop {
            match self.event()? {
                Event::Start(start) => return Ok(Some(Element { start })),
                Event::End(_) => {
                    self.depth -= 1;
                    return Ok(None);
                }
                Event::Eof => return Err(self.truncated()),
                // Text, entities, comments between elements carry nothing.
                _ => {}
            }
        }
    }

    /// Walk `element`'s children with the following `next_child` calls.
    pub(crate) fn enter(&mut self, element: Element<'a>) {
        let _ = element;
        self.depth += 1;
    }

    /// Skip `element` and everything inside it.
    pub(crate) fn skip(&mut self, element: Element<'a>) -> Result<(), XmlError> {
        let _ = element;
        let mut nested = 0usize;
        loop {
            match self.event()? {
                Event::Start(_) => nested += 1,
                Event::End(_) if nested == 0 => return Ok(()),
                Event::End(_) => nested -= 1,
                Event::Eof => return Err(self.truncated()),
                _ => {}
            }
        }
    }

    /// The unescaped text of a leaf `element` (CDATA included). An element
    /// inside it is an error: a leaf that grew children is not what we know.
    pub(crate) fn read_text(&mut self, element: Element<'a>) -> Result<Cow<'a, str>, XmlError> {
        let mut text: Cow<'a, str> = Cow::Borrowed("");
        loop {
            match self.event()? {
                Event::Text(piece) => {
                    let piece = piece.decode().map_err(|e| self.error_here(e.to_string()))?;
                    append(&mut text, piece);
                }
                Event::CData(piece) => {
                    let piece = piece.decode().map_err(|e| self.error_here(e.to_string()))?;
                    append(&mut text, piece);
                }
                Event::GeneralRef(reference) => {
                    let resolved =
                        resolve_reference(&reference).map_err(|reason| self.error_here(reason))?;
                    text.to_mut().push_str(&resolved);
                }
                Event::End(_) => return Ok(text),
                Event::Start(inner) => {
                    return Err(self.error_here(format!(
                        "unexpected element <{}> inside <{}>",
                        String::from_utf8_lossy(inner.local_name().into_inner()),
                        element.display_name()
                    )));
                }
                Event::Eof => return Err(self.truncated()),
                Event::Comment(_) | Event::PI(_) | Event::Decl(_) | Event::DocType(_) => {}
                // quick-xml has no other events with `expand_empty_elements`.
                _ => {}
            }
        }
    }

    /// After the root closed: only comments, processing instructions and
    /// whitespace may follow.
    pub(crate) fn finish(mut self) -> Result<(), XmlError> {
        if self.depth != 0 {
            return Err(XmlError::new("internal: document not fully read"));
        }
        loop {
            match self.event()? {
                Event::Eof => return Ok(()),
                Event::Text(text) if is_whitespace(&text) => {}
                Event::Comment(_) | Event::PI(_) => {}
                _ => return Err(self.error_here("content after the root element")),
            }
        }
    }

    fn event(&mut self) -> Result<Event<'a>, XmlError> {
        self.reader.read_event().map_err(|error| {
            XmlError::new(format!(
                "XML error at byte {}: {error}",
                self.reader.error_position()
            ))
        })
    }

    fn truncated(&self) -> XmlError {
        XmlError::new(format!(
            "document is truncated: it ends at byte {} with elements still open",
            self.reader.buffer_position()
        ))
    }

    fn error_here(&self, message: impl fmt::Display) -> XmlError {
        XmlError::new(format!(
            "{message} (near byte {})",
            self.reader.buffer_position()
        ))
    }
}

fn is_whitespace(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

fn append<'a>(text: &mut Cow<'a, str>, piece: Cow<'a, str>) {
    if text.is_empty() {
        *text = piece;
    } else {
        text.to_mut().push_str(&piece);
    }
}

/// `&amp;`-style predefined entities and `&#…;` character references. Any
/// other entity would need a DTD, which CI never sends.
fn resolve_reference(
    reference: &quick_xml::events::BytesRef<'_>,
) -> Result<Cow<'static, str>, String> {
    match reference.resolve_char_ref() {
        Ok(Some(ch)) => return Ok(Cow::Owned(ch.to_string())),
        Ok(None) => {}
        Err(error) => return Err(format!("bad character reference: {error}")),
    }
    let name = reference.decode().map_err(|error| error.to_string())?;
    quick_xml::escape::resolve_predefined_entity(&name)
        .map(Cow::Borrowed)
        .ok_or_else(|| format!("unknown entity `&{name};`"))
}

/// Return the document's root element name if it parses that far (used to
/// spot a 2xx answer that is really an `<Error>`).
pub(crate) fn root_name(body: &[u8]) -> Option<String> {
    XmlReader::open_any(body)
        .ok()
        .map(|(_, root)| root.display_name())
}

/// Append `text` with `&`, `<`, `>` escaped, and `\r` as a character
/// reference so it survives line-end normalisation in other readers.
pub(crate) fn escape_text_into(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(index) = rest.find(['&', '<', '>', '\r']) {
        let (plain, tail) = rest.split_at(index);
        out.push_str(plain);
        let mut chars = tail.chars();
        match chars.next() {
            Some('&') => out.push_str("&amp;"),
            Some('<') => out.push_str("&lt;"),
            Some('>') => out.push_str("&gt;"),
            Some('\r') => out.push_str("&#13;"),
            Some(other) => out.push(other),
            None => {}
        }
        rest = chars.as_str();
    }
    out.push_str(rest);
}

/// Append `<name>text</name>` (text escaped) and a newline, the layout the
/// service uses.
pub(crate) fn write_text_element(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    escape_text_into(out, text);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

/// Append `<name>` and a newline.
pub(crate) fn open_element(out: &mut String, name: &str) {
    out.push('<');
    out.push_str(name);
    out.push_str(">\n");
}

/// Append `</name>` and a newline.
pub(crate) fn close_element(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

/// Keeps the first value of a singleton field and refuses a second one:
/// two `<RunId>`s in one record are ambiguous, and guessing would be a
/// partial success.
pub(crate) fn set_once<T>(slot: &mut Option<T>, value: T, name: &str) -> Result<(), XmlError> {
    if slot.is_some() {
        return Err(XmlError::new(format!(
            "element <{name}> appears more than once"
        )));
    }
    *slot = Some(value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(body: &str) -> Result<Vec<(String, String)>, XmlError> {
        let mut reader = XmlReader::open(body.as_bytes(), "R")?;
        let mut out = Vec::new();
        while let Some(child) = reader.next_child()? {
            if child.name() == b"Skip" {
                reader.skip(child)?;
                continue;
            }
            let name = child.display_name();
            let text = reader.read_text(child)?;
            out.push((name, text.into_owned()));
        }
        reader.finish()?;
        Ok(out)
    }

    #[test]
    fn reads_leaves_with_entities_cdata_and_empty_elements() {
        let got = leaves(
            "<?xml version='1.0'?><!-- c --><R>\n <A>x &amp; y &#x4E2D;&#25991;</A><B/><C><![CDATA[<raw>]]></C>\
             <Skip><D><E>deep</E></D></Skip></R>\n",
        );
        assert_eq!(
            got,
            Ok(vec![
                ("A".to_owned(), "x & y 中文".to_owned()),
                ("B".to_owned(), String::new()),
                ("C".to_owned(), "<raw>".to_owned()),
            ])
        );
    }

    #[test]
    fn refuses_broken_documents() {
        for body in [
            "",
            "   ",
            "<R><A>x</B></R>",
            "<R><A>x</A>",
            "<R><A>x",
            "<R><A",
            "<Q></Q>",
            "<R><A><B>1</B></A></R>",
            "<R><A>&bogus;</A></R>",
            "<R></R><R></R>",
            "<R></R>trailing",
            "hello",
            "{\"json\":1}",
        ] {
            assert!(leaves(body).is_err(), "accepted {body:?}");
        }
        assert!(XmlReader::open(b"<R>\xff</R>", "R").is_err());
    }

    #[test]
    fn escape_round_trips_through_the_reader() {
        let nasty = " a&b<c>d\r\n\"e'f ]]> &amp; ";
        let mut doc = String::from("<R>");
        write_text_element(&mut doc, "A", nasty);
        doc.push_str("</R>");
        assert_eq!(leaves(&doc), Ok(vec![("A".to_owned(), nasty.to_owned())]));
    }
}
