//! Following a listing across pages, as data, for both paging styles
//! (`nextToken`, and `pageNumber`/`pageSize` with `TotalCount`).

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use cos_ci_proto::{Cursor, PaginatedAction};

use crate::Error;

/// Why a listing was stopped by its guards rather than by its last page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PagingError {
    /// The service returned a cursor it had already returned (or the one
    /// the listing started from): paging would never end.
    #[error("the service repeated a page cursor ({cursor}); stopping to avoid an endless listing")]
    RepeatedCursor {
        /// The cursor, shortened for display.
        cursor: String,
    },
    /// Many pages in a row came back empty yet said there was more.
    #[error(
        "{pages} pages in a row came back empty with a cursor to more; stopping to avoid an endless listing"
    )]
    EmptyPages {
        /// How many empty pages in a row.
        pages: u32,
    },
    /// The listing reached the configured page limit before its end.
    #[error("stopped after {pages} pages (the page limit); the listing has more")]
    MaxPages {
        /// The limit.
        pages: u64,
    },
    /// The service sent a cursor too long to send back.
    #[error(
        "the service sent a NextToken of {bytes} bytes, more than the {max} that can be sent back"
    )]
    CursorTooLong {
        /// Its length.
        bytes: usize,
        /// The longest accepted.
        max: usize,
    },
}

/// The guards and limits of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagingOptions {
    /// Stop after this many items in total (the last page is requested no
    /// larger than needed). `None`: every item.
    pub limit: Option<u64>,
    /// Items per page; `None` asks for the action's largest page (fewest
    /// round trips) unless the request already sets one.
    pub page_size: Option<u32>,
    /// Stop with [`PagingError::MaxPages`] after this many pages.
    pub max_pages: Option<u64>,
    /// Stop with [`PagingError::EmptyPages`] after this many empty pages in
    /// a row that still point to more.
    pub max_empty_pages: u32,
}

/// The longest `NextToken` sent back (a longer one could not be sent in a
/// request; no real token is anywhere near it).
pub const MAX_CURSOR_BYTES: usize = cos_ci_proto::action::MAX_NEXT_TOKEN_BYTES;

impl Default for PagingOptions {
    fn default() -> Self {
        PagingOptions {
            limit: None,
            page_size: None,
            max_pages: None,
            max_empty_pages: 10,
        }
    }
}

impl PagingOptions {
    /// Every item, at the largest page size.
    pub fn all() -> Self {
        Self::default()
    }
    /// At most `limit` items.
    pub fn limit(limit: u64) -> Self {
        PagingOptions {
            limit: Some(limit),
            ..Self::default()
        }
    }
}

/// Yields the request for each page in turn and takes each page's output
/// back. Stops when the last page is seen or the item limit is reached,
/// and with a [`PagingError`] when the service repeats a cursor, sends a
/// run of empty pages that claim more, or the page limit is hit — so a
/// misbehaving server can never cause an endless listing. Memory per page
/// seen is one 64-bit digest of its cursor, whatever the cursor's size.
///
/// ```
/// use cos_ci_client::Paginator;
/// use cos_ci_proto::{ListWorkflowExecutions, ListWorkflowExecutionsOutput};
///
/// let mut pages = Paginator::new(ListWorkflowExecutions::default());
/// let request = pages.next_request().unwrap().unwrap();
/// assert!(request.next_token.is_none());
/// assert_eq!(request.size.map(|size| size.get()), Some(100), "largest page by default");
/// // … send it, parse the output …
/// let items = pages.on_page(ListWorkflowExecutionsOutput::default());
/// assert!(items.is_empty());
/// assert!(pages.next_request().is_none()); // no NextToken: done
/// ```
#[derive(Debug)]
pub struct Paginator<A: PaginatedAction> {
    template: A,
    /// The request whose page is awaited.
    in_flight: Option<A>,
    next_cursor: Option<Cursor>,
    seen_cursors: HashSet<u64>,
    options: PagingOptions,
    yielded: u64,
    pages: u64,
    empty_run: u32,
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
    /// Stopped by a guard.
    Failed(PagingError),
}

impl<A: PaginatedAction> Paginator<A> {
    /// Page through `action` with [`PagingOptions::default`], starting from
    /// its own cursor if set.
    pub fn new(action: A) -> Self {
        Self::with_options(action, PagingOptions::default())
    }

    /// Page through `action` with these limits and guards.
    pub fn with_options(mut action: A, options: PagingOptions) -> Self {
        let next_cursor = action.cursor();
        action.set_cursor(None);
        match options.page_size {
            Some(size) => action.set_page_size(size.clamp(1, A::MAX_PAGE_SIZE)),
            None if action.page_size().is_none() => action.set_page_size(A::MAX_PAGE_SIZE),
            None => {}
        }
        let mut seen_cursors = HashSet::new();
        if let Some(cursor) = &next_cursor {
            seen_cursors.insert(digest(cursor));
        }
        let state = if options.limit == Some(0) {
            PaginatorState::Done
        } else {
            PaginatorState::Ready
        };
        Self {
            template: action,
            in_flight: None,
            next_cursor,
            seen_cursors,
            options,
            yielded: 0,
            pages: 0,
            empty_run: 0,
            state,
        }
    }

    /// Stop after `limit` items in total (the last page is requested no
    /// larger than needed).
    pub fn with_limit(mut self, limit: u64) -> Self {
        self.options.limit = Some(limit);
        if limit == 0 {
            self.state = PaginatorState::Done;
        }
        self
    }

    /// The request for the next page; `None` when finished;
    /// `Some(Err(Error::Paging(_)))` once a guard stopped the listing.
    pub fn next_request(&mut self) -> Option<Result<A, Error>> {
        match &self.state {
            PaginatorState::Done => None,
            PaginatorState::Failed(error) => Some(Err(Error::Paging(error.clone()))),
            PaginatorState::AwaitingPage => Some(Err(Error::Usage(
                "next_request called before the previous page was reported",
            ))),
            PaginatorState::Ready => {
                if let Some(max) = self.options.max_pages
                    && self.pages >= max
                {
                    let error = PagingError::MaxPages { pages: max };
                    self.state = PaginatorState::Failed(error.clone());
                    return Some(Err(Error::Paging(error)));
                }
                let mut request = self.template.clone();
                request.set_cursor(self.next_cursor.clone());
                if let Some(limit) = self.options.limit {
                    let remaining = limit.saturating_sub(self.yielded);
                    let current = request.page_size().unwrap_or(A::MAX_PAGE_SIZE);
                    if remaining < u64::from(current) {
                        // Page-number listings must keep one page size
                        // throughout, or page N would mean other items.
                        if matches!(self.next_cursor, None | Some(Cursor::Token(_))) {
                            request.set_page_size(u32::try_from(remaining).unwrap_or(1).max(1));
                        }
                    }
                }
                self.state = PaginatorState::AwaitingPage;
                self.in_flight = Some(request.clone());
                Some(Ok(request))
            }
        }
    }

    /// Report the page answering the last request; returns its items (cut
    /// to the limit). After a guard stops the listing, the next
    /// [`Self::next_request`] returns the error.
    pub fn on_page(&mut self, output: A::Output) -> Vec<A::Item> {
        let request = self
            .in_flight
            .take()
            .unwrap_or_else(|| self.template.clone());
        let cursor = request.next_cursor(&output);
        let mut items = A::into_items(output);
        self.pages += 1;
        if let Some(limit) = self.options.limit {
            let remaining =
                usize::try_from(limit.saturating_sub(self.yielded)).unwrap_or(usize::MAX);
            items.truncate(remaining);
        }
        self.yielded += items.len() as u64;
        let limit_reached = self
            .options
            .limit
            .is_some_and(|limit| self.yielded >= limit);
        self.empty_run = if items.is_empty() {
            self.empty_run + 1
        } else {
            0
        };
        self.state = match cursor {
            None => {
                self.next_cursor = None;
                PaginatorState::Done
            }
            Some(cursor) if limit_reached => {
                self.next_cursor = Some(cursor);
                PaginatorState::Done
            }
            Some(Cursor::Token(token)) if token.len() > MAX_CURSOR_BYTES => {
                PaginatorState::Failed(PagingError::CursorTooLong {
                    bytes: token.len(),
                    max: MAX_CURSOR_BYTES,
                })
            }
            Some(cursor) if !self.seen_cursors.insert(digest(&cursor)) => {
                PaginatorState::Failed(PagingError::RepeatedCursor {
                    cursor: describe(&cursor),
                })
            }
            Some(_) if self.empty_run >= self.options.max_empty_pages.max(1) => {
                PaginatorState::Failed(PagingError::EmptyPages {
                    pages: self.empty_run,
                })
            }
            Some(cursor) => {
                self.next_cursor = Some(cursor);
                PaginatorState::Ready
            }
        };
        items
    }

    /// Whether no further page will be requested.
    pub fn is_done(&self) -> bool {
        matches!(self.state, PaginatorState::Done | PaginatorState::Failed(_))
    }

    /// Pages reported so far.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// Items returned so far.
    pub fn items(&self) -> u64 {
        self.yielded
    }

    /// Where the listing continues: the next request starts there, and
    /// after stopping at the limit it resumes the listing later. `None`
    /// once the last page has been seen.
    pub fn resume_cursor(&self) -> Option<&Cursor> {
        self.next_cursor.as_ref()
    }

    /// [`Self::resume_cursor`] as a `nextToken` (token listings only).
    pub fn resume_token(&self) -> Option<&str> {
        match &self.next_cursor {
            Some(Cursor::Token(token)) => Some(token),
            _ => None,
        }
    }
}

/// A 64-bit digest of a cursor: what the repeat guard keeps per page, so
/// memory does not grow with the size of the tokens a server sends.
fn digest(cursor: &Cursor) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    cursor.hash(&mut hasher);
    hasher.finish()
}

fn describe(cursor: &Cursor) -> String {
    match cursor {
        Cursor::Token(token) => format!("NextToken `{}`", cos_ci_proto::query::excerpt(token, 64)),
        Cursor::Page(page) => format!("page {page}"),
    }
}
