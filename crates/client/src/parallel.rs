//! Listing by creation-time windows, several pages at once, as data.
//!
//! A token-paged listing is sequential: each page needs the previous
//! page's `NextToken`, so every page costs one round trip after the other.
//! `startCreationTime`/`endCreationTime` cut a listing into time windows
//! that can be paged independently. [`ParallelListing`] plans those
//! windows and merges their pages back into exactly the sequential
//! listing's output; a transport runs the requests it hands out, several
//! at a time, and reports each answer back (`cos-ci-hyper`'s
//! `HyperClient::parallel_items` does it on tokio; any transport can).
//!
//! # How the windows are planned
//!
//! Time is whole seconds (the API's resolution). Call a listing's order
//! "forward" (oldest first for `Asc`, newest first for `Desc`).
//!
//! 1. **Probe.** The first window is the listing itself, so its first
//!    page is the sequential listing's first page, sent as is. Beside it
//!    goes one cheap probe: the same filters in the opposite order with
//!    `size=1`, whose one item is where the listing ends. A listing that
//!    fits in one page therefore costs what it always did (plus the probe,
//!    concurrently); with `workers == 1`, or a limit within one page, there
//!    is no probe at all and the requests are exactly the sequential ones.
//! 2. **Split by density.** After each full page of a window that goes on,
//!    the page's time span gives the density there. If the rest of the
//!    window (up to its end, or up to the probed end for the last window)
//!    holds more than about [`ParallelOptions::window_pages`] pages at that
//!    density, the window keeps the next `window_pages` pages' worth of time
//!    and the rest becomes new windows of that size placed right after it
//!    (at most four per worker at a time; the last one takes whatever is
//!    left and splits again when it starts). So data bunched into a short
//!    period (a backlog, a batch trigger) is cut finely where it is dense
//!    and coarsely where it is sparse, and no worker idles while one window
//!    pages through a burst. A single second is never split: the API cannot
//!    express it.
//! 3. **Own, overlap, drop.** Each window owns a range of whole seconds;
//!    the ranges tile the listing. A window's request reaches one second
//!    beyond what it owns on each inner side (`startCreationTime` one
//!    second before, `endCreationTime` one second after), so whether the
//!    service treats the bounds as inclusive or exclusive, every owned
//!    second is inside the request. What a window returns outside what it
//!    owns — the neighbour's boundary second, returned twice because the
//!    requests overlap — is dropped: an item is kept only from the window
//!    that owns its `CreateTime`, so an execution on a boundary comes out
//!    once. (An item without a `CreateTime`, which no window can own, is
//!    kept once by its id: `RunId` for executions.) A window stops as soon
//!    as it returns an item past its end. The outer sides of the first and
//!    last windows are the listing's own bounds, sent exactly as given.
//! 4. **Merge in order.** Windows are concatenated in forward order, and
//!    within a window items come in the service's order, page by page.
//!
//! # What the output is
//!
//! The same items, each once, in the same order, as the sequential
//! listing with the same filters, given one assumption: the order the
//! service gives to executions created in the same second is a property of
//! those executions (the emulator orders them by `RunId`, ascending for
//! `Asc` and descending for `Desc`; the real service's tie order is not
//! documented), not of the time bounds of the request. A second always
//! lies within one window and comes from one request sequence, so ties
//! keep whatever order the service gives them. Items are handed out as
//! the windows complete in order (the head window streams), and executions
//! created while the listing runs are seen as the sequential listing would
//! see them at the ends (the outer windows keep the listing's own open
//! bounds) but, in between, only if their window has not passed them.
//!
//! # Memory, limits, guards
//!
//! At most `workers` requests are in flight. Windows after the head hold
//! at most `workers × window_pages` pages ahead of any window that may
//! still fetch, and never more than twice that in all, whatever the size
//! of the listing; a window that reaches the bound waits (the head never
//! does). With a limit, no window is fetched once the items before it
//! already reach the limit. Each window is an ordinary [`Paginator`] over
//! its own request, so the repeated-cursor, empty-page and token-length
//! guards apply per window, and every request is an ordinary call with its
//! own retries. [`PagingOptions::max_pages`] counts every page request of
//! the listing (not the probe). An error ends the listing when its window's
//! turn comes: everything before it is handed out first, so the output is
//! always a prefix of the sequential listing's, followed by the error.

use std::collections::{HashSet, VecDeque};

use cos_ci_proto::{CiTimestamp, Cursor, Order};

use crate::{Error, Paginator, PagingError, PagingOptions};

/// The listings that [`ParallelListing`] can cut: declared in proto (a
/// `ci_action!` with `paging: token_by_creation_time`), named here too.
pub use cos_ci_proto::TimeWindowed;

/// The most requests a [`ParallelListing`] keeps in flight; larger
/// [`ParallelOptions::workers`] are capped to it. Past a few dozen
/// connections a listing gains little and the service is more likely to
/// answer `SlowDown`.
pub const MAX_WORKERS: usize = 32;

/// How a [`ParallelListing`] runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParallelOptions {
    /// Requests in flight at once, 1 to [`MAX_WORKERS`] (capped). 1 is the
    /// sequential listing, request for request.
    pub workers: usize,
    /// The limit, page size and guards, as for a sequential listing (see
    /// the [module docs](self) for how `max_pages` counts).
    pub paging: PagingOptions,
    /// About how many pages a window is planned to hold (at least 1). Also
    /// the look-ahead: windows after the head hold at most `workers ×
    /// window_pages` pages (twice that at worst). Larger means fewer
    /// partial last pages (each window ends with one), smaller means less
    /// memory.
    pub window_pages: u32,
}

impl ParallelOptions {
    /// The default pages per window.
    pub const DEFAULT_WINDOW_PAGES: u32 = 8;

    /// `workers` requests at once, every item, default windows.
    pub fn new(workers: usize) -> Self {
        ParallelOptions {
            workers,
            paging: PagingOptions::default(),
            window_pages: Self::DEFAULT_WINDOW_PAGES,
        }
    }

    /// With these paging options (limit, page size, guards).
    pub fn with_paging(mut self, paging: PagingOptions) -> Self {
        self.paging = paging;
        self
    }
}

impl Default for ParallelOptions {
    /// Eight workers.
    fn default() -> Self {
        Self::new(8)
    }
}

/// Names one request handed out by [`ParallelListing::poll`]; report its
/// answer under the same id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FetchId(u64);

/// What the transport should do next.
#[derive(Debug)]
pub enum ListingStep<A: TimeWindowed> {
    /// Run this request as an ordinary call (with its retries), and report
    /// the output with [`ParallelListing::on_page`] or the error with
    /// [`ParallelListing::on_error`], under this id. Then poll again: more
    /// requests may follow at once.
    Send(FetchId, A),
    /// The next items of the listing, in order (never empty).
    Items(Vec<A::Item>),
    /// Nothing to do until a request in flight is reported.
    Wait,
    /// Finished: `Ok` after the last item, or the error that ended the
    /// listing (after every item before it). Requests still in flight are
    /// no longer needed; every later poll returns `Done(Ok(()))`.
    Done(Result<(), Error>),
}

/// Counters of a [`ParallelListing`], for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListingStats {
    /// Page requests handed out, the probe included.
    pub requests: u64,
    /// Probe requests (0 or 1).
    pub probes: u64,
    /// Windows planned, the first included.
    pub windows: u64,
    /// Times a window was found dense and split.
    pub splits: u64,
    /// Items dropped because a neighbouring window owns them (boundary
    /// seconds returned twice by overlapping requests, or returned past a
    /// window's end) or because they were seen already (no `CreateTime`).
    pub dropped: u64,
    /// Items handed out.
    pub items: u64,
    /// Most pages held at once by windows after the head, plus their
    /// requests in flight.
    pub peak_pages_ahead: usize,
}

/// The listing of `A` by concurrent creation-time windows, as a sans-IO
/// state machine (see the [module docs](self) for the plan and the
/// guarantees).
///
/// ```
/// use cos_ci_client::{ListingStep, ParallelListing, ParallelOptions};
/// use cos_ci_proto::{ListWorkflowExecutions, ListWorkflowExecutionsOutput};
///
/// let mut listing = ParallelListing::new(ListWorkflowExecutions::default(), ParallelOptions::new(4));
/// let mut sent = Vec::new();
/// while let ListingStep::Send(id, request) = listing.poll() {
///     sent.push((id, request));
/// }
/// // The first page, and the probe for the far end (oldest first, one item).
/// assert_eq!(sent.len(), 2);
/// assert_eq!(sent[1].1.size.map(|size| size.get()), Some(1));
/// // … run them concurrently, report each answer …
/// for (id, _) in sent {
///     listing.on_page(id, ListWorkflowExecutionsOutput::default());
/// }
/// assert!(matches!(listing.poll(), ListingStep::Done(Ok(()))));
/// ```
pub struct ParallelListing<A: TimeWindowed> {
    /// The request every window starts from: filters, page size, no cursor.
    template: A,
    order: Order,
    workers: usize,
    window_pages: u32,
    page_size: u32,
    paging: PagingOptions,
    /// One window, no probe, no splitting: the sequential listing.
    sequential: bool,
    /// The offset timestamps we write are given in (the listing's own
    /// bounds', else that of the first item seen).
    offset: Option<i32>,
    windows: VecDeque<Window<A>>,
    far: Far,
    next_id: u64,
    in_flight: usize,
    pages_requested: u64,
    /// Ids of items without a creation time already handed out.
    timeless: HashSet<String>,
    finished: Option<Result<(), Error>>,
    stats: ListingStats,
}

impl<A: TimeWindowed + std::fmt::Debug> std::fmt::Debug for ParallelListing<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParallelListing")
            .field("template", &self.template)
            .field("workers", &self.workers)
            .field("window_pages", &self.window_pages)
            .field("page_size", &self.page_size)
            .field("sequential", &self.sequential)
            .field("windows", &self.windows.len())
            .field("in_flight", &self.in_flight)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// Where the listing ends, from the probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Far {
    /// Not needed (sequential).
    Disabled,
    /// Not asked yet.
    Unknown,
    /// The probe is in flight.
    Pending(u64),
    /// The last item's key; `None` when the probe found nothing.
    Known(Option<i64>),
}

/// One window: the seconds it owns, as keys (time in the listing's forward
/// direction: negated for `Desc`), inclusive; `None` is the listing's own
/// bound on that side.
struct Window<A: TimeWindowed> {
    lo: Option<i64>,
    hi: Option<i64>,
    /// `None` until its first request.
    paginator: Option<Paginator<A>>,
    /// The id of its request in flight.
    fetch: Option<u64>,
    /// Pages waiting for their turn.
    buffer: VecDeque<Vec<A::Item>>,
    buffered_items: u64,
    /// No more requests (last page seen, or past its end).
    done: bool,
    error: Option<Error>,
    /// The last full page's span, for the density estimate.
    last_page: Option<PageSpan>,
}

#[derive(Debug, Clone, Copy)]
struct PageSpan {
    items: usize,
    first: i64,
    last: i64,
}

impl<A: TimeWindowed> Window<A> {
    fn new(lo: Option<i64>, hi: Option<i64>) -> Self {
        Window {
            lo,
            hi,
            paginator: None,
            fetch: None,
            buffer: VecDeque::new(),
            buffered_items: 0,
            done: false,
            error: None,
            last_page: None,
        }
    }

    /// Pages it holds plus its request in flight.
    fn pages_held(&self) -> usize {
        self.buffer.len() + usize::from(self.fetch.is_some())
    }
}

impl<A: TimeWindowed> ParallelListing<A> {
    /// Plan the listing of `action` (its filters, order, bounds, page size
    /// and starting cursor) with `options`.
    pub fn new(mut action: A, options: ParallelOptions) -> Self {
        let workers = options.workers.clamp(1, MAX_WORKERS);
        let page_size = options
            .paging
            .page_size
            .or(action.page_size())
            .unwrap_or(A::MAX_PAGE_SIZE)
            .clamp(1, A::MAX_PAGE_SIZE);
        action.set_page_size(page_size);
        let start_cursor = action.cursor();
        action.set_cursor(None);
        let order = action.order();
        let (start, end) = action.creation_bounds();
        let offset = start.or(end).map(CiTimestamp::offset_seconds);
        let sequential = workers == 1
            || options
                .paging
                .limit
                .is_some_and(|limit| limit <= u64::from(page_size));

        // The first window is the listing itself: its first page is the
        // sequential listing's first page.
        let mut first = action.clone();
        first.set_cursor(start_cursor);
        let first_paging = if sequential {
            options.paging.clone()
        } else {
            PagingOptions {
                limit: None,
                page_size: Some(page_size),
                max_pages: None,
                max_empty_pages: options.paging.max_empty_pages,
            }
        };
        let mut window = Window::new(None, None);
        window.paginator = Some(Paginator::with_options(first, first_paging));
        let finished = (options.paging.limit == Some(0)).then_some(Ok(()));

        ParallelListing {
            template: action,
            order,
            workers,
            window_pages: options.window_pages.max(1),
            page_size,
            paging: options.paging,
            sequential,
            offset,
            windows: VecDeque::from([window]),
            far: if sequential {
                Far::Disabled
            } else {
                Far::Unknown
            },
            next_id: 0,
            in_flight: 0,
            pages_requested: 0,
            timeless: HashSet::new(),
            finished,
            stats: ListingStats {
                windows: 1,
                ..ListingStats::default()
            },
        }
    }

    /// What to do next: send a request, hand out items, wait, or stop.
    /// Call it again after acting on each step; `Wait` means report a
    /// request in flight first.
    pub fn poll(&mut self) -> ListingStep<A> {
        if let Some(result) = self.finished.take() {
            self.finished = Some(Ok(()));
            return ListingStep::Done(result);
        }
        if let Some(step) = self.next_send() {
            return step;
        }
        if let Some(step) = self.next_items() {
            return step;
        }
        // Retiring finished head windows may have made a window the head
        // that the look-ahead bound held back; the head may always fetch.
        if let Some(step) = self.next_send() {
            return step;
        }
        if self.windows.is_empty() || self.in_flight == 0 {
            // Nothing left, or nothing that could ever move (cannot happen:
            // the head may always fetch).
            self.finished = Some(Ok(()));
            return ListingStep::Done(Ok(()));
        }
        ListingStep::Wait
    }

    /// Report the output of request `id`.
    pub fn on_page(&mut self, id: FetchId, output: A::Output) {
        let FetchId(id) = id;
        self.in_flight = self.in_flight.saturating_sub(1);
        if self.finished.is_some() {
            return;
        }
        if self.far == Far::Pending(id) {
            let far = A::into_items(output)
                .first()
                .and_then(|item| self.item_key(item));
            self.far = Far::Known(far);
            // The last window's end was waiting for this.
            if let Some(last) = self.windows.len().checked_sub(1) {
                self.adapt(last);
            }
            return;
        }
        let Some(index) = self.windows.iter().position(|w| w.fetch == Some(id)) else {
            return;
        };
        self.take_page(index, output);
    }

    /// Report that request `id` failed (after its retries).
    pub fn on_error(&mut self, id: FetchId, error: Error) {
        let FetchId(id) = id;
        self.in_flight = self.in_flight.saturating_sub(1);
        if self.finished.is_some() {
            return;
        }
        if self.far == Far::Pending(id) {
            // The listing cannot be planned; everything handed out so far
            // is still a prefix of the sequential listing.
            self.finished = Some(Err(error));
            self.windows.clear();
            return;
        }
        if let Some(window) = self.windows.iter_mut().find(|w| w.fetch == Some(id)) {
            window.fetch = None;
            window.done = true;
            window.error = Some(error);
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> ListingStats {
        self.stats
    }

    /// Requests in flight (handed out, not yet reported).
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Whether this listing runs sequentially (one worker, or a limit
    /// within one page): no probe, no windows, the same requests as a
    /// [`Paginator`].
    pub fn is_sequential(&self) -> bool {
        self.sequential
    }

    /// For a sequential listing, where to resume it (as
    /// [`Paginator::resume_cursor`]); `None` for a windowed one, whose
    /// position is not one cursor.
    pub fn resume_cursor(&self) -> Option<&Cursor> {
        if !self.sequential {
            return None;
        }
        self.windows
            .front()
            .and_then(|w| w.paginator.as_ref())
            .and_then(Paginator::resume_cursor)
    }

    // --- keys: time in the listing's forward direction ---

    fn key(&self, unix_seconds: i64) -> i64 {
        match self.order {
            Order::Desc => -unix_seconds,
            _ => unix_seconds,
        }
    }

    fn item_key(&self, item: &A::Item) -> Option<i64> {
        A::item_time(item).map(|time| self.key(time.unix_seconds()))
    }

    /// The request of a window that has not started: the template with the
    /// window's bounds, each inner side one second wider than owned.
    fn window_request(&self, lo: Option<i64>, hi: Option<i64>) -> Option<A> {
        let mut request = self.template.clone();
        let (user_start, user_end) = request.creation_bounds();
        let (user_start, user_end) = (user_start.cloned(), user_end.cloned());
        // Owned seconds as times, and which time side each key side is.
        let (before, after) = match self.order {
            Order::Desc => (hi.map(|hi| -hi - 1), lo.map(|lo| -lo + 1)),
            _ => (lo.map(|lo| lo - 1), hi.map(|hi| hi + 1)),
        };
        let offset = self.offset.unwrap_or(0);
        let stamp = |seconds: i64| CiTimestamp::from_unix(seconds, offset).ok();
        // Never wider than the listing's own bounds: where a window reaches
        // one, that side is sent as given.
        let start = match (before.and_then(stamp), user_start) {
            (Some(ours), Some(theirs)) if ours.unix_seconds() <= theirs.unix_seconds() => {
                Some(theirs)
            }
            (Some(ours), _) => Some(ours),
            (None, theirs) => theirs,
        };
        let end = match (after.and_then(stamp), user_end) {
            (Some(ours), Some(theirs)) if ours.unix_seconds() >= theirs.unix_seconds() => {
                Some(theirs)
            }
            (Some(ours), _) => Some(ours),
            (None, theirs) => theirs,
        };
        if let (Some(start), Some(end)) = (&start, &end)
            && start.unix_seconds() > end.unix_seconds()
        {
            // Entirely outside the listing's bounds: nothing to ask for.
            return None;
        }
        request.set_creation_bounds(start, end);
        Some(request)
    }

    // --- sending ---

    /// The next request, if one may go now.
    fn next_send(&mut self) -> Option<ListingStep<A>> {
        if self.in_flight >= self.workers {
            return None;
        }
        // The probe goes right after the first page's request.
        if self.far == Far::Unknown && self.stats.requests > 0 && !self.windows.is_empty() {
            let mut probe = self.template.clone();
            probe.set_order(match self.order {
                Order::Desc => Order::Asc,
                _ => Order::Desc,
            });
            probe.set_page_size(1);
            let id = self.issue();
            self.far = Far::Pending(id);
            self.stats.probes += 1;
            return Some(ListingStep::Send(FetchId(id), probe));
        }
        let cap = self.workers * self.window_pages as usize;
        let total_ahead: usize = self.windows.iter().skip(1).map(Window::pages_held).sum();
        let limit = self.paging.limit;
        let mut ahead = 0usize;
        let mut items_before = self.stats.items;
        let mut index = 0;
        while index < self.windows.len() {
            let (held, buffered_items, has_error) = {
                let window = &self.windows[index];
                (
                    window.pages_held(),
                    window.buffered_items,
                    window.error.is_some(),
                )
            };
            if has_error {
                // Nothing after a failed window is needed.
                return None;
            }
            if index > 0 && limit.is_some_and(|limit| items_before >= limit) {
                return None;
            }
            let idle = {
                let window = &self.windows[index];
                window.fetch.is_none() && !window.done
            };
            if idle {
                let may = index == 0 || (ahead < cap && total_ahead < 2 * cap);
                if !may {
                    return None;
                }
                if let Some(step) = self.send_for(index) {
                    return Some(step);
                }
                // The window turned out to have nothing to ask (finished,
                // empty, or stopped by a guard): look again from it.
                if self.windows[index].error.is_some() {
                    return None;
                }
                continue;
            }
            if index > 0 {
                ahead += held;
            }
            items_before += buffered_items;
            index += 1;
        }
        None
    }

    /// The next request of window `index`, or `None` after marking it done
    /// (or failed) when it has none.
    fn send_for(&mut self, index: usize) -> Option<ListingStep<A>> {
        if !self.sequential
            && let Some(max) = self.paging.max_pages
            && self.pages_requested >= max
        {
            let window = &mut self.windows[index];
            window.done = true;
            window.error = Some(Error::Paging(PagingError::MaxPages { pages: max }));
            return None;
        }
        if self.windows[index].paginator.is_none() {
            let (lo, hi) = (self.windows[index].lo, self.windows[index].hi);
            match self.window_request(lo, hi) {
                Some(request) => {
                    let paging = PagingOptions {
                        limit: None,
                        page_size: Some(self.page_size),
                        max_pages: None,
                        max_empty_pages: self.paging.max_empty_pages,
                    };
                    self.windows[index].paginator = Some(Paginator::with_options(request, paging));
                }
                None => {
                    self.windows[index].done = true;
                    return None;
                }
            }
        }
        let next = self.windows[index]
            .paginator
            .as_mut()
            .and_then(Paginator::next_request);
        match next {
            None => {
                self.windows[index].done = true;
                None
            }
            Some(Err(error)) => {
                let window = &mut self.windows[index];
                window.done = true;
                window.error = Some(error);
                None
            }
            Some(Ok(request)) => {
                let id = self.issue();
                self.pages_requested += 1;
                self.windows[index].fetch = Some(id);
                let ahead: usize = self.windows.iter().skip(1).map(Window::pages_held).sum();
                self.stats.peak_pages_ahead = self.stats.peak_pages_ahead.max(ahead);
                Some(ListingStep::Send(FetchId(id), request))
            }
        }
    }

    fn issue(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.in_flight += 1;
        self.stats.requests += 1;
        id
    }

    // --- receiving ---

    /// Window `index`'s page: keep what it owns, note where it stands,
    /// split it if it is dense.
    fn take_page(&mut self, index: usize, output: A::Output) {
        let (lo, hi) = (self.windows[index].lo, self.windows[index].hi);
        let Some(paginator) = self.windows[index].paginator.as_mut() else {
            return;
        };
        let items = paginator.on_page(output);
        let paginator_done = paginator.is_done();
        // A guard that stopped the listing shows at the next request.
        let guard_error = if paginator_done {
            match paginator.next_request() {
                Some(Err(error)) => Some(error),
                _ => None,
            }
        } else {
            None
        };
        let count = items.len();
        let mut kept = Vec::with_capacity(count);
        let mut span: Option<(i64, i64)> = None;
        let mut past_end = false;
        let mut dropped = 0u64;
        for item in items {
            let Some(key) = self.item_key(&item) else {
                if self.timeless.insert(A::item_id(&item).to_owned()) {
                    kept.push(item);
                } else {
                    dropped += 1;
                }
                continue;
            };
            if self.offset.is_none() {
                self.offset = A::item_time(&item).map(CiTimestamp::offset_seconds);
            }
            span = Some(span.map_or((key, key), |(first, _)| (first, key)));
            if lo.is_some_and(|lo| key < lo) {
                dropped += 1;
            } else if hi.is_some_and(|hi| key > hi) {
                past_end = true;
                dropped += 1;
            } else {
                kept.push(item);
            }
        }
        self.stats.dropped += dropped;
        let full = count >= self.page_size as usize;
        let window = &mut self.windows[index];
        window.fetch = None;
        window.last_page = match span {
            Some((first, last)) if full => Some(PageSpan {
                items: count,
                first,
                last,
            }),
            _ => None,
        };
        if past_end {
            // Everything it owns has been seen; a guard's complaint about
            // what comes after no longer matters.
            window.done = true;
        } else if paginator_done {
            window.done = true;
            window.error = guard_error;
        }
        if !kept.is_empty() {
            window.buffered_items += kept.len() as u64;
            window.buffer.push_back(kept);
        }
        if !window.done {
            self.adapt(index);
        }
    }

    /// Split window `index` if the rest of it is dense: it keeps about
    /// `window_pages` more pages' worth of time, the rest becomes windows of
    /// that size right after it.
    fn adapt(&mut self, index: usize) {
        if self.sequential {
            return;
        }
        let Some(window) = self.windows.get(index) else {
            return;
        };
        if window.done || window.paginator.is_none() {
            return;
        }
        let Some(page) = window.last_page else {
            return;
        };
        let end = match (window.hi, self.far) {
            (Some(hi), _) => hi,
            (None, Far::Known(Some(far))) => far,
            // The probe has not answered yet (adapt runs again when it
            // does), or found nothing.
            (None, _) => return,
        };
        let from = page.last;
        if end <= from {
            return;
        }
        let page_size = f64::from(self.page_size);
        let seconds_per_page = (page.last - page.first + 1) as f64 * page_size / page.items as f64;
        let remaining_pages = (end - from) as f64 / seconds_per_page;
        // Pieces of `window_pages`. Where the listing's far end is still
        // open (the last window), fewer pages (at least two, to keep the
        // partial last pages few) when that keeps every worker busy; a
        // planned window splits only when clearly denser than planned.
        let most = f64::from(self.window_pages);
        let (chunk_pages, threshold) = match window.hi {
            None => {
                let pages = (remaining_pages / self.workers as f64).clamp(most.min(2.0), most);
                (pages, pages * 1.5)
            }
            Some(_) => (most, most * 2.0),
        };
        if remaining_pages <= threshold {
            return;
        }
        let chunk = ((chunk_pages * seconds_per_page).round() as i64).max(1);
        let new_hi = from.saturating_add(chunk).min(end - 1);
        let max_pieces = 4 * self.workers;
        let mut pieces = Vec::new();
        let mut lo = new_hi + 1;
        while pieces.len() + 1 < max_pieces && lo.saturating_add(chunk) <= end {
            pieces.push(Window::new(Some(lo), Some(lo + chunk - 1)));
            lo += chunk;
        }
        pieces.push(Window::new(Some(lo), window.hi));
        self.stats.splits += 1;
        self.stats.windows += pieces.len() as u64;
        if let Some(window) = self.windows.get_mut(index) {
            window.hi = Some(new_hi);
            window.last_page = None;
        }
        for (offset, piece) in pieces.into_iter().enumerate() {
            self.windows.insert(index + 1 + offset, piece);
        }
    }

    // --- handing out ---

    /// The head window's next page, retiring finished head windows.
    fn next_items(&mut self) -> Option<ListingStep<A>> {
        loop {
            let head = self.windows.front_mut()?;
            if let Some(mut page) = head.buffer.pop_front() {
                head.buffered_items -= page.len() as u64;
                if let Some(limit) = self.paging.limit {
                    let room = limit.saturating_sub(self.stats.items);
                    page.truncate(usize::try_from(room).unwrap_or(usize::MAX));
                }
                self.stats.items += page.len() as u64;
                if self
                    .paging
                    .limit
                    .is_some_and(|limit| self.stats.items >= limit)
                {
                    self.finished = Some(Ok(()));
                    if !self.sequential {
                        self.windows.clear();
                    }
                }
                if page.is_empty() {
                    continue;
                }
                return Some(ListingStep::Items(page));
            }
            if head.fetch.is_some() || !head.done {
                return None;
            }
            if let Some(error) = head.error.take() {
                self.finished = Some(Ok(()));
                self.windows.clear();
                return Some(ListingStep::Done(Err(error)));
            }
            if self.sequential {
                // Keep the paginator for `resume_cursor`.
                if self.windows.len() == 1 {
                    self.finished = Some(Ok(()));
                    return None;
                }
            }
            self.windows.pop_front();
        }
    }
}
