//! The shape every API action has.

use std::borrow::Cow;

use crate::ResponseError;

/// One Cloud Infinite API action: how to put it on the wire and how to read
/// the answer. Implementations are plain data; no IO.
pub trait CiAction {
    /// The typed result of a successful call.
    type Output;
    /// Short name used in logs and spans, e.g. `ListWorkflowExecutions`.
    const NAME: &'static str;
    /// The CAM permission a sub-account needs, e.g. `ci:DescribeMediaWorkflowExecutions`.
    const PERMISSION: &'static str;

    /// HTTP method.
    fn method(&self) -> http::Method;
    /// The DECODED path, starting with `/` (it is encoded when put on the wire
    /// and signed decoded).
    fn path(&self) -> Cow<'_, str>;
    /// Query pairs with raw (decoded) values, in wire order. Unset parameters
    /// are absent.
    fn query_pairs(&self) -> Vec<(&'static str, String)>;
    /// Check the rules that types cannot express; called before signing so
    /// nothing invalid is ever sent.
    fn validate(&self) -> Result<(), crate::ValidationError> {
        Ok(())
    }
    /// Request body (empty for GET actions).
    fn body(&self) -> Vec<u8> {
        Vec::new()
    }
    /// Turn a response into the output or a typed error. A 2xx whose body is
    /// an `<Error>` is an error; a body that is not the expected XML is
    /// [`ResponseError::Malformed`], never a partial success.
    // Errors are the cold path and keep every detail the service gave; the
    // size is accepted rather than boxing what callers match on.
    #[allow(clippy::result_large_err)]
    fn parse_response(
        status: http::StatusCode,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<Self::Output, ResponseError>;
}

/// An action whose output is one page of a longer listing, continued with a
/// `nextToken`.
pub trait PaginatedAction: CiAction + Clone {
    /// One listed item.
    type Item;
    /// The token this request starts from, if any.
    fn start_token(&self) -> Option<&str>;
    /// Set (or clear) the token of the page to fetch.
    fn set_next_token(&mut self, token: Option<String>);
    /// The token of the page after `output`; `None` (absent or empty) means
    /// `output` was the last page.
    fn next_token(output: &Self::Output) -> Option<&str>;
    /// The page's items, in order.
    fn into_items(output: Self::Output) -> Vec<Self::Item>;
    /// Ask for at most `max` items per page (used to stop at an overall
    /// limit without over-fetching). `max` is within the action's bounds.
    fn cap_page_size(&mut self, max: u32);
}
