//! Media-processing queues (`GET /queue`): the bucket's default
//! transcoding queue, plus any given at start (`--queues`). Queues do not
//! change while serving (the API to update one is not emulated); a paused
//! one refuses jobs with `403 QueuePaused`.

use cos_ci_proto::{
    Cursor, ListQueues, ListQueuesOutput, MediaQueue, PageSize, PaginatedAction, QueueCategory,
    QueueState, XmlNode, XmlTree,
};

use crate::callbacks::Target;
use crate::dataset::{DatasetError, read_ndjson};
use crate::details::hex_id;
use crate::routes::{Answer, Served, invalid_argument};
use crate::topology::{child_text, lists_event, notify_config};

/// The most ids one `queueIds` takes (CI's live page: "at most 10").
const MAX_QUEUE_IDS: usize = 10;

/// The queues of the bucket: the default first, then the others in the
/// order given.
#[derive(Debug)]
pub(crate) struct QueueStore {
    queues: Vec<StoredQueue>,
}

/// A queue as served, with what its `NotifyConfig` does, worked out once
/// when the store is made.
#[derive(Debug)]
pub(crate) struct StoredQueue {
    pub(crate) queue: MediaQueue,
    pub(crate) notify: QueueNotify,
}

/// The id of the bucket's default queue: `p` + 32 hex digits derived from
/// the bucket and region, the same id the derived topologies' `Start`
/// names (`details.rs`).
pub(crate) fn default_queue_id(bucket: &str, region: &str) -> String {
    hex_id('p', &format!("{bucket}/{region}"))
}

fn leaf(name: &str, text: &str) -> XmlNode {
    XmlNode {
        name: name.to_owned(),
        content: XmlTree::Text(text.to_owned()),
    }
}

/// The default transcoding queue of `bucket`.
fn default_queue(bucket: &str, region: &str) -> MediaQueue {
    let created = cos_ci_proto::CiTimestamp::parse("2026-01-01T00:00:00+0800").ok();
    MediaQueue {
        queue_id: default_queue_id(bucket, region),
        name: Some("default".to_owned()),
        state: QueueState::Active,
        notify_config: Some(XmlTree::Elements(vec![
            leaf("Url", ""),
            leaf("Event", "TaskFinish,WorkflowFinish"),
            leaf("Type", "Url"),
            leaf("State", "Off"),
            leaf("ResultFormat", "XML"),
        ])),
        max_size: Some(10_000),
        max_concurrent: Some(10),
        category: Some("Transcoding".to_owned()),
        create_time: created.clone(),
        update_time: created,
        ..MediaQueue::default()
    }
}

impl QueueStore {
    /// The default queue of `bucket` and `extra` (one with the default's
    /// id replaces it).
    pub(crate) fn new(bucket: &str, region: &str, extra: Vec<MediaQueue>) -> Self {
        let default = default_queue(bucket, region);
        let mut queues = Vec::with_capacity(extra.len() + 1);
        if !extra.iter().any(|queue| queue.queue_id == default.queue_id) {
            queues.push(default);
        }
        queues.extend(extra);
        // Queues given in `EmulatorConfig::queues` are not checked when
        // loaded (`--queues` files are), so a bad `NotifyConfig` is kept
        // as a reason to log, not an error.
        let queues = queues
            .into_iter()
            .map(|queue| {
                let notify = queue_notify(&queue).unwrap_or_else(|reason| {
                    QueueNotify::NotSent(format!("queue {}'s {reason}", queue.queue_id))
                });
                StoredQueue { queue, notify }
            })
            .collect();
        QueueStore { queues }
    }

    /// The queue with this id.
    pub(crate) fn get(&self, queue_id: &str) -> Option<&StoredQueue> {
        self.queues
            .iter()
            .find(|stored| stored.queue.queue_id == queue_id)
    }

    /// The queue jobs go to when they name none: the default one (or, if
    /// it was replaced, the first).
    pub(crate) fn default_queue(&self) -> &StoredQueue {
        // Never empty: `new` keeps the default or one given in its place.
        &self.queues[0]
    }
}

/// What a queue's `NotifyConfig` does when a job submitted into it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum QueueNotify {
    /// Nothing: no `NotifyConfig`, `State` not `On`, no `Url`, or an
    /// `Event` that does not list `TaskFinish`.
    Silent,
    /// CI would notify somewhere the emulator cannot (a `Type` other than
    /// `Url`, such as `TDMQ`): nothing is sent, and the reason is logged.
    NotSent(String),
    /// POST `TaskFinish` here.
    Url(Target),
}

/// What `queue`'s `NotifyConfig` does for a job's `TaskFinish`; an error
/// for one that would call a URL the emulator will not call (or has an
/// unknown `ResultFormat`).
fn queue_notify(queue: &MediaQueue) -> Result<QueueNotify, String> {
    let Some(config) = &queue.notify_config else {
        return Ok(QueueNotify::Silent);
    };
    if child_text(config, "State").as_deref() != Some("On") || !lists_event(config, "TaskFinish") {
        return Ok(QueueNotify::Silent);
    }
    match child_text(config, "Type") {
        None => {}
        Some(kind) if kind.eq_ignore_ascii_case("Url") => {}
        Some(kind) => {
            return Ok(QueueNotify::NotSent(format!(
                "queue {}'s `NotifyConfig.Type` is {}: the emulator delivers only to URLs",
                queue.queue_id,
                cos_ci_proto::query::excerpt(&kind, 40)
            )));
        }
    }
    Ok(match notify_config(config)? {
        Some(notify) => QueueNotify::Url(notify.target),
        None => QueueNotify::Silent,
    })
}

/// A queue's category; unset counts as `Transcoding`.
fn category(queue: &MediaQueue) -> &str {
    queue.category.as_deref().unwrap_or("Transcoding")
}

/// `GET /queue`: queues by page, filtered by ids, state and category
/// (`Transcoding` unless asked otherwise); asked-for ids that do not exist
/// are in `NonExistPIDs`.
pub(crate) fn list(served: Served<'_, ListQueues>) -> Answer<ListQueues> {
    let ids = served.request.queue_ids.as_deref();
    if ids.is_some_and(|ids| ids.len() > MAX_QUEUE_IDS) {
        return Err(invalid_argument(format!(
            "invalid parameter `queueIds`: at most {MAX_QUEUE_IDS} ids"
        )));
    }
    let queues = served
        .resources
        .queues
        .queues
        .iter()
        .map(|stored| &stored.queue);
    let category_wanted = served
        .request
        .category
        .unwrap_or(QueueCategory::Transcoding);
    let matching: Vec<&MediaQueue> = queues
        .filter(|queue| ids.is_none_or(|ids| ids.contains(&queue.queue_id)))
        .filter(|queue| {
            served
                .request
                .state
                .is_none_or(|filter| filter.admits(&queue.state))
        })
        .filter(|queue| {
            category_wanted == QueueCategory::CateAll || category(queue) == category_wanted.as_str()
        })
        .collect();
    let page = NumberedPage::of(&served.request, &matching, ids, |id| {
        served.resources.queues.get(id).is_some()
    });
    Ok(ListQueuesOutput {
        request_id: None,
        total_count: Some(page.total),
        page_number: Some(page.number),
        page_size: Some(page.size),
        queues: page.items.into_iter().cloned().collect(),
        non_exist_pids: page.missing,
    })
}

/// One page of a listing by page number (queues, workflows): what is
/// answered besides the items' own fields.
pub(crate) struct NumberedPage<T> {
    /// From 1.
    pub(crate) number: u32,
    pub(crate) size: u32,
    /// How many matched, on every page.
    pub(crate) total: u64,
    pub(crate) items: Vec<T>,
    /// Ids asked for that do not exist, each once, in the order asked.
    pub(crate) missing: Vec<String>,
}

impl<T: Clone> NumberedPage<T> {
    /// The page of `matching` that `request` asks for (its declared
    /// `pageNumber` and `pageSize`); `exists` tells which of the ids
    /// `asked` for are known.
    pub(crate) fn of<A: PaginatedAction>(
        request: &A,
        matching: &[T],
        asked: Option<&[String]>,
        exists: impl Fn(&str) -> bool,
    ) -> Self {
        let page_number = match request.cursor() {
            Some(Cursor::Page(number)) => Some(number),
            _ => None,
        };
        let mut missing: Vec<String> = Vec::new();
        for id in asked.into_iter().flatten() {
            if !exists(id) && !missing.contains(id) {
                missing.push(id.clone());
            }
        }
        let (number, size, items) = page_of(matching, page_number, request.page_size());
        NumberedPage {
            number,
            size,
            total: matching.len() as u64,
            items,
            missing,
        }
    }
}

/// Page `page_number` (from 1, default 1) of `size` (default 10) items.
fn page_of<T: Clone>(
    items: &[T],
    page_number: Option<u32>,
    size: Option<u32>,
) -> (u32, u32, Vec<T>) {
    let page_number = page_number.unwrap_or(1).max(1);
    let size = size.unwrap_or(PageSize::DEFAULT);
    let skip = (page_number as usize - 1).saturating_mul(size as usize);
    let page = items
        .iter()
        .skip(skip)
        .take(size as usize)
        .cloned()
        .collect();
    (page_number, size, page)
}

/// Read `--queues` NDJSON: one queue per line with the API's element names
/// (`QueueId`, `Name`, `State`, `Category`, `NotifyConfig`, `MaxSize`,
/// `MaxConcurrent`, `CreateTime`, `UpdateTime`), blank lines ignored. A
/// `NotifyConfig` that notifies (`State` `On`, `Type` `Url`, `TaskFinish`
/// listed) must have a local `Url` and `ResultFormat` `XML` or `JSON`.
pub fn queues_from_ndjson(text: &str) -> Result<Vec<MediaQueue>, DatasetError> {
    read_ndjson(text, |queue: &mut MediaQueue, before| {
        if queue.queue_id.is_empty() {
            return Err("`QueueId` is missing or empty".to_owned());
        }
        if !matches!(queue.state, QueueState::Active | QueueState::Paused) {
            return Err(format!(
                "`State` must be Active or Paused, not `{}`",
                queue.state
            ));
        }
        queue_notify(queue)?;
        if before.iter().any(|other| other.queue_id == queue.queue_id) {
            return Err(format!(
                "queue id `{}` appears more than once",
                queue.queue_id
            ));
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callbacks::Format;

    #[test]
    fn the_default_queue_is_first_and_can_be_replaced() {
        let store = QueueStore::new("b-1250000000", "ap-beijing", Vec::new());
        let default = store.default_queue().queue.clone();
        assert!(default.queue_id.starts_with('p') && default.queue_id.len() == 33);
        assert_eq!(
            default.queue_id,
            default_queue_id("b-1250000000", "ap-beijing")
        );
        let paused = MediaQueue {
            state: QueueState::Paused,
            ..default.clone()
        };
        let store = QueueStore::new("b-1250000000", "ap-beijing", vec![paused]);
        assert_eq!(store.default_queue().queue.state, QueueState::Paused);
        assert_eq!(store.queues.len(), 1);
    }

    #[test]
    fn ndjson_lines_name_their_errors() {
        let good =
            r#"{"QueueId":"p1","Name":"fast","State":"Paused","Category":"SpeedTranscoding"}"#;
        let queues = queues_from_ndjson(&format!("{good}\n\n")).unwrap();
        assert_eq!(queues[0].state, QueueState::Paused);
        for (text, needle) in [
            (format!("{good}\n{good}"), "line 2: queue id `p1`"),
            (r#"{"Name":"x"}"#.to_owned(), "QueueId"),
            (r#"{"QueueId":"p2","State":"Gone"}"#.to_owned(), "State"),
            (
                r#"{"QueueId":"p3","State":"Active","NotifyConfig":{"Url":"http://example.com/","Event":"TaskFinish","State":"On"}}"#.to_owned(),
                "NotifyConfig.Url",
            ),
            (
                r#"{"QueueId":"p4","State":"Active","NotifyConfig":{"Url":"http://127.0.0.1:9/","Event":"TaskFinish","State":"On","ResultFormat":"YAML"}}"#.to_owned(),
                "ResultFormat",
            ),
            ("nope".to_owned(), "line 1"),
        ] {
            let error = queues_from_ndjson(&text).unwrap_err().to_string();
            assert!(error.contains(needle), "{needle}: {error}");
        }
    }

    #[test]
    fn a_queue_notifies_only_when_on_for_task_finish_by_url() {
        let notify = |config: &str| {
            let queue = queues_from_ndjson(&format!(
                r#"{{"QueueId":"p1","State":"Active","NotifyConfig":{{"Url":"http://127.0.0.1:9/cb",{config}}}}}"#
            ))
            .unwrap()
            .remove(0);
            queue_notify(&queue).unwrap()
        };
        let QueueNotify::Url(target) = notify(
            r#""Event":"WorkflowFinish, TaskFinish","Type":"Url","State":"On","ResultFormat":"JSON""#,
        ) else {
            panic!("a URL to call");
        };
        assert_eq!(
            (target.url.text.as_str(), target.format),
            ("http://127.0.0.1:9/cb", Format::Json)
        );
        assert!(matches!(
            notify(r#""Event":"TaskFinish","State":"On""#),
            QueueNotify::Url(Target {
                format: Format::Xml,
                ..
            })
        ));
        for silent in [
            r#""Event":"TaskFinish","State":"Off""#,
            r#""Event":"TaskFinish""#,
            r#""Event":"WorkflowFinish","State":"On""#,
            r#""State":"On""#,
        ] {
            assert_eq!(notify(silent), QueueNotify::Silent, "{silent}");
        }
        let QueueNotify::NotSent(why) =
            notify(r#""Event":"TaskFinish","State":"On","Type":"TDMQ""#)
        else {
            panic!("TDMQ is not sent");
        };
        assert!(why.contains("p1") && why.contains("TDMQ"), "{why}");
        let default = QueueStore::new("b-1250000000", "ap-beijing", Vec::new());
        assert_eq!(default.default_queue().notify, QueueNotify::Silent);
    }

    #[test]
    fn pages_by_number() {
        let items: Vec<u32> = (0..25).collect();
        let size = Some(10);
        assert_eq!(page_of(&items, None, size).2.len(), 10);
        assert_eq!(
            page_of(&items, Some(3), size).2,
            (20..25).collect::<Vec<_>>()
        );
        assert!(page_of(&items, Some(4), size).2.is_empty());
        assert_eq!(page_of(&items, Some(2), None).0, 2);
    }
}
