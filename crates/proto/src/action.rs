//! The shape every API action has, and [`ci_action!`](crate::ci_action), which declares one.

use std::borrow::Cow;

use crate::error::{MalformedResponse, check_status, request_id_from_headers};
use crate::schema::{CiOutput, QueryValue};
use crate::{CiTimestamp, Order, QueryError, ResponseError, ValidationError};

/// A request body and its media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestBody {
    /// `Content-Type`, e.g. `application/xml`.
    pub content_type: &'static str,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// A request body's own rules. A `= body` field of a
/// [`ci_action!`](crate::ci_action) is checked with them, so an action
/// never sends (and the emulator never accepts) a body that breaks them.
pub trait BodyRules {
    /// Check every rule of the body.
    fn check_body(&self) -> Result<(), ValidationError>;
}

/// One Cloud Infinite API action: how to put it on the wire, how to read
/// the answer, and (for the emulator) how to read it back off the wire.
/// Implementations are plain data; no IO. Declare one with [`ci_action!`](crate::ci_action).
pub trait CiAction: Sized {
    /// The typed result of a successful call.
    type Output: CiOutput;
    /// Short name used in logs and spans, e.g. `ListWorkflowExecutions`.
    const NAME: &'static str;
    /// The CAM permission a sub-account needs, e.g. `ci:DescribeMediaWorkflowExecutions`.
    const PERMISSION: &'static str;
    /// HTTP method.
    const METHOD: http::Method;
    /// The path template: literal segments and `{Name}` parameters, e.g.
    /// `/workflowexecution/{RunId}`.
    const PATH: &'static str;
    /// A bare sub-resource (`?active`): sent without `=`, signed as
    /// `active=` (as the Go and Node SDKs do, which strict-signature buckets
    /// accept).
    const SUBRESOURCE: Option<&'static str> = None;

    /// The DECODED path (parameters filled in), starting with `/`; it is
    /// encoded segment by segment when put on the wire and signed decoded.
    fn path(&self) -> Cow<'_, str>;
    /// Query pairs with raw (decoded) values, in wire order. Unset
    /// parameters are absent.
    fn query_pairs(&self) -> Vec<(&'static str, String)>;
    /// Check every rule; called before signing so nothing invalid is ever
    /// sent, and by [`CiAction::from_request`].
    fn validate(&self) -> Result<(), ValidationError>;
    /// Extra request headers (besides `Host`, `Authorization`, the session
    /// token and the body's `Content-Type`).
    fn headers(&self) -> Vec<(http::HeaderName, String)> {
        Vec::new()
    }
    /// The request body, if the action has one.
    fn body(&self) -> Option<RequestBody> {
        None
    }
    /// The emulator's side: rebuild the action from a request's path
    /// (as on the wire, percent-encoded), decoded query pairs and body.
    /// Unknown or repeated parameters and bad values are errors.
    fn from_request<K: AsRef<str>, V: AsRef<str>>(
        path: &str,
        query: &[(K, V)],
        body: &[u8],
    ) -> Result<Self, QueryError>;
    /// The query as signed: the sub-resource (as `name=""`) then
    /// [`CiAction::query_pairs`].
    fn signed_query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = self.query_pairs();
        if let Some(subresource) = Self::SUBRESOURCE {
            pairs.insert(0, (subresource, String::new()));
        }
        pairs
    }
    /// The encoded wire query (what follows `?`; empty for none): the bare
    /// sub-resource, then each pair encoded with the signature's encoder.
    fn wire_query(&self) -> String {
        let pairs = self.query_pairs();
        let mut out = String::new();
        if let Some(subresource) = Self::SUBRESOURCE {
            out.push_str(subresource);
        }
        if !pairs.is_empty() {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(&crate::query::encode_query(&pairs));
        }
        out
    }
    /// [`CiAction::from_request`] from the raw wire query (after `?`).
    fn from_wire(path: &str, wire_query: &str, body: &[u8]) -> Result<Self, QueryError> {
        Self::from_request(path, &crate::query::decode_query(wire_query)?, body)
    }
    /// Turn a response into the output or a typed error: a non-2xx, or a
    /// 2xx whose body is an `<Error>`, is an error; a body that is not the
    /// expected XML is [`ResponseError::Malformed`], never a partial
    /// success. The request id falls back to the `x-ci-request-id` header.
    // Errors are the cold path and keep every detail the service gave; the
    // size is accepted rather than boxing what callers match on.
    #[allow(clippy::result_large_err)]
    fn parse_response(
        status: http::StatusCode,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<Self::Output, ResponseError> {
        parse_output(status, headers, body)
    }
}

/// The default `parse_response`: status check, `<Response>` document,
/// request-id fallback.
#[allow(clippy::result_large_err)]
pub fn parse_output<O: CiOutput>(
    status: http::StatusCode,
    headers: &http::HeaderMap,
    body: &[u8],
) -> Result<O, ResponseError> {
    check_status(status, headers, body)?;
    let empty = body
        .trim_ascii()
        .is_empty()
        .then(O::from_empty_body)
        .flatten();
    let mut output = match empty {
        Some(output) => Ok(output),
        None => O::from_xml(body),
    }
    .map_err(|error| {
        ResponseError::Malformed(MalformedResponse::new(
            status,
            headers,
            "<Response>",
            String::from(error),
            body,
        ))
    })?;
    let request_id = output.request_id_mut();
    if request_id.is_none() {
        *request_id = request_id_from_headers(headers);
    }
    Ok(output)
}

/// Where a listing continues.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Cursor {
    /// `nextToken` listings: the token of the next page.
    Token(String),
    /// `pageNumber`/`pageSize` listings: the 1-based page number.
    Page(u32),
}

/// An action whose output is one page of a longer listing, continued with
/// a `nextToken` or a `pageNumber`. Declared by [`ci_action!`](crate::ci_action)'s `paging`.
pub trait PaginatedAction: CiAction + Clone {
    /// One listed item.
    type Item;
    /// The largest page the service returns.
    const MAX_PAGE_SIZE: u32;
    /// Where this request starts (`None`: the first page).
    fn cursor(&self) -> Option<Cursor>;
    /// Set (or clear) where the request starts.
    fn set_cursor(&mut self, cursor: Option<Cursor>);
    /// The page size asked for, if set.
    fn page_size(&self) -> Option<u32>;
    /// Ask for `size` items per page (1..=[`Self::MAX_PAGE_SIZE`]).
    fn set_page_size(&mut self, size: u32);
    /// Where the page after `output` (the answer to `self`) starts; `None`
    /// when `output` was the last page.
    fn next_cursor(&self, output: &Self::Output) -> Option<Cursor>;
    /// The page's items, in order.
    fn into_items(output: Self::Output) -> Vec<Self::Item>;
}

/// Longest `nextToken` in bytes, sent or received, for every token listing
/// over a creation-time range. Together with the other limits this keeps
/// every request URI (each byte encoded as up to three) under 8 KiB, which
/// proxies and the emulator accept and `http::Uri` can hold; a longer token
/// from the service could never be sent back (the client's paginator stops
/// with an error on one).
pub const MAX_NEXT_TOKEN_BYTES: usize = 1024;

/// A token listing that can be cut into creation-time windows and paged
/// window by window (`cos-ci-client`'s `ParallelListing`): ordered by
/// creation time, filtered by `startCreationTime`/`endCreationTime`, its
/// items carrying their creation time and a unique id. Declared by
/// [`ci_action!`](crate::ci_action)'s `paging: token_by_creation_time`.
pub trait TimeWindowed: PaginatedAction {
    /// The listing's order (the service's default when unset).
    fn order(&self) -> Order;
    /// Ask for `order`.
    fn set_order(&mut self, order: Order);
    /// `startCreationTime` and `endCreationTime`.
    fn creation_bounds(&self) -> (Option<&CiTimestamp>, Option<&CiTimestamp>);
    /// Set `startCreationTime` and `endCreationTime`.
    fn set_creation_bounds(&mut self, start: Option<CiTimestamp>, end: Option<CiTimestamp>);
    /// An item's creation time, the one the bounds filter on.
    fn item_time(item: &Self::Item) -> Option<&CiTimestamp>;
    /// An item's unique id (`RunId`, `JobId`).
    fn item_id(item: &Self::Item) -> &str;
}

/// A page-size parameter type (`size`, `pageSize`).
pub trait PageSizeValue: Sized {
    /// The service's default when the parameter is not sent.
    const DEFAULT: u32;
    /// The largest accepted value.
    const MAX: u32;
    /// The value.
    fn get(&self) -> u32;
    /// `size` if within bounds.
    fn try_new(size: u32) -> Option<Self>;
}

/// The token-paging rule: a non-empty `NextToken` continues.
pub fn next_token_cursor(token: Option<&str>) -> Option<Cursor> {
    token
        .filter(|token| !token.is_empty())
        .map(|token| Cursor::Token(token.to_owned()))
}

/// The page-number rule: continue unless the page was empty, short, or the
/// last one `TotalCount` allows.
pub fn next_page_cursor(
    page: Option<u32>,
    size: u32,
    total: Option<u64>,
    items: usize,
) -> Option<Cursor> {
    let page = page.unwrap_or(1);
    if items == 0 || (items as u64) < u64::from(size) {
        return None;
    }
    if total.is_some_and(|total| u64::from(page) * u64::from(size) >= total) {
        return None;
    }
    page.checked_add(1).map(Cursor::Page)
}

/// The page-number paging rule: pages count from 1 (`pageNumber=0` is
/// refused rather than read as the first page).
pub fn check_page_number(page: Option<u32>) -> Result<(), ValidationError> {
    match page {
        Some(0) => Err(ValidationError::new("pageNumber", "must be at least 1")),
        _ => Ok(()),
    }
}

/// A field of an action's request, by how it travels. Used by the code
/// [`ci_action!`](crate::ci_action) generates.
pub trait QueryField: Sized {
    /// Append `(name, raw value)` when set.
    fn push_query(&self, name: &'static str, pairs: &mut Vec<(&'static str, String)>);
    /// Check the value's own rules.
    fn check_query(&self, name: &'static str) -> Result<(), ValidationError>;
    /// From the decoded value (`None`: absent or empty).
    fn decode_query(value: Option<&str>, name: &'static str) -> Result<Self, ValidationError>;
}

impl<T: QueryValue> QueryField for Option<T> {
    fn push_query(&self, name: &'static str, pairs: &mut Vec<(&'static str, String)>) {
        if let Some(value) = self {
            pairs.push((name, value.to_query().into_owned()));
        }
    }
    fn check_query(&self, name: &'static str) -> Result<(), ValidationError> {
        self.as_ref().map_or(Ok(()), |value| value.check(name))
    }
    fn decode_query(value: Option<&str>, name: &'static str) -> Result<Self, ValidationError> {
        value.map(|value| T::from_query(value, name)).transpose()
    }
}

impl<T: QueryValue> QueryField for T {
    fn push_query(&self, name: &'static str, pairs: &mut Vec<(&'static str, String)>) {
        pairs.push((name, self.to_query().into_owned()));
    }
    fn check_query(&self, name: &'static str) -> Result<(), ValidationError> {
        QueryValue::check(self, name)
    }
    fn decode_query(value: Option<&str>, name: &'static str) -> Result<Self, ValidationError> {
        match value {
            Some(value) => T::from_query(value, name),
            None => Err(ValidationError::new(name, "is required")),
        }
    }
}

/// Fill a path template's `{Name}` parameters with (decoded) values.
pub fn render_path(template: &'static str, params: &[(&'static str, Cow<'_, str>)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    for (index, segment) in template.split('/').enumerate() {
        if index > 0 {
            out.push('/');
        }
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                if let Some((_, value)) = params.iter().find(|(param, _)| *param == name) {
                    out.push_str(value);
                }
            }
            None => out.push_str(segment),
        }
    }
    out
}

/// Match a wire path (percent-encoded) against a template; on a match, the
/// decoded value of each `{Name}`.
pub fn match_path(template: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
    let mut captures = Vec::new();
    let mut wire = path.split('/');
    for segment in template.split('/') {
        let actual = wire.next()?;
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => captures.push((name, cos_ci_sign::decode(actual).ok()?)),
            None if segment == actual => {}
            None => return None,
        }
    }
    wire.next().is_none().then_some(captures)
}

/// A path parameter by name from [`match_path`]'s captures.
pub fn path_param<'c>(
    captures: &'c [(&'static str, String)],
    name: &'static str,
) -> Option<&'c str> {
    captures
        .iter()
        .find(|(param, _)| *param == name)
        .map(|(_, value)| value.as_str())
}

/// Declare an API action once: a head line with the method, path template,
/// action name and output (`GET "/thing/{Id}" as "GetThing" -> ThingOutput`,
/// ended by `;` or by a block of options), then the request struct with
/// each field's wire name and how it travels (`query`, `path`, `body`).
/// Generates the [`CiAction`] impl (and [`PaginatedAction`], [`TimeWindowed`]): encoding,
/// validation, the emulator's decoding and the default response parsing.
///
/// The head also begins the struct's doc (`` `GET /thing/{Id}` (`GetThing`): ``),
/// so the written doc is only what the action does. A bare sub-resource
/// follows the path: `PUT "/jobs/{JobId}" ?cancel as …`. The CAM permission
/// is `ci:` and the action's name unless the options say `permission:
/// "ci:…"`; the other options are `rules: path::to_fn` (cross-field rules,
/// after each field's own, before the paging style's) and `paging`, in
/// that order. A `body` field's
/// type implements [`BodyRules`], which `validate` checks.
///
/// The struct derives `Debug, Clone, PartialEq, Eq, Default` (a `#[derive]`
/// of its own adds more). A field written without attributes (no doc
/// comment, no `#[…]`) is documented by how it travels: `` `verbose` `` (query), `` `Id`, in the path. ``, "The
/// `<Request>` body.".
///
/// Paging: `paging: token { cursor, size, next, items }` names the fields
/// that carry it; `paging: token { items: jobs: JobDetail }` says the usual
/// ones (`next_token` in the request and the output, `size: PageSize`). A page-number listing says `paging: page_number { items:
/// queues: MediaQueue }`: its request gets the two parameters every such
/// listing has, `page_number: Option<u32>` (`pageNumber`) and `page_size:
/// Option<PageSize>` (`pageSize`), sent last, and its output is declared
/// with `envelope = page_number` ([`ci_response!`](crate::ci_response)).
/// (The long form `paging: page_number { page, size, total, items }` names
/// fields declared by hand.) Page-number paging refuses `pageNumber=0`.
///
/// A token listing over a creation-time range says `paging:
/// token_by_creation_time { items: jobs: JobDetail, time: creation_time,
/// id: job_id }`: its request gets the five parameters every such listing
/// has, sent last in this order, `order: Option<Order>` (`orderByTime`),
/// `start_creation_time` and `end_creation_time: Option<CiTimestamp>`
/// (`startCreationTime`, `endCreationTime`), `size: Option<PageSize>` and
/// `next_token: Option<String>` (`nextToken`); it refuses (after the
/// action's own `rules`) a `nextToken` longer than [`MAX_NEXT_TOKEN_BYTES`]
/// and a start after the end; and it implements
/// [`TimeWindowed`] from them and the item's `time` (`Option<CiTimestamp>`)
/// and `id` (`String`) fields, which is all the client needs to list it
/// by time windows.
///
/// ```
/// use cos_ci_proto::{ci_action, ci_response, xml_record, CiAction, CiTimestamp, TimeWindowed};
///
/// xml_record! {
///     /// One thing.
///     pub struct Thing {
///         pub id: String = "Id",
///         pub created: Option<CiTimestamp> = "Created",
///     }
/// }
///
/// ci_response! {
///     /// One page of things.
///     pub struct ListThingsOutput {
///         /// `Thing`, flat repeated.
///         pub things: Vec<Thing> = "Thing",
///         pub next_token: Option<String> = "NextToken",
///     }
/// }
///
/// ci_action! {
///     GET "/things" as "ListThings" -> ListThingsOutput {
///         paging: token_by_creation_time { items: things: Thing, time: created, id: id },
///     }
///     /// List things, by token.
///     pub struct ListThings {
///         pub kind: Option<String> = query "kind",
///     }
/// }
///
/// let start = CiTimestamp::parse("2022-08-10T00:00:00+0800").unwrap();
/// let end = CiTimestamp::parse("2022-08-09T00:00:00+0800").unwrap();
/// let mut list = ListThings { kind: Some("a".into()), ..Default::default() };
/// list.set_creation_bounds(Some(start), Some(end));
/// let names: Vec<_> = list.query_pairs().into_iter().map(|(name, _)| name).collect();
/// assert_eq!(names, ["kind", "startCreationTime", "endCreationTime"]);
/// assert_eq!(list.validate().unwrap_err().parameter, "startCreationTime");
/// ```
///
/// ```
/// use cos_ci_proto::{ci_action, ci_response, CiAction};
///
/// ci_response! {
///     /// The answer.
///     pub struct ThingOutput {
///         /// `Name`
///         pub name: Option<String> = "Name",
///     }
/// }
///
/// ci_action! {
///     GET "/thing/{Id}" as "GetThing" -> ThingOutput;
///     /// Look up one thing.
///     pub struct GetThing {
///         /// the id
///         pub id: String = path "Id",
///         pub verbose: Option<String> = query "verbose",
///     }
/// }
///
/// ci_action! {
///     PUT "/thing/{Id}" ?hide as "HideThing" -> ThingOutput {
///         permission: "ci:UpdateThing",
///     }
///     /// Hide a thing.
///     pub struct HideThing {
///         pub id: String = path "Id",
///     }
/// }
///
/// let thing = GetThing { id: "a b".into(), verbose: Some("1".into()) };
/// assert_eq!(thing.path(), "/thing/a b");
/// assert_eq!(thing.query_pairs(), [("verbose", "1".to_owned())]);
/// let back = GetThing::from_request("/thing/a%20b", &[("verbose", "1")], b"").unwrap();
/// assert_eq!(back, thing);
/// assert_eq!(GetThing::PERMISSION, "ci:GetThing");
/// assert_eq!(HideThing::PERMISSION, "ci:UpdateThing");
/// assert_eq!(HideThing::SUBRESOURCE, Some("hide"));
/// ```
#[macro_export]
macro_rules! ci_action {
    // As in `xml_record!`: each field gets its doc (the written one, else
    // one from how it travels), then `@emit` writes the action.
    (@munch $head:tt [$($done:tt)*] $extra:tt
        $(#[$field_meta:meta])+
        $field_vis:vis $field:ident : $ty:ty = $kind:ident $($wire:literal)?
        $(, $($rest:tt)*)?
    ) => {
        $crate::ci_action!(@munch $head [$($done)*
            { [$(#[$field_meta])+] $field_vis $field: $ty = $kind $($wire)? }
        ] $extra $($($rest)*)?);
    };
    (@munch $head:tt [$($done:tt)*] $extra:tt
        $field_vis:vis $field:ident : $ty:ty = $kind:ident $($wire:literal)?
        $(, $($rest:tt)*)?
    ) => {
        $crate::ci_action!(@munch $head [$($done)*
            { [#[doc = $crate::ci_action!(@doc $kind $($wire)?)]] $field_vis $field: $ty = $kind $($wire)? }
        ] $extra $($($rest)*)?);
    };
    (@munch { $($head:tt)* } [$($done:tt)*] [$($extra:tt)*]) => {
        $crate::ci_action!(@emit $($head)* { $($done)* $($extra)* });
    };
    (@doc query $wire:literal) => { concat!("`", $wire, "`") };
    (@doc path $wire:literal) => { concat!("`", $wire, "`, in the path.") };
    (@doc body) => { "The `<Request>` body." };
    // The head without options.
    (
        $method:ident $path:literal $(? $subresource:ident)? as $action_name:literal -> $Output:ty;
        $($rest:tt)*
    ) => {
        $crate::ci_action!($method $path $(? $subresource)? as $action_name -> $Output {} $($rest)*);
    };
    // The head makes the doc's first words, so the written doc is only
    // the sentence; the permission is named there only where it is not
    // `ci:` and the action's name.
    (
        $method:ident $path:literal $(? $subresource:ident)? as $action_name:literal -> $Output:ty {
            $(permission: $permission:literal,)?
            $(rules: $rules:path,)?
            $(paging: $paging:ident $paging_args:tt,)?
        }
        $(#[$meta:meta])*
        $vis:vis struct $Name:ident {
            $($fields:tt)*
        }
    ) => {
        $crate::ci_action!(@paging_fields {
            [
                #[doc = concat!(
                    "`", stringify!($method), " ", $path, $("?", stringify!($subresource),)?
                    "` (`", $action_name, "`", $(", permission `", $permission, "`",)? "):"
                )]
                $(#[$meta])*
            ] $vis $Name
            [$action_name [$($permission)?] $method $path [$($subresource)?] $Output [$($rules)?]]
        } [$($paging $paging_args)?] $($fields)*);
    };
    // Page-number paging named by its items alone: the two parameters
    // every such listing has are added, sent last, and the paging is
    // rewritten into the long form that names them (and the envelope's
    // `total_count`), the only form the later arms know.
    (@paging_fields { $($head:tt)* } [page_number { items: $items:ident: $Item:ty $(,)? }] $($fields:tt)*) => {
        $crate::ci_action!(@munch { $($head)* [page_number {
            page: page_number, size: page_size: $crate::PageSize, total: total_count, items: $items: $Item
        }] } [] [
            { [#[doc = "`pageNumber`, from 1."]] pub page_number: Option<u32> = query "pageNumber" }
            { [#[doc = "`pageSize`"]] pub page_size: Option<$crate::PageSize> = query "pageSize" }
        ] $($fields)*);
    };
    // A token listing over a creation-time range: the five parameters
    // every such listing has are added, sent last.
    (@paging_fields { $($head:tt)* } [token_by_creation_time { $($args:tt)* }] $($fields:tt)*) => {
        $crate::ci_action!(@munch { $($head)* [token_by_creation_time { $($args)* }] } [] [
            { [#[doc = "`orderByTime`"]] pub order: ::core::option::Option<$crate::Order> = query "orderByTime" }
            { [#[doc = "`startCreationTime` (inclusive)."]]
                pub start_creation_time: ::core::option::Option<$crate::CiTimestamp> = query "startCreationTime" }
            { [#[doc = "`endCreationTime` (inclusive)."]]
                pub end_creation_time: ::core::option::Option<$crate::CiTimestamp> = query "endCreationTime" }
            { [#[doc = "`size`: 1–100."]] pub size: ::core::option::Option<$crate::PageSize> = query "size" }
            { [#[doc = "`nextToken`"]]
                pub next_token: ::core::option::Option<::std::string::String> = query "nextToken" }
        ] $($fields)*);
    };
    (@paging_fields { $($head:tt)* } $paging:tt $($fields:tt)*) => {
        $crate::ci_action!(@munch { $($head)* $paging } [] [] $($fields)*);
    };
    (@emit [$(#[$meta:meta])*] $vis:vis $Name:ident
        [$action_name:literal [$($permission:literal)?] $method:ident $path:literal
            [$($subresource:ident)?] $Output:ty [$($rules:path)?]]
        [$($paging:ident { $($paging_args:tt)* })?]
        {
            $({
                [$(#[$field_meta:meta])*]
                $field_vis:vis $field:ident : $ty:ty = $kind:ident $($wire:literal)?
            })*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        $vis struct $Name {
            $(
                $(#[$field_meta])*
                $field_vis $field: $ty,
            )*
        }

        impl $crate::CiAction for $Name {
            type Output = $Output;
            const NAME: &'static str = $action_name;
            const PERMISSION: &'static str = $crate::ci_action!(@permission $action_name $($permission)?);
            const METHOD: $crate::http::Method = $crate::http::Method::$method;
            const PATH: &'static str = $path;
            $(const SUBRESOURCE: ::core::option::Option<&'static str> = Some(stringify!($subresource));)?

            fn path(&self) -> ::std::borrow::Cow<'_, str> {
                #[allow(unused_mut)]
                let mut params: ::std::vec::Vec<(&'static str, ::std::borrow::Cow<'_, str>)> =
                    ::std::vec::Vec::new();
                $( $crate::ci_action!(@path_param $kind $($wire)?, params, &self.$field); )*
                if params.is_empty() {
                    ::std::borrow::Cow::Borrowed($path)
                } else {
                    ::std::borrow::Cow::Owned($crate::action::render_path($path, &params))
                }
            }

            fn query_pairs(&self) -> ::std::vec::Vec<(&'static str, ::std::string::String)> {
                #[allow(unused_mut)]
                let mut pairs = ::std::vec::Vec::new();
                $( $crate::ci_action!(@query_push $kind $($wire)?, pairs, &self.$field); )*
                pairs
            }

            fn validate(&self) -> ::core::result::Result<(), $crate::ValidationError> {
                $( $crate::ci_action!(@check $kind $($wire)?, &self.$field); )*
                $( $rules(self)?; )?
                $( $crate::ci_action!(@paging_rule $paging, self, $($paging_args)*); )?
                Ok(())
            }

            fn body(&self) -> ::core::option::Option<$crate::action::RequestBody> {
                #[allow(unused_mut, unused_assignments)]
                let mut body = None;
                $( $crate::ci_action!(@body $kind $($wire)?, body, &self.$field); )*
                body
            }

            fn from_request<K: ::core::convert::AsRef<str>, V: ::core::convert::AsRef<str>>(
                path: &str,
                query: &[(K, V)],
                body: &[u8],
            ) -> ::core::result::Result<Self, $crate::QueryError> {
                let _ = body;
                let captures = $crate::action::match_path(<Self as $crate::CiAction>::PATH, path)
                    .ok_or($crate::QueryError::PathMismatch)?;
                let query_names: &[::core::option::Option<&'static str>] =
                    &[$( $crate::ci_action!(@query_name $kind $($wire)?) ),*];
                let names: ::std::vec::Vec<&'static str> = <Self as $crate::CiAction>::SUBRESOURCE
                    .into_iter()
                    .chain(query_names.iter().copied().flatten())
                    .collect();
                let slots = $crate::query::QuerySlots::collect(&names, query)?;
                let _ = (&slots, &captures);
                let request = $Name {
                    $( $field: $crate::ci_action!(@decode $kind $($wire)?, $ty, slots, captures, body), )*
                };
                <Self as $crate::CiAction>::validate(&request)?;
                Ok(request)
            }
        }

        $( $crate::ci_action!(@paging $paging, $Name, $Output, $($paging_args)*); )?
    };

    (@permission $action_name:literal) => { concat!("ci:", $action_name) };
    (@permission $action_name:literal $permission:literal) => { $permission };

    (@path_param query $wire:literal, $params:ident, $value:expr) => {};
    (@path_param body, $params:ident, $value:expr) => {};
    (@path_param path $wire:literal, $params:ident, $value:expr) => {
        $params.push(($wire, $crate::schema::QueryValue::to_query($value)));
    };

    (@query_push query $wire:literal, $pairs:ident, $value:expr) => {
        $crate::action::QueryField::push_query($value, $wire, &mut $pairs);
    };
    (@query_push $other:ident $($wire:literal)?, $pairs:ident, $value:expr) => {};

    (@query_name query $wire:literal) => { Some($wire) };
    (@query_name $other:ident $($wire:literal)?) => { None };

    (@check query $wire:literal, $value:expr) => {
        $crate::action::QueryField::check_query($value, $wire)?;
    };
    (@check path $wire:literal, $value:expr) => {
        $crate::schema::check_path_segment(&$crate::schema::QueryValue::to_query($value), $wire)?;
        $crate::schema::QueryValue::check($value, $wire)?;
    };
    (@check body, $value:expr) => {
        $crate::action::BodyRules::check_body($value)?;
    };

    (@body body, $body:ident, $value:expr) => {
        $body = Some($crate::action::RequestBody {
            content_type: "application/xml",
            bytes: $crate::schema::XmlDocument::to_xml($value).into_bytes(),
        });
    };
    (@body $other:ident $($wire:literal)?, $body:ident, $value:expr) => {};

    (@decode query $wire:literal, $ty:ty, $slots:ident, $captures:ident, $body:ident) => {
        <$ty as $crate::action::QueryField>::decode_query($slots.get($wire), $wire)?
    };
    (@decode path $wire:literal, $ty:ty, $slots:ident, $captures:ident, $body:ident) => {
        <$ty as $crate::schema::QueryValue>::from_query(
            $crate::action::path_param(&$captures, $wire).unwrap_or_default(),
            $wire,
        )?
    };
    (@decode body, $ty:ty, $slots:ident, $captures:ident, $body:ident) => {
        <$ty as $crate::schema::XmlDocument>::from_xml($body)
            .map_err(|error| $crate::QueryError::BadBody(::std::string::String::from(error)))?
    };

    (@paging_rule token, $request:expr, $($paging_args:tt)*) => {};
    (@paging_rule token_by_creation_time, $request:expr, $($paging_args:tt)*) => {
        $crate::types::check_max_bytes(
            $request.next_token.as_deref(),
            "nextToken",
            $crate::action::MAX_NEXT_TOKEN_BYTES,
        )?;
        $crate::types::check_time_range(
            $request.start_creation_time.as_ref(),
            $request.end_creation_time.as_ref(),
            "startCreationTime",
            "endCreationTime",
        )?;
    };
    (@paging_rule page_number, $request:expr, page: $page:ident, $($paging_args:tt)*) => {
        $crate::action::check_page_number($request.$page)?;
    };

    // Token paging named by its items alone: the usual fields.
    (@paging token, $Name:ident, $Output:ty, items: $items:ident: $Item:ty $(,)?) => {
        $crate::ci_action!(@paging token, $Name, $Output, cursor: next_token,
            size: size: $crate::PageSize, next: next_token, items: $items: $Item);
    };

    // A token listing over a creation-time range: the usual token fields,
    // and its windows from the added parameters and the item's time and id.
    (@paging token_by_creation_time, $Name:ident, $Output:ty,
        items: $items:ident: $Item:ty, time: $time:ident, id: $id:ident $(,)?) => {
        $crate::ci_action!(@paging token, $Name, $Output, items: $items: $Item);

        impl $crate::TimeWindowed for $Name {
            fn order(&self) -> $crate::Order {
                self.order.unwrap_or_default()
            }
            fn set_order(&mut self, order: $crate::Order) {
                self.order = Some(order);
            }
            fn creation_bounds(
                &self,
            ) -> (
                ::core::option::Option<&$crate::CiTimestamp>,
                ::core::option::Option<&$crate::CiTimestamp>,
            ) {
                (
                    self.start_creation_time.as_ref(),
                    self.end_creation_time.as_ref(),
                )
            }
            fn set_creation_bounds(
                &mut self,
                start: ::core::option::Option<$crate::CiTimestamp>,
                end: ::core::option::Option<$crate::CiTimestamp>,
            ) {
                self.start_creation_time = start;
                self.end_creation_time = end;
            }
            fn item_time(item: &$Item) -> ::core::option::Option<&$crate::CiTimestamp> {
                item.$time.as_ref()
            }
            fn item_id(item: &$Item) -> &str {
                &item.$id
            }
        }
    };

    (@paging token, $Name:ident, $Output:ty,
        cursor: $cursor:ident, size: $size:ident: $Size:ty, next: $next:ident, items: $items:ident: $Item:ty $(,)?) => {
        $crate::ci_action!(@paging_impl $Name, $Output, $Item, $size, $Size, $items, {
            fn cursor(&self) -> ::core::option::Option<$crate::Cursor> {
                $crate::action::next_token_cursor(self.$cursor.as_deref())
            }
            fn set_cursor(&mut self, cursor: ::core::option::Option<$crate::Cursor>) {
                self.$cursor = match cursor {
                    Some($crate::Cursor::Token(token)) => Some(token),
                    _ => None,
                };
            }
            fn next_cursor(&self, output: &$Output) -> ::core::option::Option<$crate::Cursor> {
                $crate::action::next_token_cursor(output.$next.as_deref())
            }
        });
    };

    (@paging page_number, $Name:ident, $Output:ty,
        page: $page:ident, size: $size:ident: $Size:ty, total: $total:ident, items: $items:ident: $Item:ty $(,)?) => {
        $crate::ci_action!(@paging_impl $Name, $Output, $Item, $size, $Size, $items, {
            fn cursor(&self) -> ::core::option::Option<$crate::Cursor> {
                self.$page.filter(|page| *page > 1).map($crate::Cursor::Page)
            }
            fn set_cursor(&mut self, cursor: ::core::option::Option<$crate::Cursor>) {
                self.$page = match cursor {
                    Some($crate::Cursor::Page(page)) => Some(page),
                    _ => None,
                };
            }
            fn next_cursor(&self, output: &$Output) -> ::core::option::Option<$crate::Cursor> {
                let size = self.$size.as_ref().map_or(
                    <$Size as $crate::action::PageSizeValue>::DEFAULT,
                    $crate::action::PageSizeValue::get,
                );
                $crate::action::next_page_cursor(self.$page, size, output.$total, output.$items.len())
            }
        });
    };

    (@paging_impl $Name:ident, $Output:ty, $Item:ty, $size:ident, $Size:ty, $items:ident,
        { $($style:tt)* }) => {
        impl $crate::PaginatedAction for $Name {
            type Item = $Item;
            const MAX_PAGE_SIZE: u32 = <$Size as $crate::action::PageSizeValue>::MAX;
            fn page_size(&self) -> ::core::option::Option<u32> {
                self.$size.as_ref().map($crate::action::PageSizeValue::get)
            }
            fn set_page_size(&mut self, size: u32) {
                self.$size = <$Size as $crate::action::PageSizeValue>::try_new(size);
            }
            fn into_items(output: $Output) -> ::std::vec::Vec<$Item> {
                output.$items
            }
            $($style)*
        }
    };
}
