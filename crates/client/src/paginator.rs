//! Following `NextToken` across pages, as data.

use std::collections::HashSet;

use cos_ci_proto::PaginatedAction;

use crate::Error;

/// Yields the request for each page in turn and takes each page's output
/// back. Stops when the token is absent or empty, when an optional item
/// limit is reached, or — with an error — when the service repeats a token
/// (which would otherwise page forever).
///
/// ```
/// use cos_ci_client::Paginator;
/// use cos_ci_proto::{ListWorkflowExecutions, ListWorkflowExecutionsOutput};
///
/// let mut pages = Paginator::new(ListWorkflowExecutions::default());
/// let request = pages.next_request().unwrap().unwrap();
/// assert!(request.next_token.is_none());
/// // … send it, parse the output …
/// let items = pages.on_page(ListWorkflowExecutionsOutput::default());
/// assert!(items.is_empty());
/// assert!(pages.next_request().is_none()); // no NextToken: done
/// ```
#[derive(Debug)]
pub struct Paginator<A: PaginatedAction> {
    template: A,
    next_token: Option<String>,
    seen_tokens: HashSet<String>,
    limit: Option<u64>,
    yielded: u64,
    pages: u64,
    state: PaginatorState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PaginatorState {
    /// The next request can be issued.
    Ready,
    /// A request was issued; waiting for its page.
    AwaitingPage,
    /// Finished (last page, or limit reached).
    Done,
    /// The service repeated this token.
    Repeated(String),
}

impl<A: PaginatedAction> Paginator<A> {
    /// Page through `action`, starting from its own `nextToken` if set.
    pub fn new(mut action: A) -> Self {
        let next_token = take_token(&mut action);
        let mut seen_tokens = HashSet::new();
        if let Some(token) = &next_token {
            seen_tokens.insert(token.clone());
        }
        Self {
            template: action,
            next_token,
            seen_tokens,
            limit: None,
            yielded: 0,
            pages: 0,
            state: PaginatorState::Ready,
        }
    }

    /// Stop after `limit` items in total (the last page is requested no
    /// larger than needed).
    pub fn with_limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        if limit == 0 {
            self.state = PaginatorState::Done;
        }
        self
    }

    /// The request for the next page; `None` when finished;
    /// `Some(Err(RepeatedNextToken))` if the service repeated a token.
    pub fn next_request(&mut self) -> Option<Result<A, Error>> {
        match &self.state {
            PaginatorState::Done => None,
            PaginatorState::Repeated(token) => Some(Err(Error::RepeatedNextToken {
                token: token.clone(),
            })),
            PaginatorState::AwaitingPage => Some(Err(Error::Usage(
                "next_request called before the previous page was reported",
            ))),
            PaginatorState::Ready => {
                let mut request = self.template.clone();
                request.set_next_token(self.next_token.clone());
                if let Some(limit) = self.limit {
                    let remaining = limit.saturating_sub(self.yielded);
                    request.cap_page_size(u32::try_from(remaining).unwrap_or(u32::MAX));
                }
                self.state = PaginatorState::AwaitingPage;
                Some(Ok(request))
            }
        }
    }

    /// Report the page answering the last request; returns its items (cut
    /// to the limit).
    pub fn on_page(&mut self, output: A::Output) -> Vec<A::Item> {
        let token = A::next_token(&output).map(str::to_owned);
        let mut items = A::into_items(output);
        self.pages += 1;
        if let Some(limit) = self.limit {
            let remaining =
                usize::try_from(limit.saturating_sub(self.yielded)).unwrap_or(usize::MAX);
            items.truncate(remaining);
        }
        self.yielded += items.len() as u64;
        let limit_reached = self.limit.is_some_and(|limit| self.yielded >= limit);
        self.state = match token {
            None => {
                self.next_token = None;
                PaginatorState::Done
            }
            Some(token) if limit_reached => {
                self.next_token = Some(token);
                PaginatorState::Done
            }
            Some(token) if !self.seen_tokens.insert(token.clone()) => {
                PaginatorState::Repeated(token)
            }
            Some(token) => {
                self.next_token = Some(token);
                PaginatorState::Ready
            }
        };
        items
    }

    /// Whether no further page will be requested.
    pub fn is_done(&self) -> bool {
        self.state == PaginatorState::Done
    }

    /// Pages reported so far.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// Items returned so far.
    pub fn items(&self) -> u64 {
        self.yielded
    }

    /// The token of the page after the last one reported: the next request
    /// carries it, and after stopping at the limit it resumes the listing
    /// later (exactly, when the service honours the capped page size).
    /// `None` once the last page has been seen.
    pub fn resume_token(&self) -> Option<&str> {
        self.next_token.as_deref()
    }
}

fn take_token<A: PaginatedAction>(action: &mut A) -> Option<String> {
    // PaginatedAction has no getter; recover the starting token by asking the
    // action to clear it and remembering what the caller set.
    let token = action.start_token().map(str::to_owned);
    action.set_next_token(None);
    token.filter(|t| !t.is_empty())
}
