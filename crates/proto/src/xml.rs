//! Small XML helpers shared by every action (reading text children,
//! escaping on write). Built on quick-xml.
