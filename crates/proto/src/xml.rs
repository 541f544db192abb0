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
//!
//! Speed: quick-xml tokenises everything except the shapes that make up
//! most of a listing page and that the walker reads itself, checking them
//! byte for byte: plain text between elements (indentation), a whole leaf
//! `<Name>plain text</Name>` (bare name, no entity or markup inside, exact
//! end tag), the plain start tag `<Name>` of an element that is entered and
//! then its end tag (checked against the name as quick-xml would, with the
//! same error), and, after a start tag quick-xml read, plain text up to this
//! element's own end tag. quick-xml never sees both tags of any element it
//! did not open, so its own stack of open elements stays true. Any other
//! input, including every malformed one, falls through to quick-xml and is
//! judged there; a property test (`fast_path_equivalence`) checks the walk
//! gives exactly what plain quick-xml events give, on generated and on
//! damaged documents.

use std::borrow::Cow;
use std::fmt;

use quick_xml::Reader;
use quick_xml::errors::IllFormedError;
use quick_xml::events::{BytesStart, Event};
use quick_xml::parser::{ElementParser, Parser};

use crate::tree::{XmlNode, XmlTree};

/// How deep a generic [`XmlTree`] may nest.
pub const MAX_TREE_DEPTH: usize = 64;

/// Why a document could not be read. The message is what callers put in
/// [`crate::MalformedResponse::reason`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError(String);

impl XmlError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        XmlError(message.into())
    }

    /// The same error, said to be inside element `<name>` (the `index`-th
    /// of a repeated one, from 1), so nested errors read as a path:
    /// `<Tasks> #2: <CreateTime>: invalid timestamp …`.
    #[cold]
    pub fn within(self, name: &str, index: Option<usize>) -> Self {
        match index {
            Some(index) => XmlError(format!("<{name}> #{index}: {}", self.0)),
            None => XmlError(format!("<{name}>: {}", self.0)),
        }
    }
}

impl std::error::Error for XmlError {}

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
pub struct Element<'a> {
    /// The qualified name as written (`ci:Code`), borrowed from the input.
    qualified_name: &'a [u8],
    /// The same without its namespace prefix (`Code`).
    local_name: &'a [u8],
    /// `Some` when the fast path already consumed the whole leaf
    /// (`<Name>text</Name>`): its text, with the end tag behind it.
    consumed_text: Option<&'a str>,
    /// The length of a plain start tag `<Name>` nobody has read yet (the
    /// fast path only looked at it), else 0 (quick-xml read it, or the
    /// whole leaf was consumed).
    unread_start: usize,
}

impl<'a> Element<'a> {
    fn new(qualified_name: &'a [u8]) -> Self {
        // Names are short: a plain scan beats a memchr call here.
        let local_name = match qualified_name.iter().rposition(|&b| b == b':') {
            Some(colon) => qualified_name.get(colon + 1..).unwrap_or_default(),
            None => qualified_name,
        };
        Element {
            qualified_name,
            local_name,
            consumed_text: None,
            unread_start: 0,
        }
    }

    /// The local name (namespace prefix removed).
    pub fn name(&self) -> &'a [u8] {
        self.local_name
    }

    /// The name for error messages.
    pub fn display_name(&self) -> String {
        String::from_utf8_lossy(self.name()).into_owned()
    }
}

/// Pull walker over one borrowed XML document.
///
/// Events are matched by reference where quick-xml returns them rather than
/// moved through helper frames: on a full page that copying cost as much as
/// the tokenising itself.
#[derive(Debug)]
pub struct XmlReader<'a> {
    reader: Reader<&'a [u8]>,
    /// The whole document, already checked to be UTF-8: text events are
    /// sliced out of it instead of being validated again.
    source: &'a str,
    /// How many elements are open (the root included).
    depth: usize,
    /// Bytes consumed by the fast paths behind quick-xml's back, so error
    /// positions stay true.
    skipped: u64,
    /// A fully consumed leaf was entered as a container: the next
    /// `next_child` reports its (already read) end.
    pending_end: bool,
    /// Elements entered whose start tag quick-xml never saw (the fast path
    /// read it), with their depth once entered, innermost last: their end
    /// tags must be read here too, and checked against these names.
    fast_open: Vec<(usize, &'a [u8])>,
}

impl<'a> XmlReader<'a> {
    /// Check the body is UTF-8 XML whose root element is `<root>`, and open it.
    pub fn open(body: &'a [u8], root: &str) -> Result<Self, XmlError> {
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
    pub fn open_any(body: &'a [u8]) -> Result<(Self, Element<'a>), XmlError> {
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
        let mut this = XmlReader {
            reader,
            source: text,
            depth: 0,
            skipped: 0,
            pending_end: false,
            fast_open: Vec::new(),
        };
        loop {
            let event = this.reader.read_event();
            match &event {
                Ok(Event::Start(start)) => {
                    let element = this.element(start)?;
                    return Ok((this, element));
                }
                Ok(Event::Text(text)) if is_whitespace(text) => {}
                Ok(Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_)) => {}
                Ok(Event::Eof) => return Err(XmlError::new("document has no root element")),
                Ok(Event::End(_)) => return Err(this.error_here("end tag before any element")),
                Ok(_) => return Err(this.error_here("text before the root element (not XML)")),
                Err(error) => return Err(this.syntax_error(error)),
            }
        }
    }

    /// The next child element of the currently open element, or `None` once
    /// that element has closed.
    // The fast step is inlined into each record's reader, the rest kept out
    // of line: a call per child, with its result passed through memory,
    // cost about 6% of a listing page.
    #[inline(always)]
    pub fn next_child(&mut self) -> Result<Option<Element<'a>>, XmlError> {
        if self.depth != 0 && !self.pending_end {
            self.skip_plain_text();
            if let Some(element) = self.simple_element() {
                return Ok(Some(element));
            }
            if let Some(closed) = self.fast_end() {
                return closed.map(|()| None);
            }
        }
        self.next_child_slow()
    }

    /// Text between elements carries nothing: plain text (usually
    /// indentation) is skipped here rather than produced and dropped as an
    /// event. This also keeps quick-xml from ever ending a text event at a
    /// `<`, which it consumes with the text: `fast_end` must see the whole
    /// end tag.
    #[inline(always)]
    fn skip_plain_text(&mut self) {
        let input: &'a [u8] = self.reader.get_ref();
        // Mostly one newline, or nothing: not worth a word-wise scan.
        if let Some(plain) = input.iter().position(|&b| b == b'<' || b == b'&') {
            self.skip_input(plain);
        }
    }

    /// [`XmlReader::next_child`] past its fast path: an element already
    /// closed, or (the fast path having just found nothing) markup
    /// quick-xml reads. The fast path is tried again after each event
    /// quick-xml reads and the walker ignores. (It is written out in both
    /// places: returned through a helper, the element was copied once more
    /// on every child, +2.7% instructions a listing page.)
    #[inline(never)]
    fn next_child_slow(&mut self) -> Result<Option<Element<'a>>, XmlError> {
        if self.depth == 0 {
            return Ok(None);
        }
        if std::mem::take(&mut self.pending_end) {
            self.depth -= 1;
            return Ok(None);
        }
        loop {
            let event = self.reader.read_event();
            match &event {
                Ok(Event::Start(start)) => return self.element(start).map(Some),
                Ok(Event::End(_)) => {
                    self.depth -= 1;
                    return Ok(None);
                }
                Ok(Event::Eof) => return Err(self.truncated()),
                // Text, entities, comments between elements carry nothing.
                Ok(_) => {}
                Err(error) => return Err(self.syntax_error(error)),
            }
            self.skip_plain_text();
            if let Some(element) = self.simple_element() {
                return Ok(Some(element));
            }
            if let Some(closed) = self.fast_end() {
                return closed.map(|()| None);
            }
        }
    }

    /// Walk `element`'s children with the following `next_child` calls.
    pub fn enter(&mut self, element: Element<'a>) {
        self.depth += 1;
        // A leaf read whole has no children left to walk.
        self.pending_end = element.consumed_text.is_some();
        if element.unread_start > 0 {
            // quick-xml never sees this element's tags: it stays balanced.
            self.skip_input(element.unread_start);
            self.fast_open.push((self.depth, element.qualified_name));
        }
    }

    /// Let quick-xml read a start tag the fast path only looked at, so it
    /// checks the element's end tag itself.
    fn read_unread_start(&mut self, element: &Element<'a>) -> Result<(), XmlError> {
        if element.unread_start == 0 {
            return Ok(());
        }
        let event = self.reader.read_event();
        match &event {
            Ok(Event::Start(_)) => Ok(()),
            Ok(_) => Err(self.error_here("internal: expected a start tag")),
            Err(error) => Err(self.syntax_error(error)),
        }
    }

    /// Skip `element` and everything inside it.
    pub fn skip(&mut self, element: Element<'a>) -> Result<(), XmlError> {
        if element.consumed_text.is_some() {
            return Ok(());
        }
        self.read_unread_start(&element)?;
        let mut nested = 0usize;
        loop {
            let event = self.reader.read_event();
            match &event {
                Ok(Event::Start(_)) => nested += 1,
                Ok(Event::End(_)) if nested == 0 => return Ok(()),
                Ok(Event::End(_)) => nested -= 1,
                Ok(Event::Eof) => return Err(self.truncated()),
                Ok(_) => {}
                Err(error) => return Err(self.syntax_error(error)),
            }
        }
    }

    /// The unescaped text of a leaf `element` (CDATA included). An element
    /// inside it is an error: a leaf that grew children is not what we know.
    // Inline so a leaf the fast path consumed costs the caller one branch.
    #[inline]
    pub fn read_text(&mut self, element: Element<'a>) -> Result<Cow<'a, str>, XmlError> {
        match element.consumed_text {
            Some(text) => Ok(Cow::Borrowed(text)),
            None => self.read_unconsumed_text(element),
        }
    }

    #[inline(never)]
    fn read_unconsumed_text(&mut self, element: Element<'a>) -> Result<Cow<'a, str>, XmlError> {
        self.read_unread_start(&element)?;
        if let Some(text) = self.plain_text_before_end(&element) {
            // quick-xml still reads (and checks) the end tag itself.
            let event = self.reader.read_event();
            return match &event {
                Ok(Event::End(_)) => Ok(Cow::Borrowed(text)),
                Ok(_) => Err(self.error_here("internal: expected an end tag")),
                Err(error) => Err(self.syntax_error(error)),
            };
        }
        let mut text: Cow<'a, str> = Cow::Borrowed("");
        loop {
            let event = self.reader.read_event();
            match &event {
                Ok(Event::Text(piece)) => append(&mut text, self.source_text(piece)),
                Ok(Event::CData(piece)) => append(&mut text, self.source_text(piece)),
                Ok(Event::GeneralRef(reference)) => {
                    let resolved =
                        resolve_reference(reference).map_err(|reason| self.error_here(reason))?;
                    text.to_mut().push_str(&resolved);
                }
                Ok(Event::End(_)) => return Ok(text),
                Ok(Event::Start(inner)) => {
                    return Err(self.error_here(format!(
                        "unexpected element <{}> inside <{}>",
                        String::from_utf8_lossy(inner.local_name().into_inner()),
                        element.display_name()
                    )));
                }
                Ok(Event::Eof) => return Err(self.truncated()),
                // Comments and processing instructions carry no text.
                Ok(_) => {}
                Err(error) => return Err(self.syntax_error(error)),
            }
        }
    }

    /// The content of `element` as a generic tree: its text if it has no
    /// child elements, else its children in order (text between them is
    /// ignored). Nesting deeper than [`MAX_TREE_DEPTH`] is an error, so a
    /// hostile document cannot make later recursive walks overflow.
    pub fn read_tree(&mut self, element: Element<'a>) -> Result<XmlTree, XmlError> {
        if let Some(text) = element.consumed_text {
            return Ok(XmlTree::Text(text.to_owned()));
        }
        self.read_unread_start(&element)?;
        // (name, text so far, children so far) per open element.
        let mut open: Vec<(String, String, Vec<XmlNode>)> =
            vec![(element.display_name(), String::new(), Vec::new())];
        loop {
            let event = self.reader.read_event();
            let Some((_, text, _)) = open.last_mut() else {
                return Err(self.error_here("internal: tree stack empty"));
            };
            match &event {
                Ok(Event::Start(start)) => {
                    if open.len() >= MAX_TREE_DEPTH {
                        return Err(self.error_here(format!(
                            "elements nested more than {MAX_TREE_DEPTH} deep"
                        )));
                    }
                    let name =
                        String::from_utf8_lossy(start.local_name().into_inner()).into_owned();
                    open.push((name, String::new(), Vec::new()));
                }
                Ok(Event::Text(piece)) => text.push_str(&self.source_text(piece)),
                Ok(Event::CData(piece)) => text.push_str(&self.source_text(piece)),
                Ok(Event::GeneralRef(reference)) => {
                    let resolved =
                        resolve_reference(reference).map_err(|reason| self.error_here(reason))?;
                    text.push_str(&resolved);
                }
                Ok(Event::End(_)) => {
                    let Some((name, text, children)) = open.pop() else {
                        return Err(self.error_here("internal: tree stack empty"));
                    };
                    let content = if children.is_empty() {
                        XmlTree::Text(text)
                    } else {
                        XmlTree::Elements(children)
                    };
                    match open.last_mut() {
                        Some((_, _, siblings)) => siblings.push(XmlNode { name, content }),
                        None => return Ok(content),
                    }
                }
                Ok(Event::Eof) => return Err(self.truncated()),
                Ok(_) => {}
                Err(error) => return Err(self.syntax_error(error)),
            }
        }
    }

    /// After the root closed: only comments, processing instructions and
    /// whitespace may follow.
    pub fn finish(mut self) -> Result<(), XmlError> {
        if self.depth != 0 {
            return Err(XmlError::new("internal: document not fully read"));
        }
        loop {
            let event = self.reader.read_event();
            match &event {
                Ok(Event::Eof) => return Ok(()),
                Ok(Event::Text(text)) if is_whitespace(text) => {}
                Ok(Event::Comment(_) | Event::PI(_)) => {}
                Ok(_) => return Err(self.error_here("content after the root element")),
                Err(error) => return Err(self.syntax_error(error)),
            }
        }
    }

    /// The element whose start tag quick-xml just read. An empty element
    /// (`<Name/>`) is finished on the spot, as a consumed leaf with empty
    /// text: quick-xml has yet to report its end without reading input, and
    /// until it has, no fast path may read input behind its back.
    fn element(&mut self, start: &BytesStart<'a>) -> Result<Element<'a>, XmlError> {
        let Some(qualified_name) = self.source_str(start.name().into_inner()) else {
            return Err(self.error_here("internal: element name not borrowed from the input"));
        };
        let mut element = Element::new(qualified_name.as_bytes());
        // quick-xml takes a start tag ending in `/>` as empty.
        let read = self.source.len() - self.reader.get_ref().len();
        if read
            .checked_sub(2)
            .and_then(|at| self.source.as_bytes().get(at))
            == Some(&b'/')
        {
            let event = self.reader.read_event();
            match &event {
                Ok(Event::End(_)) => element.consumed_text = Some(""),
                Ok(_) => return Err(self.error_here("internal: expected an end tag")),
                Err(error) => return Err(self.syntax_error(error)),
            }
        }
        Ok(element)
    }

    /// Fast path for the two shapes of nearly every element of a listing,
    /// read without quick-xml so that it never sees either tag and its
    /// open-element stack stays balanced:
    ///
    /// - a whole leaf `<Name>plain text</Name>` (a bare name, no attributes,
    ///   no entity, no markup inside, the exact end tag): consumed, text and
    ///   all;
    /// - a plain start tag `<Name>` of anything else: only looked at. If the
    ///   element is entered, [`XmlReader::enter`] consumes the tag and
    ///   [`XmlReader::fast_end`] later reads its end tag; otherwise quick-xml
    ///   reads it first ([`XmlReader::read_unread_start`]).
    ///
    /// Anything else returns `None` and goes through quick-xml, which checks
    /// it fully. On a listing page this leaves quick-xml only the root.
    #[inline(always)]
    fn simple_element(&mut self) -> Option<Element<'a>> {
        let input: &'a [u8] = self.reader.get_ref();
        let tag = input.strip_prefix(b"<")?;
        if NAME_BYTES[usize::from(*tag.first()?)] != NAME_START {
            return None;
        }
        let name_len = simple_name_len(tag);
        let (name, after_name) = tag.split_at(name_len);
        let content = after_name.strip_prefix(b">")?;
        // `<` + name + `>`.
        let start_len = name_len + 2;
        match self.leaf_text(input, name, start_len, content) {
            Some((text, leaf_len)) => {
                self.skip_input(leaf_len);
                Some(Element {
                    qualified_name: name,
                    local_name: name,
                    consumed_text: Some(text),
                    unread_start: 0,
                })
            }
            None => Some(Element {
                qualified_name: name,
                local_name: name,
                consumed_text: None,
                unread_start: start_len,
            }),
        }
    }

    /// The text and whole length of the leaf `<name>content` starts, if
    /// it is plain text followed by exactly `</name>`.
    #[inline(always)]
    fn leaf_text(
        &self,
        input: &'a [u8],
        name: &[u8],
        start_len: usize,
        content: &'a [u8],
    ) -> Option<(&'a str, usize)> {
        let text_len = find_markup(content)?;
        let rest = content.get(text_len..)?.strip_prefix(b"</")?;
        let rest = strip_name(rest, name)?.strip_prefix(b">")?;
        // `input` is what the reader has left of `source`, so the text's
        // offset in `source` follows from the lengths: one checked slice.
        let start = self.source.len().checked_sub(input.len())? + start_len;
        let text = self.source.get(start..start + text_len)?;
        debug_assert_eq!(text.as_ptr(), input[start_len..].as_ptr());
        Some((text, input.len() - rest.len()))
    }

    /// At an end tag, if the element being walked was opened by the fast
    /// path: read the end tag here, as quick-xml would with that element on
    /// its stack (same end, same trimming, same error). `None`: not such an
    /// end tag, or one quick-xml refuses whatever its stack holds (no `>`),
    /// so quick-xml reads it.
    #[inline(always)]
    fn fast_end(&mut self) -> Option<Result<(), XmlError>> {
        let &(depth, name) = self.fast_open.last()?;
        if depth != self.depth {
            return None;
        }
        let input: &'a [u8] = self.reader.get_ref();
        let tag = input.strip_prefix(b"</")?;
        let len = match strip_name(tag, name).and_then(|rest| rest.strip_prefix(b">")) {
            Some(rest) => input.len() - rest.len(),
            None => match self.written_end(input, name)? {
                Ok(len) => len,
                Err(error) => return Some(Err(error)),
            },
        };
        self.skip_input(len);
        self.fast_open.pop();
        self.depth -= 1;
        Some(Ok(()))
    }

    /// [`XmlReader::fast_end`] for an end tag written other than exactly
    /// `</name>` (spaces before the `>`, or another name): its length if it
    /// closes `name`, quick-xml's error if it does not.
    #[inline(never)]
    fn written_end(&self, input: &'a [u8], name: &[u8]) -> Option<Result<usize, XmlError>> {
        // From the `/` to before the `>`, quotes respected.
        let from_slash = input.get(1..)?;
        let end = ElementParser::Outside.feed(from_slash)?;
        let written = from_slash.get(1..end)?;
        let found = match written.iter().rposition(|&b| !is_xml_space(b)) {
            Some(last) => written.get(..=last).unwrap_or_default(),
            None => written,
        };
        if found != name {
            return Some(Err(self.mismatched_end(name, found)));
        }
        Some(Ok(end + 2))
    }

    /// Fast path for the common leaf `<Name>plain text</Name>`: when the
    /// input up to the next `<` holds no entity and that `<` opens this
    /// element's end tag, consume the text and return it borrowed. Anything
    /// else (entities, CDATA, comments, children) takes the event path.
    fn plain_text_before_end(&mut self, element: &Element<'a>) -> Option<&'a str> {
        let input: &'a [u8] = self.reader.get_ref();
        let text_len = find_markup(input)?;
        let tag = input.get(text_len..)?.strip_prefix(b"</")?;
        let after_name = tag.strip_prefix(element.qualified_name)?;
        if !matches!(
            after_name.first(),
            Some(b'>' | b' ' | b'\t' | b'\r' | b'\n')
        ) {
            return None;
        }
        let text = self.source_str(input.get(..text_len)?)?;
        self.skip_input(text_len);
        Some(text)
    }

    /// Consume `count` bytes of input without quick-xml seeing them. Only
    /// ever called at a point where quick-xml expects text, with text.
    #[inline(always)]
    fn skip_input(&mut self, count: usize) {
        if count == 0 {
            return;
        }
        let input = self.reader.get_mut();
        *input = input.get(count..).unwrap_or_default();
        self.skipped += count as u64;
    }

    /// The `&'a str` view of bytes the reader handed out. They are borrowed
    /// from `source` (a slice reader never copies), so this is a
    /// bounds-checked re-slice rather than a second UTF-8 validation.
    fn source_str(&self, bytes: &[u8]) -> Option<&'a str> {
        let start = (bytes.as_ptr() as usize).checked_sub(self.source.as_ptr() as usize)?;
        let text = self.source.get(start..start.checked_add(bytes.len())?)?;
        (text.as_ptr() == bytes.as_ptr()).then_some(text)
    }

    fn source_text(&self, bytes: &[u8]) -> Cow<'a, str> {
        match self.source_str(bytes) {
            Some(text) => Cow::Borrowed(text),
            // Not reachable with a slice reader; stay correct anyway.
            None => Cow::Owned(String::from_utf8_lossy(bytes).into_owned()),
        }
    }

    #[cold]
    #[inline(never)]
    fn syntax_error(&self, error: &quick_xml::Error) -> XmlError {
        XmlError::new(format!(
            "XML error at byte {}: {error}",
            self.reader.error_position() + self.skipped
        ))
    }

    /// quick-xml's own error for an end tag that does not close the open
    /// element, at the same position.
    #[cold]
    #[inline(never)]
    fn mismatched_end(&self, expected: &[u8], found: &[u8]) -> XmlError {
        let error = quick_xml::Error::IllFormed(IllFormedError::MismatchedEndTag {
            expected: String::from_utf8_lossy(expected).into_owned(),
            found: String::from_utf8_lossy(found).into_owned(),
        });
        XmlError::new(format!(
            "XML error at byte {}: {error}",
            self.reader.buffer_position() + self.skipped
        ))
    }

    #[cold]
    fn truncated(&self) -> XmlError {
        XmlError::new(format!(
            "document is truncated: it ends at byte {} with elements still open",
            self.reader.buffer_position() + self.skipped
        ))
    }

    #[cold]
    fn error_here(&self, message: impl fmt::Display) -> XmlError {
        XmlError::new(format!(
            "{message} (near byte {})",
            self.reader.buffer_position() + self.skipped
        ))
    }
}

fn is_whitespace(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| is_xml_space(*b))
}

/// Index of the first `<` or `&`: where plain text ends. Eight bytes at a
/// time (the classic "has a zero byte" bit trick on `chunk ^ needle`),
/// because this scan covers most of a page's bytes.
#[inline(always)]
fn find_markup(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const LESS_THAN: u64 = u64::from_ne_bytes([b'<'; 8]);
    const AMPERSAND: u64 = u64::from_ne_bytes([b'&'; 8]);
    let has_zero_byte = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        // Little-endian order so the lowest set bit is the first byte.
        let word = u64::from_le_bytes(word);
        let found = has_zero_byte(word ^ LESS_THAN) | has_zero_byte(word ^ AMPERSAND);
        if found != 0 {
            // Borrows only run upwards, so the lowest flag is a true match.
            return Some(offset + (found.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    let tail = chunks
        .remainder()
        .iter()
        .position(|&b| b == b'<' || b == b'&')?;
    Some(offset + tail)
}

/// [`NAME_BYTES`] classes: not a name byte the fast path handles.
const NAME_OTHER: u8 = 0;
/// A letter or `_`: may start a name.
const NAME_START: u8 = 1;
/// A digit, `-` or `.`: may continue a name.
const NAME_MORE: u8 = 2;

/// Name characters the fast path handles (a conservative ASCII subset of
/// XML's `NameChar`, without `:`, so the local name is the name; anything
/// else takes the full path), as a table because names are scanned byte by
/// byte on every element of a page.
static NAME_BYTES: [u8; 256] = {
    let mut table = [NAME_OTHER; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = if b.is_ascii_alphabetic() || b == b'_' {
            NAME_START
        } else if b.is_ascii_digit() || b == b'-' || b == b'.' {
            NAME_MORE
        } else {
            NAME_OTHER
        };
        byte += 1;
    }
    table
};

/// The length of the simple name `tag` starts with (its first byte already
/// checked). Inlined now that the common case is the unrolled window
/// below (the plain loop, inlined, carried every offset its caller derives
/// from the length and cost twice as much per byte). A word-at-a-time
/// class test, four range checks per word, cost more than the table on
/// listing names.
#[inline]
fn simple_name_len(tag: &[u8]) -> usize {
    // Nearly every name ends within 16 bytes, and the tag is followed by
    // more input: over a fixed window the loop unrolls with no bounds
    // check per byte.
    let mut len = 1;
    if let Some(window) = tag.first_chunk::<16>() {
        for (at, &byte) in window.iter().enumerate().skip(1) {
            if NAME_BYTES[usize::from(byte)] == NAME_OTHER {
                return at;
            }
        }
        len = window.len();
    }
    while let Some(&byte) = tag.get(len) {
        if NAME_BYTES[usize::from(byte)] == NAME_OTHER {
            break;
        }
        len += 1;
    }
    len
}

/// `input` without its first `name.len()` bytes if they are `name`. Names
/// are short: two overlapping word compares beat a `memcmp` call.
#[inline]
fn strip_name<'b>(input: &'b [u8], name: &[u8]) -> Option<&'b [u8]> {
    let (head, rest) = input.split_at_checked(name.len())?;
    let same = match (head.first_chunk::<8>(), head.last_chunk::<8>()) {
        (Some(first), Some(last)) if head.len() <= 16 => {
            Some(first) == name.first_chunk::<8>() && Some(last) == name.last_chunk::<8>()
        }
        _ => match (head.first_chunk::<4>(), head.last_chunk::<4>()) {
            (Some(first), Some(last)) if head.len() < 8 => {
                Some(first) == name.first_chunk::<4>() && Some(last) == name.last_chunk::<4>()
            }
            _ => head == name,
        },
    };
    same.then_some(rest)
}

/// XML's `S` production (not form feed, unlike `u8::is_ascii_whitespace`).
fn is_xml_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n')
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

/// Whether the document's root element is `<name>` (used to spot a 2xx
/// answer that is really an `<Error>`). Looks only at the prolog and the
/// first tag, so it costs nothing on a large page.
pub(crate) fn root_is(body: &[u8], name: &str) -> bool {
    let mut rest = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    loop {
        rest = rest.trim_ascii_start();
        let skip_to = |rest: &[u8], end: &[u8]| {
            rest.windows(end.len())
                .position(|w| w == end)
                .map(|at| at + end.len())
        };
        let after = if rest.starts_with(b"<?") {
            skip_to(rest, b"?>")
        } else if rest.starts_with(b"<!--") {
            skip_to(rest, b"-->")
        } else if rest.starts_with(b"<!") {
            skip_to(rest, b">")
        } else {
            break;
        };
        match after.and_then(|at| rest.get(at..)) {
            Some(tail) => rest = tail,
            None => return false,
        }
    }
    let Some(tag) = rest.strip_prefix(b"<") else {
        return false;
    };
    let end = tag
        .iter()
        .position(|&b| b.is_ascii_whitespace() || b == b'>' || b == b'/')
        .unwrap_or(tag.len());
    let qualified = tag.get(..end).unwrap_or_default();
    // Compare the local name, as the full reader does.
    let local = qualified.rsplit(|&b| b == b':').next().unwrap_or_default();
    local == name.as_bytes()
}

/// Append `text` with `&`, `<`, `>` escaped, and `\r` as a character
/// reference so it survives line-end normalisation in other readers.
pub fn escape_text_into(out: &mut String, text: &str) {
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
pub fn write_text_element(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    escape_text_into(out, text);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

/// Append `<name>` and a newline.
pub fn open_element(out: &mut String, name: &str) {
    out.push('<');
    out.push_str(name);
    out.push_str(">\n");
}

/// Append `</name>` and a newline.
pub fn close_element(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
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
    fn fast_and_slow_text_paths_agree() {
        let got = leaves(
            "<ci:R xmlns:ci='urn:x'>\r\n\t<ci:A>plain</ci:A>\r\n<B >spaced end</B >\
             <C>before<!-- note -->after</C><D>a&lt;b</D><E>x<?pi?>y</E><F>1>2</F></ci:R>",
        );
        assert_eq!(
            got,
            Ok(vec![
                ("A".to_owned(), "plain".to_owned()),
                ("B".to_owned(), "spaced end".to_owned()),
                ("C".to_owned(), "beforeafter".to_owned()),
                ("D".to_owned(), "a<b".to_owned()),
                ("E".to_owned(), "xy".to_owned()),
                ("F".to_owned(), "1>2".to_owned()),
            ])
        );
        // A look-alike end tag of a longer name is not this element's end.
        assert!(leaves("<R><A>x</AB></R>").is_err());
        assert!(leaves("<R><A>x</A></R>").is_ok());
    }

    /// Walk a document generically: leaves as `name=text`, containers as
    /// `name{...}` (a container is whatever is named `C…`).
    pub(super) fn outline(body: impl AsRef<[u8]>) -> Result<String, XmlError> {
        fn walk(reader: &mut XmlReader<'_>, out: &mut String) -> Result<(), XmlError> {
            while let Some(child) = reader.next_child()? {
                let name = child.display_name();
                if name.starts_with('C') {
                    reader.enter(child);
                    out.push_str(&format!("{name}{{"));
                    walk(reader, out)?;
                    out.push('}');
                } else if name.starts_with('S') {
                    reader.skip(child)?;
                } else {
                    let text = reader.read_text(child)?;
                    out.push_str(&format!("{name}={text};"));
                }
            }
            Ok(())
        }
        let mut reader = XmlReader::open(body.as_ref(), "R")?;
        let mut out = String::new();
        walk(&mut reader, &mut out)?;
        reader.finish()?;
        Ok(out)
    }

    #[test]
    fn whole_leaf_fast_path_mixes_with_containers() {
        assert_eq!(
            outline(
                "<R><C1><A>1</A><C2>ignored text</C2><C3></C3><C4/><Sx>2</Sx><Sy><A>3</A></Sy>\
                 <B>4</B></C1><C5>\n <A>5</A>\n</C5><A>6</A></R>"
            ),
            Ok("C1{A=1;C2{}C3{}C4{}B=4;}C5{A=5;}A=6;".to_owned())
        );
        // Leaves the fast path declines still read the same.
        assert_eq!(
            outline("<R><A x='1'>a</A><B>b</B ><D>&amp;</D><E></E><_F>f</_F><G-1.x>g</G-1.x></R>"),
            Ok("A=a;B=b;D=&;E=;_F=f;G-1.x=g;".to_owned())
        );
        for broken in [
            "<R><A>1</B></R>",
            "<R><A>1</A></C></R>",
            "<R><C1><A>1</A></R>",
            "<R><A>1</A><C1><A>2</A>",
            "<R><A>1</A",
            "<R><A>1<",
            "<R><Sx>1</Sy></R>",
        ] {
            assert!(outline(broken).is_err(), "accepted {broken:?}");
        }
    }

    #[test]
    fn containers_opened_by_the_fast_path_end_as_quick_xml_would_say() {
        // `<C1>` is read by the fast path, `<C1 >` by quick-xml: the same
        // ends are accepted and the same mismatches reported, at the `<`.
        for (open, at) in [("<C1>", 15), ("<C1 >", 16)] {
            let body = |end: &str| format!("<R>{open}<A>1</A>{end}</R>");
            assert_eq!(outline(body("</C1>")), Ok("C1{A=1;}".to_owned()));
            assert_eq!(outline(body("</C1 \n>")), Ok("C1{A=1;}".to_owned()));
            assert_eq!(
                outline(body("</C2 >")),
                Err(XmlError::new(format!(
                    "XML error at byte {at}: ill-formed document: expected `</C1>`, but `</C2>` was found"
                )))
            );
            assert!(outline(body("</C1")).is_err());
            assert!(outline(body("</C1 a='>'")).is_err());
        }
        // Text between elements, even text with entities, is still ignored.
        assert_eq!(
            outline("<R><C1>x<A>1</A>y &amp; z</C1>tail</R>"),
            Ok("C1{A=1;}".to_owned())
        );
        // An empty element is finished before any fast path reads on.
        assert_eq!(outline("<R><C1/><A>2</A></R>"), Ok("C1{}A=2;".to_owned()));
        assert!(outline("<R/><A>x</A>").is_err());
    }

    #[test]
    fn find_markup_agrees_with_a_plain_scan() {
        let plain = |bytes: &[u8]| bytes.iter().position(|&b| b == b'<' || b == b'&');
        let mut inputs: Vec<Vec<u8>> = vec![Vec::new(), b"<".to_vec(), b"&".to_vec()];
        for len in 0..40 {
            for at in 0..=len {
                for needle in [b'<', b'&', b'=', 0x3b, 0x3d, 0xbc, 0xa6] {
                    let mut bytes: Vec<u8> =
                        (0..len).map(|i| b"ab\xff\x01\x80;=%"[i % 8]).collect();
                    if at < len {
                        bytes[at] = needle;
                    }
                    inputs.push(bytes);
                }
            }
        }
        inputs.push("中文<".as_bytes().to_vec());
        for bytes in inputs {
            assert_eq!(find_markup(&bytes), plain(&bytes), "{bytes:?}");
        }
    }

    #[test]
    fn strip_name_agrees_with_strip_prefix() {
        for len in 0..40usize {
            let name: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            let mut input = name.clone();
            input.extend_from_slice(b">rest");
            assert_eq!(strip_name(&input, &name), Some(&b">rest"[..]));
            if len > 0 {
                assert_eq!(strip_name(&name[..len - 1], &name), None);
            }
            for at in 0..len {
                let mut other = input.clone();
                other[at] ^= 1;
                assert_eq!(strip_name(&other, &name), None, "{other:?}");
            }
        }
    }

    #[test]
    fn error_positions_count_skipped_input() {
        // `</C>` starts at byte 28.
        let Err(error) = leaves("<R>\n    <A>text</A>\n    <B>x</C></R>") else {
            panic!("accepted a mismatched end tag");
        };
        assert!(
            error.to_string().contains("XML error at byte 28"),
            "{error}"
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
    fn root_peek_skips_the_prolog() {
        assert!(root_is(b"<Error><Code>x</Code></Error>", "Error"));
        assert!(root_is(
            b"\xEF\xBB\xBF <?xml version='1.0'?>\n<!-- c --><!DOCTYPE e>\n<Error/>",
            "Error"
        ));
        assert!(root_is(b"<ci:Error xmlns:ci='x'>", "Error"));
        assert!(!root_is(b"<Errors>", "Error"));
        assert!(!root_is(b"<Response><Error/></Response>", "Error"));
        assert!(!root_is(b"", "Error"));
        assert!(!root_is(b"<?xml", "Error"));
        assert!(!root_is(b"Error", "Error"));
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

/// The walker's fast paths must never change a result: compare it with the
/// same walk done purely on quick-xml events, on generated documents and on
/// damaged copies of them.
#[cfg(test)]
mod fast_path_equivalence {
    use proptest::prelude::*;
    use quick_xml::Reader;
    use quick_xml::events::Event;

    use super::tests::outline;

    fn local(name: &[u8]) -> String {
        let local = name.rsplit(|&b| b == b':').next().unwrap_or_default();
        String::from_utf8_lossy(local).into_owned()
    }

    /// `outline` written directly against quick-xml, no fast paths.
    fn reference(body: &[u8]) -> Result<String, String> {
        let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = Reader::from_str(text);
        reader.config_mut().expand_empty_elements = true;
        reader.config_mut().check_end_names = true;
        reader.config_mut().check_comments = true;
        let blank = |t: &[u8]| t.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
        loop {
            match reader.read_event().map_err(|e| e.to_string())? {
                Event::Start(start) if local(start.name().as_ref()) == "R" => break,
                Event::Text(t) if blank(&t) => {}
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
                other => return Err(format!("before root: {other:?}")),
            }
        }
        fn walk(reader: &mut Reader<&[u8]>, out: &mut String) -> Result<(), String> {
            loop {
                match reader.read_event().map_err(|e| e.to_string())? {
                    Event::Start(start) => {
                        let name = local(start.name().as_ref());
                        if name.starts_with('C') {
                            out.push_str(&format!("{name}{{"));
                            walk(reader, out)?;
                            out.push('}');
                        } else if name.starts_with('S') {
                            let mut nested = 0;
                            loop {
                                match reader.read_event().map_err(|e| e.to_string())? {
                                    Event::Start(_) => nested += 1,
                                    Event::End(_) if nested == 0 => break,
                                    Event::End(_) => nested -= 1,
                                    Event::Eof => return Err("eof".into()),
                                    _ => {}
                                }
                            }
                        } else {
                            let mut text = String::new();
                            loop {
                                match reader.read_event().map_err(|e| e.to_string())? {
                                    Event::Text(t) => text.push_str(&String::from_utf8_lossy(&t)),
                                    Event::CData(t) => text.push_str(&String::from_utf8_lossy(&t)),
                                    Event::GeneralRef(r) => {
                                        text.push_str(&super::resolve_reference(&r)?)
                                    }
                                    Event::End(_) => break,
                                    Event::Start(_) | Event::Eof => return Err("bad leaf".into()),
                                    _ => {}
                                }
                            }
                            out.push_str(&format!("{name}={text};"));
                        }
                    }
                    Event::End(_) => return Ok(()),
                    Event::Eof => return Err("eof".into()),
                    _ => {}
                }
            }
        }
        let mut out = String::new();
        walk(&mut reader, &mut out)?;
        loop {
            match reader.read_event().map_err(|e| e.to_string())? {
                Event::Eof => return Ok(out),
                Event::Text(t) if blank(&t) => {}
                Event::Comment(_) | Event::PI(_) => {}
                other => return Err(format!("after root: {other:?}")),
            }
        }
    }

    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[a-zA-Z0-9 /.:_\\-中文é\n\t>\\]]{0,12}",
            1 => Just("&amp;".to_owned()),
            1 => Just("&lt;x&gt;".to_owned()),
            1 => Just("&#x4E2D;&#65;".to_owned()),
            1 => Just("<![CDATA[a<b&c]]>".to_owned()),
            1 => Just("<!-- note -->".to_owned()),
            1 => Just("<?pi x?>".to_owned()),
        ]
    }

    fn space() -> impl Strategy<Value = String> {
        prop_oneof![3 => Just(String::new()), 1 => Just("\n  ".to_owned()), 1 => Just("\r\n".to_owned())]
    }

    fn leaf() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec!["A", "B", "ci:D", "Sx", "E_1", "F.x-y"]),
            prop::collection::vec(piece(), 0..3),
            prop::sample::select(vec!["", " a='1'"]),
            prop::sample::select(vec![">", " >"]),
            space(),
        )
            .prop_map(|(name, pieces, attribute, end, before)| {
                let content = pieces.concat();
                if content.is_empty() && !attribute.is_empty() {
                    format!("{before}<{name}{attribute}/>")
                } else {
                    format!("{before}<{name}{attribute}>{content}</{name}{end}")
                }
            })
    }

    fn document() -> impl Strategy<Value = String> {
        let node = leaf().prop_recursive(3, 24, 4, |inner| {
            (
                prop::sample::select(vec!["C1", "C2", "x:C3", "Sy"]),
                prop::collection::vec(inner, 0..4),
                space(),
                prop::sample::select(vec![">", ">", " >", "\n>"]),
            )
                .prop_map(|(name, children, before, end)| {
                    format!("{before}<{name}>{}</{name}{end}", children.concat())
                })
        });
        (prop::collection::vec(node, 0..5), space())
            .prop_map(|(children, after)| format!("<R>{}{after}</R>\n", children.concat()))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn walker_matches_plain_quick_xml(doc in document()) {
            let fast = outline(&doc).map_err(|e| e.to_string());
            prop_assert!(fast.is_ok(), "{:?} on {}", fast, doc);
            prop_assert_eq!(fast, reference(doc.as_bytes()), "{}", doc);
        }

        #[test]
        fn damaged_documents_get_the_same_verdict(
            doc in document(),
            at in any::<prop::sample::Index>(),
            damage in prop_oneof![
                Just(None),
                prop::sample::select(b"<>/&; a\x00\xff".to_vec()).prop_map(Some),
            ],
        ) {
            let mut bytes = doc.into_bytes();
            let index = at.index(bytes.len());
            match damage {
                None => bytes.truncate(index),
                Some(byte) => bytes[index] = byte,
            }
            let fast = outline(&bytes).ok();
            let slow = reference(&bytes).ok();
            prop_assert_eq!(fast, slow, "{}", String::from_utf8_lossy(&bytes));
        }
    }
}
