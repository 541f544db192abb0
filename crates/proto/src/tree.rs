//! A generic, ordered XML subtree for elements whose child names are data
//! (`Topology`: `<Nodes><Start>…</Start><Transcode_1>…</Transcode_1></Nodes>`),
//! and for parts of a document cos-ci keeps without modelling them.

use std::fmt;

use crate::schema::{XmlElement, XmlField, XmlSlot};
use crate::xml::{Element, XmlError, XmlReader};

/// The content of one element: text, or child elements in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlTree {
    /// A leaf's unescaped text (`""` for an empty element).
    Text(String),
    /// Child elements, in order (repeated names kept as repeated nodes).
    Elements(Vec<XmlNode>),
}

/// One named element of an [`XmlTree`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlNode {
    /// The element's local name.
    pub name: String,
    /// What it holds.
    pub content: XmlTree,
}

impl Default for XmlTree {
    fn default() -> Self {
        XmlTree::Elements(Vec::new())
    }
}

impl XmlTree {
    /// The child elements (none for text).
    pub fn children(&self) -> &[XmlNode] {
        match self {
            XmlTree::Elements(children) => children,
            XmlTree::Text(_) => &[],
        }
    }
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&XmlTree> {
        self.children()
            .iter()
            .find(|node| node.name == name)
            .map(|node| &node.content)
    }
    /// The text of a leaf (`None` for an element with children).
    pub fn text(&self) -> Option<&str> {
        match self {
            XmlTree::Text(text) => Some(text),
            XmlTree::Elements(_) => None,
        }
    }
    /// Append this content's XML (children one per line; text escaped).
    pub fn write_content(&self, out: &mut String) {
        match self {
            XmlTree::Text(text) => crate::xml::escape_text_into(out, text),
            XmlTree::Elements(children) => {
                out.push('\n');
                for node in children {
                    node.content.write_element(&node.name, out);
                }
            }
        }
    }
}

impl XmlElement for XmlTree {
    fn read_element<'a>(
        reader: &mut XmlReader<'a>,
        element: Element<'a>,
    ) -> Result<Option<Self>, XmlError> {
        reader.read_tree(element).map(Some)
    }
    fn write_element(&self, name: &str, out: &mut String) {
        out.push('<');
        out.push_str(name);
        out.push('>');
        self.write_content(out);
        out.push_str("</");
        out.push_str(name);
        out.push_str(">\n");
    }
}

/// A JSON document as the XML document `<root>…</root>` it stands for
/// (the lenient reading behind [`crate::XmlDocument::from_json`]): read
/// into an [`XmlTree`] (scalars become text, arrays repeated elements),
/// unwrapped if it is `{"<root>": {…}}`, then written as XML. Every key
/// must be an XML name (ASCII letters, digits, `_`, `-`, `.`; not starting
/// with a digit, `-` or `.`), so that no key can change the document's
/// structure.
pub fn json_to_xml(body: &[u8], root: &str) -> Result<String, XmlError> {
    let tree: XmlTree = serde_json::from_slice(body)
        .map_err(|error| XmlError::new(format!("unreadable JSON: {error}")))?;
    let tree = match tree {
        XmlTree::Elements(mut nodes) => {
            let wrapped = matches!(nodes.as_slice(), [only] if only.name == root
                && matches!(only.content, XmlTree::Elements(_)));
            if wrapped {
                nodes.swap_remove(0).content
            } else {
                XmlTree::Elements(nodes)
            }
        }
        XmlTree::Text(_) => {
            return Err(XmlError::new(
                "unreadable JSON: expected an object at the top level",
            ));
        }
    };
    check_names(&tree)?;
    let mut xml = String::with_capacity(1024);
    tree.write_element(root, &mut xml);
    Ok(xml)
}

fn check_names(tree: &XmlTree) -> Result<(), XmlError> {
    for node in tree.children() {
        let name = node.name.as_bytes();
        let valid = name
            .first()
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
            && name
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !valid {
            return Err(XmlError::new(format!(
                "`{}` is not a valid element name",
                crate::query::excerpt(&node.name, 40)
            )));
        }
        check_names(&node.content)?;
    }
    Ok(())
}

/// JSON: text is a string; elements are an object in document order, a
/// repeated name becoming an array at its first position (the shape CI's
/// JSON callbacks use).
impl serde::Serialize for XmlTree {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            XmlTree::Text(text) => serializer.serialize_str(text),
            XmlTree::Elements(children) => serialize_nodes(children, serializer),
        }
    }
}

fn serialize_nodes<S: serde::Serializer>(
    children: &[XmlNode],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut names: Vec<&str> = Vec::new();
    for node in children {
        if !names.contains(&node.name.as_str()) {
            names.push(&node.name);
        }
    }
    let mut map = serializer.serialize_map(Some(names.len()))?;
    for name in names {
        let same: Vec<&XmlTree> = children
            .iter()
            .filter(|node| node.name == name)
            .map(|node| &node.content)
            .collect();
        match same.as_slice() {
            [one] => map.serialize_entry(name, one)?,
            many => map.serialize_entry(name, many)?,
        }
    }
    map.end()
}

/// The elements of a record that no declared field names, kept in
/// document order and written back after the declared ones. Declare it
/// with a last line `..other` in an [`xml_record!`](crate::xml_record): in
/// JSON its elements sit beside the declared ones.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UnknownElements(pub Vec<XmlNode>);

impl UnknownElements {
    /// The first kept element named `name`.
    pub fn get(&self, name: &str) -> Option<&XmlTree> {
        self.0
            .iter()
            .find(|node| node.name == name)
            .map(|node| &node.content)
    }
}

/// The slot of the `"*"` field: every element no other field names, kept
/// with its name.
impl XmlSlot for Vec<XmlNode> {
    fn accept<'a>(
        &mut self,
        reader: &mut XmlReader<'a>,
        element: Element<'a>,
    ) -> Result<(), XmlError> {
        self.push(XmlNode {
            name: element.display_name(),
            content: reader.read_tree(element)?,
        });
        Ok(())
    }
}

impl XmlField for UnknownElements {
    type Slot = Vec<XmlNode>;
    fn take(slot: Vec<XmlNode>, _: Vec<XmlNode>) -> Option<Self> {
        Some(UnknownElements(slot))
    }
    fn write_field(&self, _: &str, out: &mut String) {
        for node in &self.0 {
            node.content.write_element(&node.name, out);
        }
    }
}

impl serde::Serialize for UnknownElements {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_nodes(&self.0, serializer)
    }
}

impl<'de> serde::Deserialize<'de> for UnknownElements {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match deserializer.deserialize_map(TreeVisitor)? {
            XmlTree::Elements(nodes) => Ok(UnknownElements(nodes)),
            XmlTree::Text(_) => Ok(UnknownElements::default()),
        }
    }
}

impl<'de> serde::Deserialize<'de> for XmlTree {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TreeVisitor)
    }
}

struct TreeVisitor;

impl<'de> serde::de::Visitor<'de> for TreeVisitor {
    type Value = XmlTree;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number or object (an XML element's content)")
    }
    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<XmlTree, E> {
        Ok(XmlTree::Text(text.to_owned()))
    }
    fn visit_string<E: serde::de::Error>(self, text: String) -> Result<XmlTree, E> {
        Ok(XmlTree::Text(text))
    }
    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<XmlTree, E> {
        Ok(XmlTree::Text(value.to_string()))
    }
    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<XmlTree, E> {
        Ok(XmlTree::Text(value.to_string()))
    }
    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<XmlTree, E> {
        Ok(XmlTree::Text(value.to_string()))
    }
    fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<XmlTree, E> {
        Ok(XmlTree::Text(value.to_string()))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<XmlTree, E> {
        Ok(XmlTree::Text(String::new()))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<XmlTree, A::Error> {
        let mut children = Vec::new();
        while let Some(name) = map.next_key::<String>()? {
            match map.next_value::<OneOrMany>()? {
                OneOrMany::One(content) => children.push(XmlNode { name, content }),
                OneOrMany::Many(contents) => {
                    children.extend(contents.into_iter().map(|content| XmlNode {
                        name: name.clone(),
                        content,
                    }))
                }
            }
        }
        Ok(XmlTree::Elements(children))
    }
}

/// A map value: one element's content, or an array of repeated ones.
enum OneOrMany {
    One(XmlTree),
    Many(Vec<XmlTree>),
}

impl<'de> serde::Deserialize<'de> for OneOrMany {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an element's content or an array of them")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<OneOrMany, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<XmlTree>()? {
                    items.push(item);
                }
                Ok(OneOrMany::Many(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<OneOrMany, A::Error> {
                TreeVisitor.visit_map(map).map(OneOrMany::One)
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<OneOrMany, E> {
                TreeVisitor.visit_str(text).map(OneOrMany::One)
            }
            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<OneOrMany, E> {
                TreeVisitor.visit_u64(value).map(OneOrMany::One)
            }
            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<OneOrMany, E> {
                TreeVisitor.visit_i64(value).map(OneOrMany::One)
            }
            fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<OneOrMany, E> {
                TreeVisitor.visit_f64(value).map(OneOrMany::One)
            }
            fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<OneOrMany, E> {
                TreeVisitor.visit_bool(value).map(OneOrMany::One)
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<OneOrMany, E> {
                TreeVisitor.visit_unit().map(OneOrMany::One)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}
