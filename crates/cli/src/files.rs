//! Request documents given as files (`workflows create --file`, `jobs
//! submit --file`): the `<Request>` XML the API takes, or JSON with the
//! same element names (optionally wrapped in `{"Request": …}`), told apart
//! by the first byte that is not white space. JSON is read by the protocol
//! crate's lenient reading ([`XmlDocument::from_json`]): numbers may be
//! numbers or strings, a list of one may be a plain object.

use std::io::Read;
use std::path::Path;

use cos_ci_proto::XmlDocument;

use crate::error::CliError;

/// Largest request file read: far beyond any real workflow or job.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Read `path` (`-`: standard input) as a `T` document; errors name
/// `flag` and the file.
pub fn read_document<T: XmlDocument>(path: &Path, flag: &'static str) -> Result<T, CliError> {
    let shown = path.display().to_string();
    let invalid = |message: String| CliError::invalid_flag(flag, format!("{shown}: {message}"));
    let mut bytes = Vec::new();
    let read = if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path)
            .and_then(|file| file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
    };
    read.map_err(|error| invalid(format!("cannot read it: {error}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(invalid(format!(
            "is larger than {} KiB",
            MAX_FILE_BYTES / 1024
        )));
    }
    parse_document(&bytes).map_err(invalid)
}

/// `bytes` as a `T` document, XML or JSON by the first byte.
pub fn parse_document<T: XmlDocument>(bytes: &[u8]) -> Result<T, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'<') => {
            T::from_xml(bytes).map_err(|error| format!("not a <{}> document: {error}", T::ROOT))
        }
        Some(b'{') => {
            T::from_json(bytes).map_err(|error| format!("not a {} document: {error}", T::ROOT))
        }
        Some(_) => Err(format!(
            "must be a <{}> XML document or a JSON object",
            T::ROOT
        )),
        None => Err("is empty".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cos_ci_proto::WorkflowRequest;

    #[test]
    fn xml_or_json_by_the_first_byte() {
        let xml = b"  <Request><MediaWorkflow><Name>w</Name><Topology><Dependencies><Start>End</Start></Dependencies></Topology></MediaWorkflow></Request>";
        let from_xml: WorkflowRequest = parse_document(xml).unwrap();
        let json =
            br#"{"MediaWorkflow": {"Name": "w", "Topology": {"Dependencies": {"Start": "End"}}}}"#;
        let from_json: WorkflowRequest = parse_document(json).unwrap();
        assert_eq!(from_xml, from_json);
        assert_eq!(
            parse_document::<WorkflowRequest>(b"name: w").unwrap_err(),
            "must be a <Request> XML document or a JSON object"
        );
        assert_eq!(
            parse_document::<WorkflowRequest>(b" \n").unwrap_err(),
            "is empty"
        );
        assert!(
            parse_document::<WorkflowRequest>(b"<Response/>")
                .unwrap_err()
                .starts_with("not a <Request> document")
        );
    }
}
