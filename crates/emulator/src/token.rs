//! `NextToken`: an opaque, URL-safe encoding of where the previous page
//! stopped, so that the next page starts right after it whatever was
//! inserted in between.

use std::fmt;

use cos_ci_proto::Order;

use crate::ids::{base64url_decode, base64url_encode};
use crate::store::Position;

const VERSION: &str = "v1";

/// A decoded paging token: the direction of the listing and the sort key of
/// the last execution returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextToken {
    /// The `orderByTime` of the listing that issued it.
    pub order: Order,
    /// The last execution returned.
    pub position: Position,
}

/// Why a `nextToken` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token this emulator issues.
    #[error("invalid parameter `nextToken`: not a token issued by this server")]
    Malformed,
    /// Issued for the other direction.
    #[error(
        "invalid parameter `nextToken`: it continues a listing with orderByTime={issued}, \
         but this request asks for orderByTime={requested}"
    )]
    OrderMismatch {
        /// The order the token was issued for.
        issued: Order,
        /// The order asked for now.
        requested: Order,
    },
}

impl NextToken {
    /// `v1.<a|d>.<unix seconds>.<base64url(run id)>`: only `[A-Za-z0-9._-]`,
    /// so it needs no escaping in a URL or in XML.
    pub fn encode(&self) -> String {
        let direction = match self.order {
            Order::Asc => 'a',
            Order::Desc => 'd',
        };
        format!(
            "{VERSION}.{direction}.{}.{}",
            self.position.time,
            base64url_encode(self.position.run_id.as_bytes())
        )
    }

    /// Parse a token made by [`NextToken::encode`].
    pub fn decode(text: &str) -> Result<Self, TokenError> {
        let mut parts = text.split('.');
        let (Some(VERSION), Some(direction), Some(time), Some(run_id), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(TokenError::Malformed);
        };
        let order = match direction {
            "a" => Order::Asc,
            "d" => Order::Desc,
            _ => return Err(TokenError::Malformed),
        };
        let time: i64 = time.parse().map_err(|_| TokenError::Malformed)?;
        let run_id = base64url_decode(run_id)
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or(TokenError::Malformed)?;
        Ok(NextToken {
            order,
            position: Position { time, run_id },
        })
    }

    /// Decode and check it continues a listing in `order`.
    pub fn decode_for(text: &str, order: Order) -> Result<Self, TokenError> {
        let token = Self::decode(text)?;
        if token.order != order {
            return Err(TokenError::OrderMismatch {
                issued: token.order,
                requested: order,
            });
        }
        Ok(token)
    }

    /// Where a request's `nextToken` continues in `order`: from the start
    /// when it is unset or empty (as the SDKs send it), else right after
    /// the position it names.
    pub(crate) fn resume_after(
        text: Option<&str>,
        order: Order,
    ) -> Result<Option<Position>, TokenError> {
        match text {
            Some(text) if !text.is_empty() => Ok(Some(Self::decode_for(text, order)?.position)),
            _ => Ok(None),
        }
    }
}

impl fmt::Display for NextToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_form() {
        let token = NextToken {
            order: Order::Desc,
            position: Position {
                time: 1_767_542_400,
                run_id: "iabc".into(),
            },
        };
        assert_eq!(token.encode(), "v1.d.1767542400.aWFiYw");
        assert_eq!(NextToken::decode("v1.d.1767542400.aWFiYw"), Ok(token));
    }

    #[test]
    fn refuses_garbage_and_other_direction() {
        for bad in [
            "",
            "115716",
            "v1.d.1.",
            "v1.x.1.YQ",
            "v1.a.one.YQ",
            "v1.a.1.YQ.x",
            "v2.a.1.YQ",
            "v1.a.1.*",
        ] {
            if bad == "v1.d.1." {
                // An empty run id is a valid (if odd) position.
                assert!(NextToken::decode(bad).is_ok());
                continue;
            }
            assert_eq!(NextToken::decode(bad), Err(TokenError::Malformed), "{bad}");
        }
        let error = NextToken::decode_for("v1.a.1.YQ", Order::Desc).unwrap_err();
        assert!(error.to_string().contains("nextToken"), "{error}");
    }

    proptest! {
        #[test]
        fn round_trips(time in any::<i64>(), run_id in ".{0,40}", asc in any::<bool>()) {
            let token = NextToken {
                order: if asc { Order::Asc } else { Order::Desc },
                position: Position { time, run_id },
            };
            let text = token.encode();
            prop_assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)));
            prop_assert_eq!(NextToken::decode(&text), Ok(token));
        }

        #[test]
        fn never_panics(text in ".{0,80}") {
            let _ = NextToken::decode(&text);
        }
    }
}
