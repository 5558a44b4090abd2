//! Every size limit of the HTTP surface in one place, so `docs/security.md`
//! can list them and a hostile request meets a bound before it costs memory.
//! Limits that are configurable live in `config.rs` (with their flags); these
//! are fixed.

/// Largest attachment or event file (bytes), streamed to disk, never held.
pub const ATTACHMENT_BYTES: u64 = 2 << 30;
/// Largest CI build log or coverage report (inflated bytes; the body as
/// sent is also bound by `--max-body-mib`), streamed to disk, never held.
pub const CI_BUILD_FILE_BYTES: u64 = 512 << 20;
/// Largest SCM data body (`PUT …/scm-commits`, inflated JSON).
pub const CI_SCM_JSON_BYTES: usize = 16 << 20;
/// Largest JSON body of `/upload/events`, or its multipart `eventData` part.
pub const EVENTS_JSON_BYTES: usize = 32 << 20;
/// Events accepted in one `/upload/events` request (the 207 reply has one
/// entry per event, so this also bounds the reply).
pub const EVENTS_PER_REQUEST: usize = 10_000;
/// `attachments[]` files in one `/upload/events` request.
pub const FILES_PER_REQUEST: usize = 1_000;
/// Largest result file of `POST /import` (spooled to disk).
pub const IMPORT_FILE_BYTES: u64 = 2 << 30;
/// Result files in one `POST /import`.
pub const IMPORT_FILES: usize = 1_000;
/// Characters of an entity or token name (Octane's limit for names).
pub const NAME_CHARS: usize = 255;
/// Bytes of any other text field of an entity (descriptions, messages).
pub const ENTITY_TEXT_BYTES: usize = 1 << 20;
/// Characters of a Test Center test name (`test.name`, imported case names).
pub const TC_NAME_CHARS: usize = 1_024;
/// Characters of a Test Center summary, label key or value, batch or project.
pub const TC_SHORT_TEXT_CHARS: usize = 1_024;
/// Bytes of a Test Center description or event message.
pub const TC_MESSAGE_BYTES: usize = 64 << 10;
/// Bytes of an event detail, trace, location or verification point (JSON
/// text), and of an imported failure text or captured output.
pub const TC_DETAIL_BYTES: usize = 1 << 20;

/// Bytes of a triage note or a mute reason (insight API).
pub const INSIGHT_NOTE_BYTES: usize = 64 << 10;
/// Characters of a triage link (a defect id or URL).
pub const INSIGHT_LINK_CHARS: usize = 2_048;
/// Bytes of an insight API request body (a note plus its link, in JSON).
pub const INSIGHT_BODY_BYTES: usize = 256 << 10;

/// `Err(message)` naming `field` when `text` has more than `max` characters.
pub fn check_chars(field: &str, text: &str, max: usize) -> Result<(), String> {
    // Byte length bounds the character count from above: most texts skip the count.
    if text.len() > max && text.chars().count() > max {
        return Err(format!(
            "'{field}' is {} characters long; at most {max} are accepted",
            text.chars().count()
        ));
    }
    Ok(())
}

/// `Err(message)` naming `field` when `text` is over `max` bytes.
pub fn check_bytes(field: &str, text: &str, max: usize) -> Result<(), String> {
    if text.len() > max {
        return Err(format!(
            "'{field}' is {} bytes long; at most {max} are accepted",
            text.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_not_bytes_are_counted() {
        assert!(check_chars("name", &"é".repeat(255), 255).is_ok());
        let e = check_chars("test.name", &"a".repeat(256), 255).unwrap_err();
        assert!(e.contains("'test.name'") && e.contains("256"), "{e}");
        assert!(check_bytes("message", "abc", 2).is_err());
        assert!(check_bytes("message", "ab", 2).is_ok());
    }
}
