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
        petitioner: Some(proto::PetitionerIdentity {
            kind: proto::PetitionerKind::Person as i32,
            name: "张三".into(),
            id_card_number: "610481199001011233".into(),
            phone: "13812345678".into(),
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

/// A create request for the `index`-th sample, under a fresh request id.
pub fn create(index: usize) -> CreatePetitionRequest {
    CreatePetitionRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        petition: Some(petition(index)),
    }
}
