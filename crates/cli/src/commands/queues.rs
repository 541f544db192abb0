//! `cos-ci queues list`: media-processing queues, by page number
//! (`GET /queue`).

use std::borrow::Cow;

use clap::Args;
use cos_ci_proto::{ListQueues, MediaQueue, QueueCategory, QueueStateFilter};

use crate::args::{OutputArgs, PageNumberArgs, ServiceArgs};
use crate::flags::{self, IdList, WireChoice};
use crate::output::{Column, Row, time_or_dash};
use crate::runner::{action_args, listing_args};

/// `cos-ci queues list`.
#[derive(Debug, Args)]
pub struct QueuesListArgs {
    #[command(flatten)]
    pub service: ServiceArgs,
    /// Only these queues (comma-separated QueueIds, at most 10); ids with
    /// no queue are reported on stderr.
    #[arg(long, value_name = "ID,ID", value_parser = flags::id_list)]
    pub queue_ids: Option<IdList>,
    /// Only queues in this state (any case).
    #[arg(long, value_name = "STATE", value_parser = WireChoice::<QueueStateFilter>::new())]
    pub state: Option<QueueStateFilter>,
    /// Only queues of this category (any case; the service's default is
    /// Transcoding).
    #[arg(long, value_name = "CATEGORY", value_parser = WireChoice::<QueueCategory>::new())]
    pub category: Option<QueueCategory>,
    #[command(flatten)]
    pub pages: PageNumberArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

action_args! {
    QueuesListArgs => ListQueues |args| {
        queue_ids: args.queue_ids.clone().map(|ids| ids.0) => "queueIds" as "--queue-ids",
        state => "state" as "--state",
        category => "category" as "--category",
        page_number: args.pages.page_number => "pageNumber" as "--page-number",
        page_size: args.pages.page_size => "pageSize" as "--page-size",
    }
}

listing_args!(QueuesListArgs => "queue" in "QueueList" by page_number, missing non_exist_pids);

fn number(value: Option<u32>) -> Cow<'static, str> {
    value.map_or(Cow::Borrowed("-"), |value| Cow::Owned(value.to_string()))
}

impl Row for MediaQueue {
    const COLUMNS: &'static [Column<Self>] = &[
        Column::new("QueueId", |queue| Cow::Borrowed(&queue.queue_id)),
        Column::new("State", |queue| Cow::Borrowed(queue.state.as_str())),
        Column::new("Category", |queue| {
            Cow::Borrowed(queue.category.as_deref().unwrap_or("-"))
        }),
        Column::new("MaxSize", |queue| number(queue.max_size)),
        Column::new("MaxConcurrent", |queue| number(queue.max_concurrent)),
        Column::new("UpdateTime", |queue| {
            Cow::Borrowed(time_or_dash(queue.update_time.as_ref()))
        }),
        Column::new("Name", |queue| {
            Cow::Borrowed(queue.name.as_deref().unwrap_or(""))
        }),
    ];
}
