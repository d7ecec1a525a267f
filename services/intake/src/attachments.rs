//! Attachments by reference (材料): what the petitioner handed in, named and fingerprinted,
//! not the file itself (the documents stay in the bureau's archive). Checked at the edge:
//! a known type, a size within the limit, a SHA-256 digest, a name that is a name.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;
use xinfang_proto::v1 as proto;

use crate::store::attachment;

/// The most attachments one petition refers to.
pub const MAX_ATTACHMENTS: usize = 20;
/// The largest attachment, in bytes (100 MiB: a scanned dossier, a recording).
pub const MAX_ATTACHMENT_BYTES: u64 = 100 * 1024 * 1024;
const MAX_NAME_CHARS: usize = 200;

/// The document types a bureau files: scans and photos, recordings, office documents and
/// OFD (the national standard for electronic documents).
pub const MEDIA_TYPES: [&str; 11] = [
    "application/pdf",
    "application/ofd",
    "image/jpeg",
    "image/png",
    "image/tiff",
    "audio/mpeg",
    "audio/wav",
    "video/mp4",
    "text/plain",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
];

/// One attachment, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub media_type: String,
    pub size_bytes: u64,
    pub sha256: String,
}

/// Checks every attachment; each problem as (field, why).
pub fn parse(attachments: &[proto::Attachment]) -> Result<Vec<Attachment>, Vec<(String, String)>> {
    let mut problems = Vec::new();
    if attachments.len() > MAX_ATTACHMENTS {
        // Not one by one: a request of many empty entries would make a huge answer.
        problems.push((
            "petition.attachments".to_owned(),
            format!("at most {MAX_ATTACHMENTS} attachments"),
        ));
        return Err(problems);
    }
    let mut parsed = Vec::with_capacity(attachments.len());
    for (at, attachment) in attachments.iter().enumerate() {
        let field = |name: &str| format!("petition.attachments[{at}].{name}");
        let name = attachment.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            problems.push((
                field("name"),
                format!("is required, at most {MAX_NAME_CHARS} characters"),
            ));
        } else if name
            .chars()
            .any(|c| c.is_control() || matches!(c, '/' | '\\'))
            || crate::petition::has_invisible_format(name)
        {
            problems.push((
                field("name"),
                "is a file name: no path, control or invisible characters".to_owned(),
            ));
        }
        if !MEDIA_TYPES.contains(&attachment.media_type.as_str()) {
            problems.push((
                field("media_type"),
                format!("must be one of {}", MEDIA_TYPES.join(", ")),
            ));
        }
        if attachment.size_bytes == 0 || attachment.size_bytes > MAX_ATTACHMENT_BYTES {
            problems.push((field("size_bytes"), "must be 1 byte to 100 MiB".to_owned()));
        }
        let digest = attachment.sha256.trim().to_ascii_lowercase();
        if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            problems.push((
                field("sha256"),
                "must be the file's SHA-256, 64 hexadecimal digits".to_owned(),
            ));
        }
        parsed.push(Attachment {
            name: name.to_owned(),
            media_type: attachment.media_type.clone(),
            size_bytes: attachment.size_bytes,
            sha256: digest,
        });
    }
    if problems.is_empty() {
        Ok(parsed)
    } else {
        Err(problems)
    }
}

/// A case's attachments, in the order handed in.
pub async fn of_case<C: ConnectionTrait>(
    db: &C,
    case_id: Uuid,
) -> Result<Vec<proto::Attachment>, DbErr> {
    Ok(attachment::Entity::find()
        .filter(attachment::Column::CaseId.eq(case_id))
        .order_by_asc(attachment::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|row| proto::Attachment {
            name: row.name,
            media_type: row.media_type,
            size_bytes: u64::try_from(row.size_bytes).unwrap_or_default(),
            sha256: row.sha256,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan() -> proto::Attachment {
        proto::Attachment {
            name: "征地补偿协议.pdf".into(),
            media_type: "application/pdf".into(),
            size_bytes: 2_345_678,
            sha256: "A".repeat(64),
        }
    }

    #[test]
    fn an_attachment_is_a_named_fingerprinted_document_of_a_known_type() {
        let parsed = parse(&[scan()]).expect("accepted");
        assert_eq!(
            parsed[0].sha256,
            "a".repeat(64),
            "the digest is kept in lower case"
        );
    }

    #[test]
    fn each_wrong_attachment_field_is_named() {
        let wrong = proto::Attachment {
            name: "../../etc/passwd".into(),
            media_type: "application/x-msdownload".into(),
            size_bytes: MAX_ATTACHMENT_BYTES + 1,
            sha256: "not-a-digest".into(),
        };
        let fields: Vec<String> = parse(&[scan(), wrong])
            .expect_err("refused")
            .into_iter()
            .map(|(field, _)| field)
            .collect();
        assert_eq!(
            fields,
            [
                "petition.attachments[1].name",
                "petition.attachments[1].media_type",
                "petition.attachments[1].size_bytes",
                "petition.attachments[1].sha256",
            ]
        );
        // Too many is one answer, not one per entry.
        assert_eq!(
            parse(&vec![proto::Attachment::default(); 100_000])
                .expect_err("refused")
                .len(),
            1
        );
    }
}
