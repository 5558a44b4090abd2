//! The events of one `/upload/events` body, parsed without building a tree
//! for more than [`limits::EVENTS_PER_REQUEST`] of them: a 30 MB array of a
//! million events is refused after the first ten thousand instead of
//! becoming 1.8 GB of JSON values.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::error::TcError;
use crate::limits;

/// One event object (`single`) or an array of them.
pub struct EventList {
    pub events: Vec<Value>,
    pub single: bool,
}

/// Parses a body; 413 past the event limit, 400 for anything but an object
/// or an array (with serde's line and column).
pub fn parse(body: &[u8]) -> Result<EventList, TcError> {
    serde_json::from_slice::<EventList>(body).map_err(|e| {
        let text = e.to_string();
        if text.starts_with(TOO_MANY) {
            TcError::TooLarge(text)
        } else {
            TcError::BadRequest(format!("invalid request body: {text}"))
        }
    })
}

const TOO_MANY: &str = "more than";

impl<'de> Deserialize<'de> for EventList {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ListVisitor)
    }
}

struct ListVisitor;

impl<'de> Visitor<'de> for ListVisitor {
    type Value = EventList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object or an array of event objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<EventList, A::Error> {
        let mut events = Vec::new();
        while let Some(event) = seq.next_element::<Value>()? {
            if events.len() == limits::EVENTS_PER_REQUEST {
                return Err(de::Error::custom(format!(
                    "{TOO_MANY} {} events in one request; send them in several",
                    limits::EVENTS_PER_REQUEST
                )));
            }
            events.push(event);
        }
        Ok(EventList {
            events,
            single: false,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<EventList, A::Error> {
        let one = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(EventList {
            events: vec![one],
            single: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_arrays_and_the_cap() {
        let one = parse(br#"{"runId": 1, "type": "PASS"}"#).unwrap_or_else(|_| panic!("one"));
        assert!(one.single && one.events.len() == 1);
        let two = parse(br#"[{"runId": 1}, {"runId": 2}]"#).unwrap_or_else(|_| panic!("two"));
        assert!(!two.single && two.events.len() == 2);
        assert!(matches!(parse(b"42"), Err(TcError::BadRequest(_))));
        let many = format!(
            "[{}]",
            vec![r#"{"runId":1,"type":"LOG"}"#; limits::EVENTS_PER_REQUEST + 1].join(",")
        );
        assert!(matches!(parse(many.as_bytes()), Err(TcError::TooLarge(_))));
    }
}
