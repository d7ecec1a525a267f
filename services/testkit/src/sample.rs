//! Petitions for tests and the benchmark: valid, varied across channels, sources, places
//! and matter categories of the demo directory, and reproducible from an index.

use xinfang_proto::intake::v1::CreatePetitionRequest;
use xinfang_proto::v1 as proto;

/// Places and matters of the demo city (services/routing/directory/xingping.toml), with
/// the unit routing sends each to.
pub const ROUTES: [(&str, &str, &str); 6] = [
    ("zhaocun", "land-acquisition", "zhaocun"),
    ("zhaocun-tiefo", "rural-affairs", "zhaocun"),
    ("dongcheng-beijie", "neighbourhood", "dongcheng"),
    ("nanshi", "wage-arrears", "renshe"),
    ("mawei", "housing", "zhujian"),
    ("xicheng", "education", "jiaoyu"),
];

const CHANNELS: [proto::Channel; 4] = [
    proto::Channel::Online,
    proto::Channel::Letter,
    proto::Channel::Visit,
    proto::Channel::Phone,
];

/// The `index`-th sample petition, received a minute ago, with its petitioner named.
pub fn petition(index: usize) -> proto::Petition {
    let (territory, category, _) = ROUTES[index % ROUTES.len()];
    let received = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);
    proto::Petition {
        channel: CHANNELS[index % CHANNELS.len()] as i32,
        source: Some(proto::PetitionSource {
            level: proto::SourceLevel::Local as i32,
            ..Default::default()
        }),
        received_at: Some(prost_types::Timestamp {
            seconds: received.unix_timestamp(),
            nanos: 0,
        }),
        // Each sample is another person's matter: the same person's would be a repeat.
        petitioner: Some(proto::PetitionerIdentity {
            kind: proto::PetitionerKind::Person as i32,
            name: "张三".into(),
            id_card_number: id_card_number(index),
            phone: phone(index),
            address: "兴平市东城街道幸福路1号".into(),
        }),
        people_count: 1,
        territory_code: territory.into(),
        matter_category: category.into(),
        title: format!("第{index}号诉求"),
        content: "征地补偿款至今未发放，请求依法发放。".into(),
        ..Default::default()
    }
}

/// The `index`-th sample petitioner's ID card number, valid (GB 11643 check character) and
/// another for each index up to some 25 million (the birth date counts thousands); the
/// first is `610481199001011233`.
pub fn id_card_number(index: usize) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let seq = 123 + index;
    let first = time::macros::date!(1990 - 01 - 01);
    let days = i64::try_from(seq / 1000).unwrap_or(0) % 25_000;
    let born = first
        .checked_sub(time::Duration::days(days))
        .unwrap_or(first);
    let body = format!(
        "610481{:04}{:02}{:02}{:03}",
        born.year(),
        u8::from(born.month()),
        born.day(),
        seq % 1000
    );
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    let check = char::from(b"10X98765432"[(sum % 11) as usize]);
    format!("{body}{check}")
}

/// The `index`-th sample petitioner's mobile number; the first is `13812345678`.
pub fn phone(index: usize) -> String {
    format!("138{:08}", (12_345_678 + index) % 100_000_000)
}

/// A create request for the `index`-th sample, under a fresh request id.
pub fn create(index: usize) -> CreatePetitionRequest {
    CreatePetitionRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        petition: Some(petition(index)),
        registering_unit: String::new(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_sample_is_another_person() {
        assert_eq!(super::id_card_number(0), "610481199001011233");
        assert_eq!(super::phone(0), "13812345678");
        let indices: Vec<usize> = (0..20_000)
            .chain((1..6).map(|client| client * 1_000_000 + 7))
            .collect();
        let ids: std::collections::HashSet<String> =
            indices.iter().copied().map(super::id_card_number).collect();
        assert_eq!(ids.len(), indices.len());
    }
}
