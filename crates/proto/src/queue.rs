//! Media queues (`GET /queue`, `ci:DescribeMediaQueues`).

use crate::{CiTimestamp, XmlTree, ci_action, ci_response, open_enum, wire_enum, xml_record};

wire_enum! {
    /// The queues' `category` filter.
    pub enum QueueCategory for "category" {
        /// Every category.
        CateAll,
        /// Transcoding queues (the service's default).
        Transcoding,
        /// Speed-transcoding queues.
        SpeedTranscoding,
    }
}

open_enum! {
    /// Whether a queue takes new jobs.
    pub enum QueueState {
        Active,
        Paused,
    }
    /// The queues' `state` filter (`All`, both, is sent by the Python SDK
    /// but not documented).
    filter QueueStateFilter for "state"
}

xml_record! {
    /// One queue.
    pub struct MediaQueue {
        /// `QueueId` (`p…`).
        pub queue_id: String = "QueueId",
        pub name: Option<String> = "Name",
        pub state: QueueState = "State" [default],
        /// `NotifyConfig`, kept whole.
        pub notify_config: Option<XmlTree> = "NotifyConfig",
        pub max_size: Option<u32> = "MaxSize",
        pub max_concurrent: Option<u32> = "MaxConcurrent",
        pub category: Option<String> = "Category",
        pub create_time: Option<CiTimestamp> = "CreateTime",
        pub update_time: Option<CiTimestamp> = "UpdateTime",
        ..other
    }
}

ci_response! {
    /// One page of queues.
    pub struct ListQueuesOutput {
        /// `QueueList`, flat repeated.
        pub queues: Vec<MediaQueue> = "QueueList",
        /// `NonExistPIDs`: asked-for ids that do not exist.
        pub non_exist_pids: Vec<String> = "NonExistPIDs",
    }
    envelope = page_number
}

ci_action! {
    GET "/queue" as "DescribeMediaQueues" -> ListQueuesOutput {
        paging: page_number { items: queues: MediaQueue },
    }
    /// List media-processing queues, by page.
    pub struct ListQueues {
        /// `queueIds`: these queues only (sent comma-separated).
        pub queue_ids: Option<Vec<String>> = query "queueIds",
        pub state: Option<QueueStateFilter> = query "state",
        pub category: Option<QueueCategory> = query "category",
    }
}
