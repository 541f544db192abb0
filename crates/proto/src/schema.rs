//! Declaring the wire shape once: the traits behind [`xml_record!`](crate::xml_record),
//! [`ci_response!`](crate::ci_response), [`wire_enum!`](crate::wire_enum), [`open_enum!`](crate::open_enum) and [`ci_action!`](crate::ci_action).
//!
//! An XML field is named once, in its declaration; its Rust type says how
//! it is read:
//!
//! | field type | XML | missing | written |
//! |---|---|---|---|
//! | `T` | exactly one element | `MalformedResponse` (or `Default` with `[default]`) | always |
//! | `Option<T>` | at most one | `None` | when `Some` |
//! | `Vec<T>` | flat repeated siblings, 0..n | empty | one element each |
//!
//! where `T` is a text value ([`XmlText`]: strings, numbers, timestamps,
//! enums), a record declared with [`xml_record!`](crate::xml_record), or the generic
//! [`XmlTree`](crate::XmlTree) for subtrees whose element names are data.
//! An empty text element (and `-` for timestamps) counts as unset. A second
//! element for a singleton field is an error (guessing would be a partial
//! success); unknown elements are skipped. Aliases (`Name | WorkflowName`)
//! are accepted when reading; the first name wins when both appear and is
//! the one written.
//!
//! Why macros rather than quick-xml's serde support: the listing parse is
//! the hot path (a page of 100 executions in ~30 µs); serde's
//! deserializer is several times slower on these documents and cannot keep
//! subtrees whose element names are data. The macros generate the same
//! match-and-read walk a person would write over [`XmlReader`], once.

use std::borrow::Cow;
use std::collections::BTreeSet;

use crate::query::excerpt;
use crate::xml::{Element, XmlError, XmlReader};
use crate::{CiTimestamp, ValidationError};

/// A value held in one element's text (`<RunId>i1</RunId>`).
pub trait XmlText: Sized {
    /// Parse the element's unescaped text. `Ok(None)` means unset: empty
    /// text, or `-` where the type says so (job `StartTime`/`EndTime`).
    fn from_xml_text(text: Cow<'_, str>) -> Result<Option<Self>, String>;
    /// The text to write (escaped by the writer).
    fn to_xml_text(&self) -> Cow<'_, str>;
}

/// What one element holds: a text value, a record of child elements, or a
/// generic tree. Records get this from [`xml_record!`](crate::xml_record); text values from
/// [`XmlText`].
pub trait XmlElement: Sized {
    /// Read `element`, just yielded by [`XmlReader::next_child`]. `None`:
    /// present but unset.
    fn read_element<'a>(
        reader: &mut XmlReader<'a>,
        element: Element<'a>,
    ) -> Result<Option<Self>, XmlError>;
    /// Append `<name>…</name>`.
    fn write_element(&self, name: &str, out: &mut String);
}

impl<T: XmlText> XmlElement for T {
    fn read_element<'a>(
        reader: &mut XmlReader<'a>,
        element: Element<'a>,
    ) -> Result<Option<Self>, XmlError> {
        let text = reader.read_text(element)?;
        T::from_xml_text(text).map_err(XmlError::new)
    }
    fn write_element(&self, name: &str, out: &mut String) {
        crate::xml::write_text_element(out, name, &self.to_xml_text());
    }
}

/// A struct whose fields are child elements. Implemented by [`xml_record!`](crate::xml_record).
pub trait XmlRecord: Sized {
    /// Read the children of the element just entered, up to its end.
    fn read_children(reader: &mut XmlReader<'_>) -> Result<Self, XmlError>;
    /// Append every field as child elements, in declaration order.
    fn write_children(&self, out: &mut String);
}

/// A record that is a whole document with a fixed root (`<Response>`,
/// `<Request>`).
pub trait XmlDocument: XmlRecord {
    /// The root element's name.
    const ROOT: &'static str;
    /// Parse a whole document: checks the root, reads it, refuses trailing
    /// content.
    fn from_xml(body: &[u8]) -> Result<Self, XmlError> {
        let mut reader = XmlReader::open(body, Self::ROOT)?;
        let document = Self::read_children(&mut reader)?;
        reader.finish()?;
        Ok(document)
    }
    /// Read the document's JSON form leniently, through the same reader
    /// as the XML form: the keys are the element names, a scalar of any
    /// JSON type is the element's text (`"Progress": "100"` and
    /// `"Progress": 100` alike), an array is repeated elements and a
    /// one-member list may be a plain object. The document may be wrapped
    /// in `{"<ROOT>": …}`. See [`crate::tree::json_to_xml`].
    fn from_json(body: &[u8]) -> Result<Self, XmlError> {
        let xml = crate::tree::json_to_xml(body, Self::ROOT)?;
        Self::from_xml(xml.as_bytes())
    }
    /// Write the whole document in the service's layout (one element per
    /// line, no indentation). `from_xml(to_xml(x)) == x`.
    fn to_xml(&self) -> String {
        let mut out = String::with_capacity(256);
        crate::xml::open_element(&mut out, Self::ROOT);
        self.write_children(&mut out);
        crate::xml::close_element(&mut out, Self::ROOT);
        out
    }
}

/// A `<Response>` document: an action's output. Declared with
/// [`ci_response!`](crate::ci_response), which adds its `RequestId`.
pub trait CiOutput: XmlDocument {
    /// `RequestId` from the body; [`crate::CiAction::parse_response`] fills
    /// it from the `x-ci-request-id` header when the body has none.
    fn request_id_mut(&mut self) -> &mut Option<String>;
    /// The output of a 2xx with an empty body, for actions whose success
    /// is exactly that (pause, activate, cancel). `None`: an empty body is
    /// malformed.
    fn from_empty_body() -> Option<Self> {
        None
    }
}

crate::xml_record! {
    /// The output of actions that answer success with an empty 200 (or a
    /// `<Response>` holding at most a `RequestId`).
    pub struct EmptyOutput {
        /// `RequestId` (body, else the `x-ci-request-id` header).
        pub request_id: Option<String> = "RequestId",
    }
    root = "Response"
}

impl CiOutput for EmptyOutput {
    fn request_id_mut(&mut self) -> &mut Option<String> {
        &mut self.request_id
    }
    fn from_empty_body() -> Option<Self> {
        Some(EmptyOutput::default())
    }
}

/// How a field's Rust type maps to element cardinality (see the module
/// docs). Used by the code [`xml_record!`](crate::xml_record) generates.
pub trait XmlField: Sized {
    /// What is collected while walking the children.
    type Slot: XmlSlot;
    /// The value collected, from `slot` or else from its aliases' `alias`.
    /// `None` when a required element is absent.
    fn take(slot: Self::Slot, alias: Self::Slot) -> Option<Self>;
    /// Append the field's elements.
    fn write_field(&self, name: &str, out: &mut String);
}

/// What one field collects while its record's children are walked. The
/// slot takes the elements, so field types that collect alike (`T` and
/// `Option<T>`) differ only in how they finish ([`XmlField::take`]).
pub trait XmlSlot: Default {
    /// Take one element that matched the field's name or an alias (or any
    /// element, for the `"*"` field of type [`crate::UnknownElements`]).
    /// Errors name the element as written, which is the name matched.
    fn accept<'a>(
        &mut self,
        reader: &mut XmlReader<'a>,
        element: Element<'a>,
    ) -> Result<(), XmlError>;
}

/// The slot of a field that holds at most one element.
#[derive(Debug)]
pub struct Single<T> {
    seen: bool,
    value: Option<T>,
}

impl<T> Default for Single<T> {
    fn default() -> Self {
        Single {
            seen: false,
            value: None,
        }
    }
}

impl<T: XmlElement> XmlSlot for Single<T> {
    #[inline]
    fn accept<'a>(
        &mut self,
        reader: &mut XmlReader<'a>,
        element: Element<'a>,
    ) -> Result<(), XmlError> {
        if std::mem::replace(&mut self.seen, true) {
            return Err(repeated(element.name()));
        }
        let name = element.name();
        self.value = T::read_element(reader, element).map_err(|error| within(error, name, None))?;
        Ok(())
    }
}

impl<T> Single<T> {
    /// The element read, else the alias's.
    fn or_alias(self, alias: Single<T>) -> Option<T> {
        self.value.or(alias.value)
    }
}

impl<T: XmlElement> XmlField for T {
    type Slot = Single<T>;
    fn take(slot: Single<T>, alias: Single<T>) -> Option<Self> {
        slot.or_alias(alias)
    }
    fn write_field(&self, name: &str, out: &mut String) {
        self.write_element(name, out);
    }
}

impl<T: XmlElement> XmlField for Option<T> {
    type Slot = Single<T>;
    fn take(slot: Single<T>, alias: Single<T>) -> Option<Self> {
        Some(slot.or_alias(alias))
    }
    fn write_field(&self, name: &str, out: &mut String) {
        if let Some(value) = self {
            value.write_element(name, out);
        }
    }
}

/// A single element that came twice. Out of line, as [`within`].
#[cold]
#[inline(never)]
fn repeated(name: &[u8]) -> XmlError {
    XmlError::new(format!(
        "element <{}> appears more than once",
        String::from_utf8_lossy(name)
    ))
}

/// `error`, said to be in the element `name` (the `index`th, if repeated).
/// Out of line: the parse's hot loop carries only the call.
#[cold]
#[inline(never)]
fn within(error: XmlError, name: &[u8], index: Option<usize>) -> XmlError {
    error.within(&String::from_utf8_lossy(name), index)
}

/// The slot of a repeated element while its parent is read: the items in
/// small blocks, moved into one exactly sized `Vec` when the parent ends.
///
/// Why not a `Vec` reserved up front: a page's one large allocation, made
/// while the strings of the page dropped before it sit in glibc's fast
/// bins, makes `malloc` consolidate them, and every string of this page
/// is then carved from the top of the heap on `malloc`'s slow path; that
/// was a quarter of a listing page's parse. Blocks under 1 KiB are small
/// requests, so the page's strings reuse the freed ones first, and the
/// single large request comes last. Elsewhere it costs one move per item.
#[derive(Debug)]
pub struct ListSlot<T> {
    blocks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for ListSlot<T> {
    fn default() -> Self {
        ListSlot {
            blocks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> ListSlot<T> {
    /// Items per block: as many as fit in a small (under 1 KiB) request.
    const BLOCK: usize = {
        let size = std::mem::size_of::<T>();
        if size == 0 || size >= 960 {
            1
        } else {
            960 / size
        }
    };

    fn push(&mut self, value: T) {
        match self.blocks.last_mut() {
            Some(block) if block.len() < block.capacity() => block.push(value),
            _ => {
                let mut block = Vec::with_capacity(Self::BLOCK);
                block.push(value);
                self.blocks.push(block);
            }
        }
        self.len += 1;
    }

    fn into_vec(self) -> Vec<T> {
        let mut items = Vec::with_capacity(self.len);
        for block in self.blocks {
            items.extend(block);
        }
        items
    }
}

impl<T: XmlElement> XmlSlot for ListSlot<T> {
    fn accept<'a>(
        &mut self,
        reader: &mut XmlReader<'a>,
        element: Element<'a>,
    ) -> Result<(), XmlError> {
        let name = element.name();
        // Matched in place: `?` then `if let` copied each record once more.
        match T::read_element(reader, element) {
            Ok(Some(value)) => self.push(value),
            Ok(None) => {}
            Err(error) => return Err(within(error, name, Some(self.len + 1))),
        }
        Ok(())
    }
}

impl<T: XmlElement> XmlField for Vec<T> {
    type Slot = ListSlot<T>;
    fn take(slot: ListSlot<T>, alias: ListSlot<T>) -> Option<Self> {
        Some(if slot.len == 0 { alias } else { slot }.into_vec())
    }
    fn write_field(&self, name: &str, out: &mut String) {
        for value in self {
            value.write_element(name, out);
        }
    }
}

/// Finish a required field (the generated code's last step per field).
pub fn finish_required<T: XmlField>(
    slot: T::Slot,
    alias: T::Slot,
    name: &str,
) -> Result<T, XmlError> {
    T::take(slot, alias).ok_or_else(|| XmlError::new(format!("missing <{name}>")))
}

/// Finish a `[default]` field: absent is `T::default()`.
pub fn finish_or_default<T: XmlField + Default>(slot: T::Slot, alias: T::Slot) -> T {
    T::take(slot, alias).unwrap_or_default()
}

impl XmlText for String {
    fn from_xml_text(text: Cow<'_, str>) -> Result<Option<Self>, String> {
        Ok((!text.is_empty()).then(|| text.into_owned()))
    }
    fn to_xml_text(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl XmlText for CiTimestamp {
    /// Any accepted form; empty and `-` (a job not started yet) are unset.
    fn from_xml_text(text: Cow<'_, str>) -> Result<Option<Self>, String> {
        // Nothing to trim around a digit or a `Z`: skip the Unicode-aware
        // trim on every listed timestamp.
        let text = match text.as_bytes() {
            [first, .., last] if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() => {
                &text
            }
            _ => text.trim(),
        };
        if text.is_empty() || text == "-" {
            return Ok(None);
        }
        CiTimestamp::parse(text)
            .map(Some)
            .map_err(|error| error.to_string())
    }
    fn to_xml_text(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.as_str())
    }
}

macro_rules! number_text {
    ($($ty:ty),*) => {$(
        impl XmlText for $ty {
            /// Decimal text (numbers are text on this API), surrounding
            /// spaces ignored.
            fn from_xml_text(text: Cow<'_, str>) -> Result<Option<Self>, String> {
                let text = text.trim();
                if text.is_empty() {
                    return Ok(None);
                }
                text.parse().map(Some).map_err(|_| {
                    format!("`{}` is not a number", excerpt(text, 40))
                })
            }
            fn to_xml_text(&self) -> Cow<'_, str> {
                Cow::Owned(self.to_string())
            }
        }
        impl QueryValue for $ty {
            fn to_query(&self) -> Cow<'_, str> {
                Cow::Owned(self.to_string())
            }
            fn from_query(text: &str, parameter: &'static str) -> Result<Self, ValidationError> {
                if !text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
                    return Err(ValidationError::new(
                        parameter,
                        format!("must be an integer, got `{}`", excerpt(text, 40)),
                    ));
                }
                text.parse().map_err(|_| {
                    ValidationError::new(
                        parameter,
                        format!("must be an integer in range, got `{}`", excerpt(text, 40)),
                    )
                })
            }
        }
    )*};
}
number_text!(u32, u64, i64);

/// A query parameter's value: its raw (decoded) wire text and back.
pub trait QueryValue: Sized {
    /// The raw value as sent (encoded later by the query encoder).
    fn to_query(&self) -> Cow<'_, str>;
    /// Parse a raw value; errors name `parameter`.
    fn from_query(text: &str, parameter: &'static str) -> Result<Self, ValidationError>;
    /// Rules a set value must keep that its type cannot express (a set
    /// string must not be empty, a set list must not be empty).
    fn check(&self, parameter: &'static str) -> Result<(), ValidationError> {
        let _ = parameter;
        Ok(())
    }
}

impl QueryValue for String {
    fn to_query(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
    fn from_query(text: &str, _: &'static str) -> Result<Self, ValidationError> {
        Ok(text.to_owned())
    }
    fn check(&self, parameter: &'static str) -> Result<(), ValidationError> {
        if self.is_empty() {
            return Err(ValidationError::new(
                parameter,
                "must not be empty when set (leave it unset instead)",
            ));
        }
        Ok(())
    }
}

impl QueryValue for CiTimestamp {
    /// The request form `2022-08-09T14:00:00+0800`.
    fn to_query(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_api_string())
    }
    fn from_query(text: &str, parameter: &'static str) -> Result<Self, ValidationError> {
        CiTimestamp::parse(text).map_err(|error| ValidationError::new(parameter, error.to_string()))
    }
}

/// Items joined with `,` (the list form of every list parameter).
fn join_items<'a, T: QueryValue + 'a>(items: impl Iterator<Item = &'a T>) -> Cow<'static, str> {
    let mut out = String::new();
    for (index, item) in items.enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(&item.to_query());
    }
    Cow::Owned(out)
}

/// A `,`-separated list; an empty item is an error.
fn split_items<T: QueryValue, C: FromIterator<T>>(
    text: &str,
    parameter: &'static str,
) -> Result<C, ValidationError> {
    text.split(',')
        .map(|item| {
            if item.is_empty() {
                Err(ValidationError::new(
                    parameter,
                    "has an empty item in its comma-separated list",
                ))
            } else {
                T::from_query(item, parameter)
            }
        })
        .collect()
}

/// A set or list parameter holds at least one item, each valid and free of
/// the separator.
fn check_items<'a, T: QueryValue + 'a>(
    mut items: impl ExactSizeIterator<Item = &'a T>,
    parameter: &'static str,
) -> Result<(), ValidationError> {
    if items.len() == 0 {
        return Err(ValidationError::new(
            parameter,
            "must name at least one value when set (leave it unset instead)",
        ));
    }
    items.try_for_each(|item| {
        item.check(parameter)?;
        if item.to_query().contains(',') {
            return Err(ValidationError::new(
                parameter,
                "an item must not contain `,` (the list separator)",
            ));
        }
        Ok(())
    })
}

/// Sets and lists travel alike: comma-separated, in iteration order.
macro_rules! list_query_value {
    ($( $(#[$doc:meta])* $List:ident<T $(: $bound:path)?>; )*) => {$(
        $(#[$doc])*
        impl<T: QueryValue $(+ $bound)?> QueryValue for $List<T> {
            fn to_query(&self) -> Cow<'_, str> {
                join_items(self.iter())
            }
            fn from_query(text: &str, parameter: &'static str) -> Result<Self, ValidationError> {
                split_items(text, parameter)
            }
            fn check(&self, parameter: &'static str) -> Result<(), ValidationError> {
                check_items(self.iter(), parameter)
            }
        }
    )*};
}
list_query_value! {
    /// A set sent comma-separated (`states=Success,Failed`), in its order.
    BTreeSet<T: Ord>;
    /// A list sent comma-separated in the caller's order (`ids=a,b`).
    Vec<T>;
}

/// A path parameter (`/workflowexecution/<RunId>`): one non-empty segment.
pub fn check_path_segment(value: &str, parameter: &'static str) -> Result<(), ValidationError> {
    if value.is_empty() {
        return Err(ValidationError::new(parameter, "must not be empty"));
    }
    if value.contains('/') {
        return Err(ValidationError::new(parameter, "must not contain `/`"));
    }
    if value == "." || value == ".." {
        return Err(ValidationError::new(parameter, "must not be `.` or `..`"));
    }
    Ok(())
}

/// Declare a struct whose fields are XML child elements, each named once.
///
/// ```
/// use cos_ci_proto::xml_record;
/// use cos_ci_proto::schema::XmlDocument;
///
/// xml_record! {
///     /// A point.
///     pub struct Point {
///         pub x: u32 = "X",
///         /// (older documents say `Name`)
///         pub label: Option<String> = "Label" | "Name",
///         /// `Tag`, repeated
///         pub tags: Vec<String> = "Tag",
///         /// `Kind`; missing is empty
///         pub kind: String = "Kind" [default],
///         ..other
///     }
///     root = "P"
/// }
///
/// let point = Point::from_xml(b"<P><Tag>a</Tag><X>1</X><Name>n</Name><Tag>b</Tag><Z/></P>").unwrap();
/// assert_eq!(point.x, 1);
/// assert_eq!(point.label.as_deref(), Some("n"));
/// assert_eq!(point.tags, ["a", "b"]);
/// assert!(point.other.get("Z").is_some());
/// assert!(Point::from_xml(b"<P></P>").is_err(), "X is required");
/// ```
///
/// The struct derives `Debug, Clone, PartialEq, Eq, Default` (add others
/// with a `#[derive]` of your own), and `serde::Serialize`/`Deserialize`
/// with the element names as keys (the JSON the CLI prints; JSON input may
/// leave fields out); the caller's crate needs `serde`.
///
/// A field written without attributes (no doc comment, no `#[…]`) is
/// documented by its element name
/// (`` `X` ``); a doc comment that says more replaces that.
///
/// A last line `..other` declares `pub other: UnknownElements` (serde
/// `flatten`): it keeps every element no other field names, in order, and
/// writes them back after the declared ones. Its doc says so unless one is
/// written above it. (It stands for the long form, a field
/// `#[serde(flatten)] pub other: UnknownElements = "*"`.)
#[macro_export]
macro_rules! xml_record {
    // The fields are read one at a time into one form, each with its doc,
    // then written out by `@emit`.
    (@munch $head:tt [$($done:tt)*] $(#[$other_meta:meta])+ .. $other:ident $(,)?) => {
        $crate::xml_record!(@munch $head [$($done)*
            { [$(#[$other_meta])+ #[serde(flatten)]] pub $other: $crate::UnknownElements = "*" [] [] }
        ]);
    };
    (@munch $head:tt [$($done:tt)*] .. $other:ident $(,)?) => {
        $crate::xml_record!(@munch $head [$($done)*] #[doc = "Anything else, kept."] ..$other);
    };
    (@munch $head:tt [$($done:tt)*]
        $(#[$field_meta:meta])+
        $field_vis:vis $field:ident : $ty:ty = $xml:literal $(| $alias:literal)* $([$mode:ident])?
        $(, $($rest:tt)*)?
    ) => {
        $crate::xml_record!(@munch $head [$($done)*
            { [$(#[$field_meta])+] $field_vis $field: $ty = $xml [$($alias)*] [$($mode)?] }
        ] $($($rest)*)?);
    };
    (@munch $head:tt [$($done:tt)*]
        $field_vis:vis $field:ident : $ty:ty = $xml:literal $(| $alias:literal)* $([$mode:ident])?
        $(, $($rest:tt)*)?
    ) => {
        $crate::xml_record!(@munch $head [$($done)*
            { [#[doc = concat!("`", $xml, "`")]] $field_vis $field: $ty = $xml [$($alias)*] [$($mode)?] }
        ] $($($rest)*)?);
    };
    (@munch { $($head:tt)* } [$($done:tt)*]) => {
        $crate::xml_record!(@emit $($head)* { $($done)* });
    };
    (
        $(#[$meta:meta])*
        $vis:vis struct $Name:ident {
            $($fields:tt)*
        }
        $(root = $root:literal)?
    ) => {
        $crate::xml_record!(@munch { [$(#[$meta])*] $vis $Name [$($root)?] } [] $($fields)*);
    };
    (@emit [$(#[$meta:meta])*] $vis:vis $Name:ident [$($root:literal)?] {
        $({
            [$(#[$field_meta:meta])*]
            $field_vis:vis $field:ident : $ty:ty = $xml:literal [$($alias:literal)*] [$($mode:ident)?]
        })*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
        #[serde(default)]
        $vis struct $Name {
            $(
                $(#[$field_meta])*
                #[serde(rename = $xml $(, alias = $alias)*)]
                $field_vis $field: $ty,
            )*
        }

        impl $crate::schema::XmlRecord for $Name {
            fn read_children(
                reader: &mut $crate::xml::XmlReader<'_>,
            ) -> ::core::result::Result<Self, $crate::xml::XmlError> {
                #[allow(non_snake_case)]
                struct Slots {
                    $( $field: (
                        <$ty as $crate::schema::XmlField>::Slot,
                        <$ty as $crate::schema::XmlField>::Slot,
                    ), )*
                }
                let mut slots = Slots {
                    $( $field: ::core::default::Default::default(), )*
                };
                while let Some(child) = reader.next_child()? {
                    let name = child.name();
                    $(
                        if name == $xml.as_bytes() {
                            $crate::schema::XmlSlot::accept(&mut slots.$field.0, reader, child)?;
                            continue;
                        }
                        $(
                            if name == $alias.as_bytes() {
                                $crate::schema::XmlSlot::accept(&mut slots.$field.1, reader, child)?;
                                continue;
                            }
                        )*
                    )*
                    $(
                        if $xml == "*" {
                            $crate::schema::XmlSlot::accept(&mut slots.$field.0, reader, child)?;
                            continue;
                        }
                    )*
                    reader.skip(child)?;
                }
                Ok($Name {
                    $( $field: $crate::xml_record!(@finish $ty, slots.$field, $xml $(, $mode)?), )*
                })
            }

            fn write_children(&self, out: &mut ::std::string::String) {
                $( $crate::schema::XmlField::write_field(&self.$field, $xml, out); )*
            }
        }

        impl $crate::schema::XmlElement for $Name {
            fn read_element<'a>(
                reader: &mut $crate::xml::XmlReader<'a>,
                element: $crate::xml::Element<'a>,
            ) -> ::core::result::Result<::core::option::Option<Self>, $crate::xml::XmlError> {
                reader.enter(element);
                <Self as $crate::schema::XmlRecord>::read_children(reader).map(Some)
            }
            fn write_element(&self, name: &str, out: &mut ::std::string::String) {
                $crate::xml::open_element(out, name);
                <Self as $crate::schema::XmlRecord>::write_children(self, out);
                $crate::xml::close_element(out, name);
            }
        }

        $(
            impl $crate::schema::XmlDocument for $Name {
                const ROOT: &'static str = $root;
            }
        )?
    };
    (@finish $ty:ty, $slots:expr, $xml:literal) => {{
        let (slot, alias) = $slots;
        $crate::schema::finish_required::<$ty>(slot, alias, $xml)?
    }};
    (@finish $ty:ty, $slots:expr, $xml:literal, default) => {{
        let (slot, alias) = $slots;
        $crate::schema::finish_or_default::<$ty>(slot, alias)
    }};
}

/// Declare an action's output: a `<Response>` document whose first field is
/// `RequestId` (filled from the `x-ci-request-id` header when the body has
/// none). Fields as in [`xml_record!`](crate::xml_record).
///
/// A page of a page-number listing ends with `envelope = page_number`,
/// which adds the fields every such page has after `RequestId`:
/// `total_count: Option<u64>` (`TotalCount`), `page_number: Option<u32>`
/// (`PageNumber`) and `page_size: Option<u32>` (`PageSize`).
#[macro_export]
macro_rules! ci_response {
    (
        $(#[$meta:meta])*
        $vis:vis struct $Name:ident {
            $($fields:tt)*
        }
        envelope = page_number
    ) => {
        $crate::ci_response! {
            $(#[$meta])*
            $vis struct $Name {
                pub total_count: Option<u64> = "TotalCount",
                pub page_number: Option<u32> = "PageNumber",
                pub page_size: Option<u32> = "PageSize",
                $($fields)*
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis struct $Name:ident {
            $($fields:tt)*
        }
    ) => {
        $crate::xml_record! {
            $(#[$meta])*
            $vis struct $Name {
                /// `RequestId` (body, else the `x-ci-request-id` header).
                pub request_id: Option<String> = "RequestId",
                $($fields)*
            }
            root = "Response"
        }

        impl $crate::schema::CiOutput for $Name {
            fn request_id_mut(&mut self) -> &mut Option<String> {
                &mut self.request_id
            }
        }
    };
}

/// A variant's wire spelling: the one written after it, else its name.
#[doc(hidden)]
#[macro_export]
macro_rules! wire_spelling {
    ($Variant:ident) => {
        stringify!($Variant)
    };
    ($Variant:ident = $wire:literal) => {
        $wire
    };
}

/// Declare a closed enum of wire values (a query parameter's choices):
/// `Copy`, `ALL`, `as_str`, `Display`, `FromStr` (exact spelling; errors name
/// the wire parameter and list the choices), `parse_ignore_case` (for the
/// CLI), serde as the wire text, and [`QueryValue`]. A variant's wire
/// spelling is its name unless written after it (`Aac = "aac"`).
///
/// A variant written without attributes (no doc comment, no `#[…]`) is
/// documented by its wire spelling
/// (`` `Active` ``), as in [`open_enum!`](crate::open_enum).
#[macro_export]
macro_rules! wire_enum {
    (@normalized
        $(#[$meta:meta])*
        $vis:vis enum $Name:ident for $parameter:literal {
            $( $(#[$variant_meta:meta])* $Variant:ident $(= $wire:literal)? ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $Name {
            $( $(#[$variant_meta])* $Variant, )+
        }

        impl $Name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$Name] = &[$($Name::$Variant),+];
            /// The wire parameter these values belong to.
            pub const PARAMETER: &'static str = $parameter;

            /// The wire spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $Name::$Variant => $crate::wire_spelling!($Variant $(= $wire)?), )+
                }
            }

            /// Like `FromStr`, ignoring ASCII case (`asc` = `Asc`): for
            /// people typing flags; the wire spelling is what is sent.
            pub fn parse_ignore_case(text: &str) -> ::core::result::Result<Self, $crate::ValidationError> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|value| value.as_str().eq_ignore_ascii_case(text))
                    .ok_or_else(|| Self::unknown(text))
            }

            fn unknown(text: &str) -> $crate::ValidationError {
                let choices: ::std::vec::Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                $crate::ValidationError::new(
                    $parameter,
                    format!(
                        "unknown value `{}`; expected one of {}",
                        $crate::query::excerpt(text, 40),
                        choices.join(", ")
                    ),
                )
            }
        }

        impl ::core::fmt::Display for $Name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::core::str::FromStr for $Name {
            type Err = $crate::ValidationError;
            /// The exact wire spelling (the only one known to work).
            fn from_str(text: &str) -> ::core::result::Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|value| value.as_str() == text)
                    .ok_or_else(|| Self::unknown(text))
            }
        }

        impl serde::Serialize for $Name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $Name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                let text = <::std::string::String as serde::Deserialize>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl $crate::schema::QueryValue for $Name {
            fn to_query(&self) -> ::std::borrow::Cow<'_, str> {
                ::std::borrow::Cow::Borrowed(self.as_str())
            }
            fn from_query(text: &str, _: &'static str) -> ::core::result::Result<Self, $crate::ValidationError> {
                text.parse()
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $Name:ident for $parameter:literal { $($variants:tt)* }
    ) => {
        $crate::enum_variants!(wire_enum [$(#[$meta])* $vis enum $Name for $parameter] { $($variants)* } [] []);
    };
}

/// Declare an open enum of values the service reports (states, types):
/// known values are variants, anything else is kept verbatim in `Other`.
/// `as_str`, `From<&str>`/`From<String>`, `Display`, serde as the text,
/// `Default` (empty `Other`), and [`XmlText`]. A variant's wire spelling is
/// its name unless written after it, as in [`wire_enum!`](crate::wire_enum).
///
/// States that a listing filters on end with `filter JobStateFilter for
/// "states"` (doc comments above it are the filter's): that also declares
/// the filter, a [`wire_enum!`](crate::wire_enum) of `All` then each known
/// value, in this order and with these docs (each spelled as its state),
/// and its `admits(state)`: whether that value lets a state through.
///
/// A variant written without attributes (no doc comment, no `#[…]`) is
/// documented by its wire spelling
/// (`` `Active` ``).
#[macro_export]
macro_rules! open_enum {
    (@normalized
        $(#[$meta:meta])*
        $vis:vis enum $Name:ident {
            $( $(#[$variant_meta:meta])* $Variant:ident $(= $wire:literal)? ),+ $(,)?
        }
        $(#[$filter_meta:meta])*
        filter $Filter:ident for $parameter:literal
    ) => {
        $crate::open_enum! {
            @normalized
            $(#[$meta])*
            $vis enum $Name {
                $( $(#[$variant_meta])* $Variant $(= $wire)?, )+
            }
        }
        $crate::wire_enum! {
            @normalized
            $(#[$filter_meta])*
            $vis enum $Filter for $parameter {
                /// Every state (the service's default).
                All,
                $( $(#[$variant_meta])* $Variant $(= $wire)?, )+
            }
        }

        impl $Filter {
            /// Whether this filter value lets `state` through: `All` every
            /// state, any other value its own (so a state the service
            /// added later passes only `All`).
            pub fn admits(self, state: &$Name) -> bool {
                match self {
                    $Filter::All => true,
                    $( $Filter::$Variant => matches!(state, $Name::$Variant), )+
                }
            }
        }
    };
    (@normalized
        $(#[$meta:meta])*
        $vis:vis enum $Name:ident {
            $( $(#[$variant_meta:meta])* $Variant:ident $(= $wire:literal)? ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        $vis enum $Name {
            $( $(#[$variant_meta])* $Variant, )+
            /// Any other text, verbatim.
            Other(::std::string::String),
        }

        impl $Name {
            /// The known wire spellings.
            pub const KNOWN: &'static [&'static str] = &[$($crate::wire_spelling!($Variant $(= $wire)?)),+];

            /// The text as the service writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $Name::$Variant => $crate::wire_spelling!($Variant $(= $wire)?), )+
                    $Name::Other(text) => text,
                }
            }
        }

        impl ::core::default::Default for $Name {
            fn default() -> Self {
                $Name::Other(::std::string::String::new())
            }
        }

        impl ::core::convert::From<&str> for $Name {
            /// Known names map to their variant (exact match); anything else is kept.
            fn from(text: &str) -> Self {
                $( if text == $crate::wire_spelling!($Variant $(= $wire)?) {
                    return $Name::$Variant;
                } )+
                $Name::Other(text.to_owned())
            }
        }

        impl ::core::convert::From<::std::string::String> for $Name {
            fn from(text: ::std::string::String) -> Self {
                match $Name::from(text.as_str()) {
                    $Name::Other(_) => $Name::Other(text),
                    known => known,
                }
            }
        }

        impl ::core::fmt::Display for $Name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $Name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $Name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                <::std::string::String as serde::Deserialize>::deserialize(deserializer).map($Name::from)
            }
        }

        impl $crate::schema::XmlText for $Name {
            fn from_xml_text(text: ::std::borrow::Cow<'_, str>) -> ::core::result::Result<::core::option::Option<Self>, ::std::string::String> {
                Ok((!text.is_empty()).then(|| $Name::from(text.as_ref())))
            }
            fn to_xml_text(&self) -> ::std::borrow::Cow<'_, str> {
                ::std::borrow::Cow::Borrowed(self.as_str())
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $Name:ident { $($variants:tt)* }
        $($filter:tt)*
    ) => {
        $crate::enum_variants!(open_enum [$(#[$meta])* $vis enum $Name] { $($variants)* } [$($filter)*] []);
    };
}

/// Give each variant written without attributes a doc comment naming its
/// wire spelling, then hand the enum back to `$then!(@normalized …)`.
#[doc(hidden)]
#[macro_export]
macro_rules! enum_variants {
    ($then:ident $before:tt {
        $(#[$variant_meta:meta])+ $Variant:ident $(= $wire:literal)? $(, $($rest:tt)*)?
    } $after:tt [$($done:tt)*]) => {
        $crate::enum_variants!($then $before { $($($rest)*)? } $after [$($done)*
            $(#[$variant_meta])+ $Variant $(= $wire)?,
        ]);
    };
    ($then:ident $before:tt {
        $Variant:ident $(= $wire:literal)? $(, $($rest:tt)*)?
    } $after:tt [$($done:tt)*]) => {
        $crate::enum_variants!($then $before { $($($rest)*)? } $after [$($done)*
            #[doc = concat!("`", $crate::wire_spelling!($Variant $(= $wire)?), "`")]
            $Variant $(= $wire)?,
        ]);
    };
    ($then:ident [$($before:tt)*] {} [$($after:tt)*] [$($done:tt)*]) => {
        $crate::$then!(@normalized $($before)* { $($done)* } $($after)*);
    };
}

#[cfg(test)]
mod tests {
    use super::{ListSlot, XmlDocument};

    crate::xml_record! {
        struct Listing {
            items: Vec<String> = "Item" | "OldItem",
            counts: Vec<u32> = "Count",
        }
        root = "R"
    }

    /// Lists longer than a block keep every item, in order, with the item
    /// number in errors counting across blocks, and the alias rule intact.
    #[test]
    fn lists_span_blocks_in_order() {
        let block = ListSlot::<String>::BLOCK;
        assert!(block > 1 && block * std::mem::size_of::<String>() < 1008);
        for n in [0, 1, block - 1, block, block + 1, 3 * block + 2, 1000] {
            let names: Vec<String> = (0..n).map(|i| format!("n{i}")).collect();
            let mut doc = String::from("<R>");
            for (i, name) in names.iter().enumerate() {
                doc.push_str(&format!(
                    "<Item>{name}</Item><Item></Item><Count>{i}</Count>"
                ));
            }
            doc.push_str("<OldItem>old</OldItem></R>");
            let listing = Listing::from_xml(doc.as_bytes()).expect("parses");
            let expected = if n == 0 {
                vec!["old".to_owned()]
            } else {
                names
            };
            assert_eq!(listing.items, expected);
            assert_eq!(listing.counts, (0..n as u32).collect::<Vec<_>>());
            assert_eq!(listing.items.capacity(), listing.items.len());
        }
        let mut doc = String::from("<R>");
        for i in 0..2 * block {
            doc.push_str(&format!("<Count>{i}</Count>"));
        }
        doc.push_str("<Count>x</Count></R>");
        let error = Listing::from_xml(doc.as_bytes()).expect_err("a bad count");
        let expected = format!("<Count> #{}: ", 2 * block + 1);
        assert!(error.to_string().starts_with(&expected), "{error}");
    }
}
