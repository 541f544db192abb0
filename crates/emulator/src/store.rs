//! The execution store: ordered indexes and stable, position-based paging.
//!
//! Every execution has a sort key `(create time in Unix seconds, run id)`,
//! unique because run ids are. Each filter dimension has a `BTreeMap` keyed
//! `(dimension value, time, run id)`: one for everything (a constant
//! value), one per workflow id, batch job id, object key and state. A page
//! picks the index with the fewest entries for the values asked for (for
//! several states, one range per state, merged), narrows each range to the
//! time bounds and to "after the position in the token", and walks it
//! checking the remaining filters. So a page costs O(log n + examined),
//! where `examined` is `size + 1` plus whatever the remaining filters
//! reject (see `docs/emulator.md` for the worst case).
//!
//! The machinery (an [`Index`] per dimension, [`walk_page`], [`Position`]
//! and [`NextToken`]) is generic over what is stored: the job store
//! (`jobs.rs`) pages jobs with it the same way. Runs started while serving
//! (`TriggerWorkflow`) have a state that follows the clock: they sit in the
//! state index under one marker value and their state is checked entry by
//! entry, at the instant the request is answered.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::iter::Peekable;
use std::ops::Bound;
use std::sync::Arc;
use std::time::SystemTime;

use cos_ci_proto::{CiTimestamp, ListWorkflowExecutions, Order, PageSize, StateFilter};

use crate::dataset::{Dataset, ExecutionRecord};
use crate::runs::LiveRun;
use crate::token::{NextToken, TokenError};

/// Where a listing stands: the sort key of the last item returned.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Create time, Unix seconds.
    pub time: i64,
    /// Run id (breaks ties between executions created in the same second);
    /// in a job listing, the job id.
    pub run_id: String,
}

impl Position {
    /// The position of `record`.
    pub fn of(record: &ExecutionRecord) -> Self {
        Position {
            time: record.create_time.unix_seconds(),
            run_id: record.run_id.clone(),
        }
    }
}

/// One page request against the store, already decoded and validated; the
/// default is every execution, newest first, 10 a page, as the service.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageQuery {
    /// Only this workflow.
    pub workflow_id: Option<String>,
    /// Only this exact object key.
    pub name: Option<String>,
    /// Only runs started by this batch job.
    pub job_id: Option<String>,
    /// Only these states; `None`, an empty set or a set containing
    /// [`StateFilter::All`] means every state.
    pub states: Option<BTreeSet<StateFilter>>,
    /// Created at or after (Unix seconds).
    pub start_time: Option<i64>,
    /// Created at or before (Unix seconds).
    pub end_time: Option<i64>,
    /// Oldest first or newest first.
    pub order: Order,
    /// Page size.
    pub size: PageSize,
    /// Continue after this position (strictly after in `order`).
    pub after: Option<Position>,
}

impl PageQuery {
    /// From a decoded request: defaults applied (`Desc`, size 10), the
    /// token decoded and checked against the order.
    pub fn from_request(request: &ListWorkflowExecutions) -> Result<Self, TokenError> {
        let order = request.order.unwrap_or_default();
        let after = NextToken::resume_after(request.next_token.as_deref(), order)?;
        Ok(PageQuery {
            workflow_id: request.workflow_id.clone(),
            name: request.name.clone(),
            job_id: request.job_id.clone(),
            states: request.states.clone(),
            start_time: unix_seconds(request.start_creation_time.as_ref()),
            end_time: unix_seconds(request.end_creation_time.as_ref()),
            order,
            size: request.size.unwrap_or_default(),
            after,
        })
    }

    /// Whether `record` passes every filter (not the position).
    pub fn matches(&self, record: &ExecutionRecord) -> bool {
        let time = record.create_time.unix_seconds();
        self.workflow_id
            .as_ref()
            .is_none_or(|id| *id == record.workflow_id)
            && self.name.as_ref().is_none_or(|name| *name == record.object)
            && self
                .job_id
                .as_ref()
                .is_none_or(|job| record.job_id.as_ref() == Some(job))
            && self.start_time.is_none_or(|start| time >= start)
            && self.end_time.is_none_or(|end| time <= end)
            && self.states.as_ref().is_none_or(|states| {
                states.is_empty() || states.iter().any(|filter| filter.admits(&record.state))
            })
    }

    /// The state names asked for (the `by_state` index's keys), or `None`
    /// for every state.
    fn state_names(&self) -> Option<Vec<&'static str>> {
        let states = self.states.as_ref()?;
        if states.is_empty() || states.contains(&StateFilter::All) {
            return None;
        }
        // A filter value is spelled as the state it admits.
        Some(states.iter().map(|state| state.as_str()).collect())
    }

    fn page_size(&self) -> usize {
        self.size.get() as usize
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The matching executions, in the query's order.
    pub records: Vec<ExecutionRecord>,
    /// Where the next page starts; `None` when nothing matches after this page.
    pub next: Option<Position>,
    /// Index entries looked at to build this page (the cost, for tests and
    /// benchmarks).
    pub examined: usize,
}

impl Page {
    /// The token for the next page, if there is one.
    pub fn next_token(&self, order: Order) -> Option<NextToken> {
        self.next
            .clone()
            .map(|position| NextToken { order, position })
    }
}

/// The key of every ordered index: a dimension value, then the sort key
/// `(time, id)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct IndexKey {
    value: Arc<str>,
    time: i64,
    id: Arc<str>,
}

/// One stored item with its sort key: `time` (Unix seconds) and a unique
/// `id` that breaks ties.
#[derive(Debug)]
pub(crate) struct Entry<T> {
    pub(crate) item: T,
    pub(crate) time: i64,
    pub(crate) id: Arc<str>,
}

impl<T> Entry<T> {
    pub(crate) fn new(item: T, time: i64, id: &str) -> Arc<Self> {
        Arc::new(Entry {
            item,
            time,
            id: Arc::from(id),
        })
    }

    fn position(&self) -> Position {
        Position {
            time: self.time,
            run_id: self.id.to_string(),
        }
    }
}

/// What bounds a walk: the time range (inclusive), the order, and the
/// position to continue strictly after.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds<'a> {
    pub(crate) start_time: Option<i64>,
    pub(crate) end_time: Option<i64>,
    pub(crate) order: Order,
    pub(crate) after: Option<&'a Position>,
}

/// One ordered index with a count per dimension value (the planner's
/// selectivity estimate, exact). Shared by every store that pages by
/// `(time, id)` with a `NextToken`: executions and jobs.
#[derive(Debug)]
pub(crate) struct Index<T> {
    entries: BTreeMap<IndexKey, Arc<Entry<T>>>,
    counts: HashMap<Arc<str>, usize>,
}

impl<T> Default for Index<T> {
    fn default() -> Self {
        Index {
            entries: BTreeMap::new(),
            counts: HashMap::new(),
        }
    }
}

impl<T> Index<T> {
    pub(crate) fn insert(&mut self, value: &str, entry: &Arc<Entry<T>>) {
        let value = match self.counts.get_key_value(value) {
            Some((interned, _)) => Arc::clone(interned),
            None => Arc::from(value),
        };
        *self.counts.entry(Arc::clone(&value)).or_insert(0) += 1;
        let key = IndexKey {
            value,
            time: entry.time,
            id: Arc::clone(&entry.id),
        };
        self.entries.insert(key, Arc::clone(entry));
    }

    pub(crate) fn remove(&mut self, value: &str, entry: &Entry<T>) {
        let Some((interned, count)) = self.counts.get_key_value(value) else {
            return;
        };
        let interned = Arc::clone(interned);
        let remaining = count.saturating_sub(1);
        let key = IndexKey {
            value: Arc::clone(&interned),
            time: entry.time,
            id: Arc::clone(&entry.id),
        };
        self.entries.remove(&key);
        if remaining == 0 {
            self.counts.remove(&interned);
        } else {
            self.counts.insert(interned, remaining);
        }
    }

    pub(crate) fn count(&self, value: &str) -> usize {
        self.counts.get(value).copied().unwrap_or(0)
    }

    /// The entries for `value` within `bounds`' time range, strictly after
    /// its position, walking in its order.
    pub(crate) fn walk<'a>(
        &'a self,
        value: &str,
        bounds: Bounds<'_>,
    ) -> Option<Box<dyn Iterator<Item = &'a Arc<Entry<T>>> + 'a>> {
        let (value, _) = self.counts.get_key_value(value)?;
        let key = |time: i64, id: &str| IndexKey {
            value: Arc::clone(value),
            time,
            id: Arc::from(id),
        };
        // The empty id sorts before every other, so (t, "") is the first
        // key at time t. Times come from CiTimestamp (years 0000..=9999), far
        // from the i64 ends that the open bounds use.
        let first = key(bounds.start_time.unwrap_or(i64::MIN), "");
        let past_end = key(
            bounds
                .end_time
                .map_or(i64::MAX, |end| end.saturating_add(1)),
            "",
        );
        let cursor = bounds
            .after
            .map(|position| key(position.time, &position.run_id));
        let (lower, upper) = match (bounds.order, cursor) {
            (Order::Asc, Some(cursor)) if cursor >= first => (Bound::Excluded(cursor), past_end),
            (Order::Desc, Some(cursor)) if cursor < past_end => (Bound::Included(first), cursor),
            _ => (Bound::Included(first), past_end),
        };
        // BTreeMap::range panics on an inverted range; an empty one is fine.
        let lower_key = match &lower {
            Bound::Included(key) | Bound::Excluded(key) => key,
            Bound::Unbounded => return None,
        };
        if *lower_key >= upper {
            return None;
        }
        let range = self
            .entries
            .range((lower, Bound::Excluded(upper)))
            .map(|(_, entry)| entry);
        Some(match bounds.order {
            Order::Asc => Box::new(range),
            Order::Desc => Box::new(range.rev()),
        })
    }
}

/// A creation-time bound of a request, as the indexes key it.
pub(crate) fn unix_seconds(time: Option<&CiTimestamp>) -> Option<i64> {
    time.map(CiTimestamp::unix_seconds)
}

/// One page walked from several index ranges (merged in order): the items
/// `keep` accepts, at most `size`, and the position to continue from when
/// one more match exists. The third value is how many entries were looked
/// at.
pub(crate) fn walk_page<'a, T: 'a, R>(
    walks: Vec<Box<dyn Iterator<Item = &'a Arc<Entry<T>>> + 'a>>,
    order: Order,
    size: usize,
    mut keep: impl FnMut(&'a Entry<T>) -> Option<R>,
) -> (Vec<R>, Option<Position>, usize) {
    let mut walks: Vec<Peekable<_>> = walks.into_iter().map(Iterator::peekable).collect();
    let mut items = Vec::with_capacity(size.min(128));
    let mut last: Option<&Entry<T>> = None;
    let mut examined = 0;
    while let Some(entry) = next_merged(&mut walks, order) {
        examined += 1;
        let Some(item) = keep(entry) else {
            continue;
        };
        if items.len() == size {
            // One more match exists: the page is full and not the last.
            return (items, last.map(Entry::position), examined);
        }
        items.push(item);
        last = Some(entry);
    }
    (items, None, examined)
}

/// The state-index value of executions whose state is derived from the
/// clock (runs started with `TriggerWorkflow`): their state is checked
/// entry by entry.
const LIVE: &str = "\u{0}live";

/// All executions of one bucket, indexed for paging. Not synchronised: the
/// server wraps it in a lock.
#[derive(Debug, Default)]
pub struct ExecutionStore {
    by_run_id: HashMap<String, Arc<Entry<ExecutionRecord>>>,
    /// Every execution, under the one value [`ALL`].
    all: Index<ExecutionRecord>,
    by_workflow: Index<ExecutionRecord>,
    /// The runs a batch job started, by its id.
    by_job: Index<ExecutionRecord>,
    by_object: Index<ExecutionRecord>,
    /// By state name; runs that follow the clock under [`LIVE`].
    by_state: Index<ExecutionRecord>,
    /// Runs whose state follows the clock, by run id.
    live: HashMap<String, Arc<LiveRun>>,
}

/// The constant dimension value of the all-executions index.
const ALL: &str = "";

impl ExecutionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding `dataset`.
    pub fn from_dataset(dataset: Dataset) -> Self {
        let mut records = dataset.into_records();
        records.sort_unstable_by(|a, b| {
            (a.create_time.unix_seconds(), &a.run_id)
                .cmp(&(b.create_time.unix_seconds(), &b.run_id))
        });
        // Fresh copies, allocated in sort order while the originals are all
        // still alive (so freed slots are not reused out of order): a page
        // then reads neighbouring memory, which keeps a page over a million
        // executions as cheap as over ten thousand.
        let in_order: Vec<ExecutionRecord> = records.iter().map(Clone::clone).collect();
        drop(records);
        let mut store = Self::new();
        for record in in_order {
            store.insert(record);
        }
        store
    }

    /// How many executions.
    pub fn len(&self) -> usize {
        self.by_run_id.len()
    }

    /// No executions at all.
    pub fn is_empty(&self) -> bool {
        self.by_run_id.is_empty()
    }

    /// Add an execution; one with the same run id is replaced and returned.
    pub fn insert(&mut self, record: ExecutionRecord) -> Option<ExecutionRecord> {
        self.insert_entry(record, None)
    }

    /// Add a run whose state follows the clock (`record`'s own state is
    /// not used).
    pub(crate) fn insert_live(&mut self, record: ExecutionRecord, run: Arc<LiveRun>) {
        self.insert_entry(record, Some(run));
    }

    fn insert_entry(
        &mut self,
        record: ExecutionRecord,
        live: Option<Arc<LiveRun>>,
    ) -> Option<ExecutionRecord> {
        let replaced = self.remove(&record.run_id);
        let is_live = live.is_some();
        if let Some(run) = live {
            self.live.insert(record.run_id.clone(), run);
        }
        let entry = Arc::new(Entry {
            time: record.create_time.unix_seconds(),
            id: Arc::from(record.run_id.as_str()),
            item: record,
        });
        for (index, value) in self.indexes_mut(&entry.item, is_live) {
            if let Some(value) = value {
                index.insert(value, &entry);
            }
        }
        self.by_run_id
            .insert(entry.item.run_id.clone(), Arc::clone(&entry));
        replaced
    }

    /// Remove the execution with this run id.
    pub fn remove(&mut self, run_id: &str) -> Option<ExecutionRecord> {
        let entry = self.by_run_id.remove(run_id)?;
        let is_live = self.live.remove(run_id).is_some();
        for (index, value) in self.indexes_mut(&entry.item, is_live) {
            if let Some(value) = value {
                index.remove(value, &entry);
            }
        }
        Some(entry.item.clone())
    }

    /// The execution with this run id, as stored (a run started while
    /// serving has its state as of now: see [`ExecutionStore::get_at`]).
    pub fn get(&self, run_id: &str) -> Option<&ExecutionRecord> {
        self.by_run_id.get(run_id).map(|entry| &entry.item)
    }

    /// The execution with this run id as it stands at `now`.
    pub fn get_at(&self, run_id: &str, now: SystemTime) -> Option<ExecutionRecord> {
        let entry = self.by_run_id.get(run_id)?;
        Some(self.at(&entry.item, now).into_owned())
    }

    /// The clock-driven run with this run id, if it is one.
    pub(crate) fn live(&self, run_id: &str) -> Option<&Arc<LiveRun>> {
        self.live.get(run_id)
    }

    /// `record` as it stands at `now`: its state derived from the clock
    /// when it is a run started while serving.
    fn at<'r>(&self, record: &'r ExecutionRecord, now: SystemTime) -> Cow<'r, ExecutionRecord> {
        if self.live.is_empty() {
            return Cow::Borrowed(record);
        }
        match self.live.get(&record.run_id) {
            Some(run) => {
                let mut record = record.clone();
                record.state = run.state_at(now);
                Cow::Owned(record)
            }
            None => Cow::Borrowed(record),
        }
    }

    /// Every index, with the value `record` is under in it (`None`: not in
    /// that index).
    fn indexes_mut<'r>(
        &mut self,
        record: &'r ExecutionRecord,
        live: bool,
    ) -> [(&mut Index<ExecutionRecord>, Option<&'r str>); 5] {
        [
            (&mut self.all, Some(ALL)),
            (&mut self.by_workflow, Some(&record.workflow_id)),
            (&mut self.by_job, record.job_id.as_deref()),
            (&mut self.by_object, Some(&record.object)),
            (
                &mut self.by_state,
                Some(if live { LIVE } else { record.state.as_str() }),
            ),
        ]
    }

    /// Choose the index and values to walk: the fewest entries wins. `None`
    /// when some equality filter names a value no execution has.
    fn plan<'q>(&self, query: &'q PageQuery) -> Option<(&Index<ExecutionRecord>, Vec<&'q str>)> {
        let mut best = (self.len(), &self.all, vec![ALL]);
        let single = [
            (&self.by_workflow, query.workflow_id.as_deref()),
            (&self.by_job, query.job_id.as_deref()),
            (&self.by_object, query.name.as_deref()),
        ];
        for (index, value) in single {
            if let Some(value) = value {
                let count = index.count(value);
                if count == 0 {
                    return None;
                }
                if count < best.0 {
                    best = (count, index, vec![value]);
                }
            }
        }
        if let Some(names) = query.state_names() {
            let index = &self.by_state;
            // Runs that follow the clock may be in any state: walk them too.
            let present: Vec<&str> = names
                .into_iter()
                .chain(std::iter::once(LIVE))
                .filter(|name| index.count(name) > 0)
                .collect();
            let count: usize = present.iter().map(|name| index.count(name)).sum();
            if count == 0 {
                return None;
            }
            if count < best.0 {
                best = (count, index, present);
            }
        }
        Some((best.1, best.2))
    }

    /// One page for `query`, as the executions stand now.
    pub fn page(&self, query: &PageQuery) -> Page {
        self.page_at(query, SystemTime::now())
    }

    /// One page for `query`, as the executions stand at `now` (the state
    /// of a run started while serving follows the clock).
    pub fn page_at(&self, query: &PageQuery, now: SystemTime) -> Page {
        let size = query.page_size();
        let Some((index, values)) = self.plan(query) else {
            return Page {
                records: Vec::new(),
                next: None,
                examined: 0,
            };
        };
        let bounds = Bounds {
            start_time: query.start_time,
            end_time: query.end_time,
            order: query.order,
            after: query.after.as_ref(),
        };
        let walks = values
            .iter()
            .filter_map(|value| index.walk(value, bounds))
            .collect();
        let (records, next, examined) = walk_page(walks, query.order, size, |entry| {
            let record = self.at(&entry.item, now);
            query.matches(&record).then(|| record.into_owned())
        });
        Page {
            records,
            next,
            examined,
        }
    }
}

/// The next entry across several walks of the same order (a k-way merge;
/// k is at most the number of states).
fn next_merged<'a, T: 'a, I>(walks: &mut [Peekable<I>], order: Order) -> Option<&'a Arc<Entry<T>>>
where
    I: Iterator<Item = &'a Arc<Entry<T>>>,
{
    let mut best: Option<(usize, (i64, &str))> = None;
    for (slot, walk) in walks.iter_mut().enumerate() {
        let Some(&entry) = walk.peek() else { continue };
        let key = (entry.time, &*entry.id);
        let better = match (&best, order) {
            (None, _) => true,
            (Some((_, current)), Order::Asc) => key < *current,
            (Some((_, current)), Order::Desc) => key > *current,
        };
        if better {
            best = Some((slot, key));
        }
    }
    let (slot, _) = best?;
    walks.get_mut(slot)?.next()
}

#[cfg(test)]
mod tests;
