//! The seed's half-year, entered only through the public gRPC APIs as a bureau and its
//! units would: 212 online petitions from the national, provincial and prefecture bureaus
//! and the city's own platform, signed for, accepted, replied to and served; 24 of them
//! supervised with 45 letters; 91 key persons and 33 key groups, each owned by a leader;
//! 78 receptions and visits down by city leaders; leaders of the province and the
//! prefecture owning cases; 14 inspections. Statistics must state the seed's figures
//! (DOMAIN.md, "The seed's own figures") from those events alone.

use time::OffsetDateTime;
use xinfang_platform::auth::Role;
use xinfang_platform::wire::timestamp;
use xinfang_proto::intake::v1::CreatePetitionRequest;
use xinfang_proto::statistics::v1::{
    Figures, GetFiguresRequest, GetReportRequest, GetWorkFiguresRequest, ReportFormat, ReportKind,
    StatusSplit, WorkFigures, statistics_service_client::StatisticsServiceClient,
};
use xinfang_proto::supervision::v1::{
    self as api, GetCaseTimelineRequest, supervision_service_client::SupervisionServiceClient,
};
use xinfang_proto::v1::{self as proto, CaseStage};
use xinfang_testkit::auth::{self, Authed};
use xinfang_testkit::sample::{self, ROUTES};
use xinfang_testkit::{Backend, Stack, Svc, eventually};

use crate::lifecycle::{accept, act, as_unit, reply, serve, sign_for};
use crate::support::{self, SETTLE};

/// Per source: cases, of them done; the rest accepted and within their deadlines.
const SOURCES: [(proto::SourceLevel, usize, usize); 4] = [
    (proto::SourceLevel::National, 107, 86),
    (proto::SourceLevel::Provincial, 51, 43),
    (proto::SourceLevel::Prefecture, 5, 5),
    (proto::SourceLevel::Local, 49, 43),
];

/// One online petition of `source`, the `index`-th sample's matter and petitioner.
fn online(index: usize, source: proto::SourceLevel) -> CreatePetitionRequest {
    let upstream = source != proto::SourceLevel::Local;
    CreatePetitionRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        petition: Some(proto::Petition {
            channel: proto::Channel::Online as i32,
            source: Some(proto::PetitionSource {
                level: source as i32,
                upstream_reference: if upstream {
                    format!("上级转〔2026〕{index}号")
                } else {
                    String::new()
                },
                disposition: if upstream {
                    proto::UpstreamDisposition::Forwarded as i32
                } else {
                    0
                },
                upstream_deadline: None,
            }),
            ..sample::petition(index)
        }),
        registering_unit: String::new(),
    }
}

/// A registered case, the unit routing sends it to, and whether it is to be done.
struct Case {
    id: String,
    unit: &'static str,
    done: bool,
}

fn bureau(stack: &Stack) -> SupervisionServiceClient<Authed> {
    let token = auth::token(&[Role::Supervisor], &[]);
    SupervisionServiceClient::new(auth::authed(&stack.grpc_url(Svc::Supervision), &token))
}

async fn awaiting_sign_for(stack: &Stack, case_id: &str) {
    let bureau = bureau(stack);
    eventually(SETTLE, || {
        let mut bureau = bureau.clone();
        let case_id = case_id.to_owned();
        async move {
            let timeline = bureau
                .get_case_timeline(GetCaseTimelineRequest { case_id })
                .await
                .ok()?;
            (timeline.get_ref().stage() == CaseStage::AwaitingSignFor).then_some(())
        }
    })
    .await;
}

async fn register(stack: &Stack) -> Vec<Case> {
    let mut intake = support::intake(stack).await;
    let mut cases = Vec::new();
    let mut index = 0;
    for (source, total, done) in SOURCES {
        for n in 0..total {
            let answer = support::submit(&mut intake, online(index, source)).await;
            cases.push(Case {
                id: answer.case_id,
                unit: ROUTES[index % ROUTES.len()].2,
                done: n < done,
            });
            index += 1;
        }
    }
    for case in &cases {
        awaiting_sign_for(stack, &case.id).await;
    }
    cases
}

async fn handle(stack: &Stack, cases: &[Case]) {
    for case in cases {
        let mut unit = as_unit(stack, case.unit);
        let steps = if case.done {
            vec![sign_for(), accept(), reply(), serve()]
        } else {
            vec![sign_for(), accept()]
        };
        for step in steps {
            act(&mut unit, &case.id, step).await;
        }
    }
}

fn request_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// 24 cases supervised (14 to be done, 10 not), 45 supervision letters among them.
async fn supervise(stack: &Stack, cases: &[Case]) {
    let mut bureau = bureau(stack);
    let done = cases.iter().filter(|c| c.done).take(14);
    let open = cases.iter().filter(|c| !c.done).take(10);
    for (n, case) in done.chain(open).enumerate() {
        let letters = if n < 21 { 2 } else { 1 };
        for _ in 0..letters {
            bureau
                .issue_letter(api::IssueLetterRequest {
                    request_id: request_id(),
                    case_id: case.id.clone(),
                    kind: api::LetterKind::Supervision as i32,
                    text: String::new(),
                    reply_days: 0,
                })
                .await
                .expect("a supervision letter");
        }
    }
}

async fn watch_list(stack: &Stack, cases: &[Case]) {
    let mut bureau = bureau(stack);
    for n in 0..124 {
        let person = n < 91;
        bureau
            .add_to_watch_list(api::AddToWatchListRequest {
                request_id: request_id(),
                kind: if person {
                    api::WatchKind::KeyPerson
                } else {
                    api::WatchKind::KeyGroup
                } as i32,
                group_name: if person {
                    String::new()
                } else {
                    format!("第{n}组")
                },
                petitioner_ids: vec![uuid::Uuid::now_v7().to_string()],
                case_ids: vec![cases[n % cases.len()].id.clone()],
                reason: "多次信访".into(),
                leader: "市委副书记 赵六".into(),
                responsible_unit: cases[n % cases.len()].unit.into(),
            })
            .await
            .expect("on the watch list");
    }
}

/// 78 sessions of the city's leaders, 922 people received, 7 visits down by the secretary.
async fn receptions(stack: &Stack) {
    let mut bureau = bureau(stack);
    for (id, name, post, principal) in [
        ("city-secretary", "王一", "市委书记", true),
        ("city-deputy", "李二", "市委副书记", false),
    ] {
        bureau
            .add_leader(api::AddLeaderRequest {
                leader: Some(api::Leader {
                    id: id.into(),
                    name: name.into(),
                    post: post.into(),
                    level: api::LeaderLevel::City as i32,
                    principal,
                }),
            })
            .await
            .expect("on the roster");
    }
    let now = OffsetDateTime::now_utc();
    for n in 0..78_i64 {
        let (leader, kind) = if n < 7 {
            ("city-secretary", api::ReceptionKind::VisitDown)
        } else {
            ("city-deputy", api::ReceptionKind::Duty)
        };
        let people = if n < 70 {
            12
        } else if n < 77 {
            10
        } else {
            12
        };
        bureau
            .record_reception(api::RecordReceptionRequest {
                request_id: request_id(),
                leader_id: leader.into(),
                kind: kind as i32,
                held_at: Some(timestamp(now - time::Duration::minutes(n + 1))),
                place: "市信访接待中心".into(),
                people_received: people,
                case_ids: Vec::new(),
            })
            .await
            .expect("a session");
    }
}

/// Leaders of the province own 3 cases (1 resolved), of the prefecture 3 (2 resolved).
async fn leaders_cases(stack: &Stack, cases: &[Case]) {
    let mut bureau = bureau(stack);
    let levels = [
        (api::LeaderLevel::Province, "省委常委 陈七", 1),
        (api::LeaderLevel::Prefecture, "市委常委 周八", 2),
    ];
    let mut owned = cases.iter().filter(|c| c.done);
    for (level, leader, resolved) in levels {
        for n in 0..3 {
            let case = owned.next().expect("a case");
            bureau
                .assign_leader(api::AssignLeaderRequest {
                    case_id: case.id.clone(),
                    leader: leader.into(),
                    level: level as i32,
                    plan: "包案化解，每月过问一次".into(),
                })
                .await
                .expect("owned");
            if n < resolved {
                bureau
                    .record_leader_outcome(api::RecordLeaderOutcomeRequest {
                        case_id: case.id.clone(),
                        outcome: api::LeaderOutcome::Resolved as i32,
                        note: "已化解".into(),
                    })
                    .await
                    .expect("resolved");
            }
        }
    }
}

async fn inspections(stack: &Stack) {
    let mut bureau = bureau(stack);
    for n in 0..14 {
        bureau
            .record_inspection(api::RecordInspectionRequest {
                request_id: request_id(),
                unit_code: ROUTES[n % ROUTES.len()].2.into(),
                inspected_on: None,
                findings: "积案化解进度滞后，已督促整改".into(),
                case_ids: Vec::new(),
            })
            .await
            .expect("an inspection");
    }
}

/// Done, and the rest accepted and within their deadlines.
fn split(done: u64, in_deadline: u64) -> Option<StatusSplit> {
    Some(StatusSplit {
        cases: done + in_deadline,
        done,
        in_deadline,
        overdue: 0,
        in_deadline_accepted: in_deadline,
    })
}

fn this_half_year() -> String {
    let today = xinfang_platform::wire::china_date(OffsetDateTime::now_utc());
    let half = if u8::from(today.month()) <= 6 { 1 } else { 2 };
    format!("{}-H{half}", today.year())
}

#[tokio::test]
async fn the_seeds_half_year_entered_through_the_apis_gives_the_seeds_figures() {
    let stack = Stack::start(Backend::Sqlite)
        .await
        .expect("the stack starts");
    let cases = register(&stack).await;
    supervise(&stack, &cases).await;
    handle(&stack, &cases).await;
    watch_list(&stack, &cases).await;
    receptions(&stack).await;
    leaders_cases(&stack, &cases).await;
    inspections(&stack).await;

    let token = auth::token(&[Role::Leader], &[]);
    let statistics =
        StatisticsServiceClient::new(auth::authed(&stack.grpc_url(Svc::Statistics), &token));
    let period = this_half_year();
    let figures: Figures = eventually(SETTLE, || {
        let mut statistics = statistics.clone();
        let request = GetFiguresRequest {
            period: period.clone(),
            channel: proto::Channel::Online as i32,
            ..GetFiguresRequest::default()
        };
        async move {
            let figures = statistics.get_figures(request).await.ok()?.into_inner();
            let accepted = figures.timely_acceptance.as_ref().map(|r| r.denominator);
            (figures.status == split(177, 35) && accepted == Some(212)).then_some(figures)
        }
    })
    .await;
    let by_source: Vec<(String, Option<StatusSplit>)> = figures
        .by_source
        .iter()
        .map(|row| (row.key.clone(), row.status))
        .collect();
    assert_eq!(
        by_source,
        [
            ("national".to_owned(), split(86, 21)),
            ("provincial".to_owned(), split(43, 8)),
            ("local".to_owned(), split(43, 6)),
            ("prefecture".to_owned(), split(5, 0)),
        ]
    );
    let full = |rate: &Option<xinfang_proto::statistics::v1::Rate>| {
        rate.as_ref()
            .map(|r| (r.numerator, r.denominator, r.basis_points))
    };
    assert_eq!(
        full(&figures.timely_acceptance),
        Some((212, 212, Some(10_000)))
    );
    assert_eq!(full(&figures.on_time_reply), Some((177, 177, Some(10_000))));

    let work: WorkFigures = eventually(SETTLE, || {
        let mut statistics = statistics.clone();
        let request = GetWorkFiguresRequest {
            period: period.clone(),
            as_of: None,
        };
        async move {
            let work = statistics
                .get_work_figures(request)
                .await
                .ok()?
                .into_inner();
            let settled = work.inspections == 14
                && work.reception_sessions == 78
                && work.key_groups == 33
                && work.prefecture_leader_cases.as_ref().map(|c| c.resolved) == Some(2)
                && work.letters_by_kind.iter().map(|c| c.cases).sum::<u64>() == 45
                && work.assigned_or_supervised == split(14, 10);
            settled.then_some(work)
        }
    })
    .await;
    assert_eq!((work.key_persons, work.key_groups), (91, 33));
    assert_eq!(work.watch_entries_owned_by_leaders, 124);
    assert_eq!(
        (
            work.reception_sessions,
            work.reception_person_times,
            work.visits_down_by_principal_leaders
        ),
        (78, 922, 7)
    );
    let owned = |cases: &Option<xinfang_proto::statistics::v1::LeaderCases>| {
        cases.as_ref().map(|c| (c.owned, c.resolved))
    };
    assert_eq!(owned(&work.province_leader_cases), Some((3, 1)));
    assert_eq!(owned(&work.prefecture_leader_cases), Some((3, 2)));
    assert_eq!(work.inspections, 14);
    let letters: Vec<(String, u64)> = work
        .letters_by_kind
        .iter()
        .map(|c| (c.key.clone(), c.cases))
        .collect();
    assert_eq!(letters, [("supervision".to_owned(), 45)]);

    // The half-year summary, as an analyst reads it, states them in the bureau's words.
    let analyst = auth::token(&[Role::Analyst], &[]);
    let mut analyst =
        StatisticsServiceClient::new(auth::authed(&stack.grpc_url(Svc::Statistics), &analyst));
    let report = analyst
        .get_report(GetReportRequest {
            kind: ReportKind::HalfYearSummary as i32,
            period: period.clone(),
            format: ReportFormat::Markdown as i32,
            as_of: None,
            formula_version: String::new(),
        })
        .await
        .expect("the summary")
        .into_inner();
    let markdown = String::from_utf8(report.files[0].content.clone()).expect("UTF-8");
    for sentence in [
        "共接收转送交办网上信访件212件，其中国家信访局转送交办107件，办结86件，剩余21件均已受理并在办理期限内；\
         省信访局转送交办51件，办结43件，剩余8件均已受理并在办理期限内；市(地)信访局转送交办5件，已全部办结5件；\
         本级平台受理49件，办结43件，剩余6件均已受理并在办理期限内。",
        "网上信访及时受理率100%，按期答复率100%",
        "交(督)办件24件，办结14件，剩余10件均已受理并在办理期限内。",
        "排查重点人员91人、重点群体33个，均已落实领导包案。",
        "市级党政领导接访下访78次，接待群众922人次，党政主要领导下访7次。",
        "省级领导包案3件，化解1件；市(地)级领导包案3件，化解2件",
        "开展督查14次，下发交办督办函45份",
    ] {
        assert!(
            markdown.contains(sentence),
            "missing {sentence:?} in\n{markdown}"
        );
    }
    // Figures, never a case: no case number appears.
    assert!(!markdown.contains("610481-"), "{markdown}");
    let svg = report
        .files
        .iter()
        .find(|file| file.name == "sources.svg")
        .expect("the chart by source");
    assert_eq!(svg.media_type, "image/svg+xml");
    for format in [ReportFormat::Csv, ReportFormat::Docx] {
        let written = analyst
            .get_report(GetReportRequest {
                kind: ReportKind::Annual as i32,
                period: period.clone(),
                format: format as i32,
                as_of: None,
                formula_version: String::new(),
            })
            .await
            .expect("the annual report")
            .into_inner();
        assert_eq!(written.files.len(), 1);
        assert!(!written.files[0].content.is_empty());
    }
}
