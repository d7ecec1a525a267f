//! The reports a bureau sends, written from the figures in the sentences a bureau writes:
//! plain, figures in and a `Report` (sections of sentences, tables and charts) out.
//! `render` turns it into Markdown, SVG, CSV and Word.

use std::collections::BTreeMap;

use xinfang_proto::statistics::v1::{Breakdown, Figures, Rate, StatusSplit, WorkFigures};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    WeeklyBrief,
    HalfYearSummary,
    Annual,
}

/// What a report is written from: the period's figures, the same restricted to online
/// petitions, the bureau's work (none for a unit's report), and the cases of each part of
/// the period (days of a week, months of a half-year or a year).
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    pub kind: Kind,
    /// Whose report: the bureau's, or a unit's (`Some(units)`).
    pub units: Option<Vec<String>>,
    pub figures: Figures,
    pub online: Figures,
    pub work: Option<WorkFigures>,
    pub trend: Vec<(String, u64)>,
    /// Unit codes to their names, from the directory routing published: a report names
    /// units (and territories, which are units' codes) as a bureau does.
    pub unit_names: BTreeMap<String, String>,
}

/// The figures with their unit and territory codes replaced by the units' names.
fn named(figures: &Figures, names: &BTreeMap<String, String>) -> Figures {
    let rename = |rows: &[Breakdown]| -> Vec<Breakdown> {
        rows.iter()
            .map(|row| Breakdown {
                key: names
                    .get(&row.key)
                    .cloned()
                    .unwrap_or_else(|| row.key.clone()),
                status: row.status,
            })
            .collect()
    };
    Figures {
        by_unit: rename(&figures.by_unit),
        by_territory: rename(&figures.by_territory),
        ..figures.clone()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A bar chart: one bar per label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    /// The file it is written to (`trend.svg`).
    pub file: String,
    pub title: String,
    pub bars: Vec<(String, u64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Section {
    pub heading: String,
    pub paragraphs: Vec<String>,
    pub table: Option<Table>,
    pub chart: Option<Chart>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub title: String,
    /// Under the title: the period, the formula version, the moment the figures stand at.
    pub subtitle: String,
    pub sections: Vec<Section>,
}

/// A source's name as a bureau writes it.
pub fn source_name(code: &str) -> &str {
    match code {
        "national" => "国家信访局",
        "provincial" => "省信访局",
        "prefecture" => "市(地)信访局",
        "local" => "本级平台",
        other => other,
    }
}

fn channel_name(code: &str) -> &str {
    match code {
        "online" => "网上信访",
        "letter" => "来信",
        "visit" => "来访",
        "phone" => "来电",
        "leader-mailbox" => "领导信箱",
        other => other,
    }
}

fn track_name(code: &str) -> &str {
    match code {
        "suggestion" => "建议意见",
        "accusation" => "检举控告",
        "appeal" => "申诉求决",
        "statutory-channel" => "导入法定途径",
        other => other,
    }
}

/// A rate as a bureau writes it: `97.5%`, or `—` when nothing was due.
pub fn percent(rate: Option<&Rate>) -> String {
    match rate.and_then(|rate| rate.basis_points) {
        Some(points) if points % 100 == 0 => format!("{}%", points / 100),
        Some(points) => {
            let hundredths = format!("{:02}", points % 100);
            format!("{}.{}%", points / 100, hundredths.trim_end_matches('0'))
        }
        None => "—".to_owned(),
    }
}

fn split(status: Option<&StatusSplit>) -> StatusSplit {
    status.copied().unwrap_or_default()
}

/// "办结86件，剩余21件均已受理并在办理期限内" — or how many of the rest are accepted, and
/// how many overdue.
fn outcome(status: &StatusSplit) -> String {
    let rest = status.in_deadline + status.overdue;
    let accepted = status.in_deadline_accepted;
    let all_accepted = accepted == status.in_deadline;
    match (status.cases, rest, status.overdue) {
        (0, _, _) => "无".to_owned(),
        (_, 0, _) => format!("已全部办结{}件", status.done),
        (_, _, 0) if all_accepted => {
            format!("办结{}件，剩余{rest}件均已受理并在办理期限内", status.done)
        }
        (_, _, 0) => format!(
            "办结{}件，剩余{rest}件均在办理期限内（其中已受理{accepted}件）",
            status.done
        ),
        (_, _, overdue) => format!(
            "办结{}件，剩余{rest}件中{}件在办理期限内（其中已受理{accepted}件）、{overdue}件已超期",
            status.done, status.in_deadline
        ),
    }
}

fn status_table(first: &str, rows: &[Breakdown], name: fn(&str) -> &str) -> Table {
    Table {
        header: [first, "件数", "办结", "在期限内", "超期"]
            .map(str::to_owned)
            .to_vec(),
        rows: rows
            .iter()
            .map(|row| {
                let s = split(row.status.as_ref());
                vec![
                    name(&row.key).to_owned(),
                    s.cases.to_string(),
                    s.done.to_string(),
                    s.in_deadline.to_string(),
                    s.overdue.to_string(),
                ]
            })
            .collect(),
    }
}

fn bars(rows: &[Breakdown], name: fn(&str) -> &str, at_most: usize) -> Vec<(String, u64)> {
    rows.iter()
        .take(at_most)
        .map(|row| (name(&row.key).to_owned(), split(row.status.as_ref()).cases))
        .collect()
}

fn same(code: &str) -> &str {
    code
}

/// 共接收转送交办网上信访件N件，其中国家信访局转送…件，办结…件，剩余…件均在办理期限内；…
fn online_sentence(online: &Figures) -> String {
    let total = split(online.status.as_ref());
    let mut parts = Vec::new();
    for code in ["national", "provincial", "prefecture", "local"] {
        let Some(row) = online.by_source.iter().find(|row| row.key == code) else {
            continue;
        };
        let s = split(row.status.as_ref());
        let verb = if code == "local" {
            "受理"
        } else {
            "转送交办"
        };
        parts.push(format!(
            "{}{verb}{}件，{}",
            source_name(code),
            s.cases,
            outcome(&s)
        ));
    }
    let mut sentence = format!("共接收转送交办网上信访件{}件", total.cases);
    if !parts.is_empty() {
        sentence.push_str("，其中");
        sentence.push_str(&parts.join("；"));
    }
    sentence.push('。');
    sentence
}

fn rates_sentence(figures: &Figures, online: bool) -> String {
    let scope = if online { "网上信访" } else { "" };
    format!(
        "{scope}及时受理率{}，按期答复率{}，按期办结率{}，参评率{}，满意率{}，重复信访率{}，一次性化解率{}（统计口径{}）。",
        percent(figures.timely_acceptance.as_ref()),
        percent(figures.on_time_reply.as_ref()),
        percent(figures.on_time_completion.as_ref()),
        percent(figures.participation.as_ref()),
        percent(figures.satisfaction.as_ref()),
        percent(figures.repeat_rate.as_ref()),
        percent(figures.first_time_resolution.as_ref()),
        figures.formula_version,
    )
}

fn volume_sentence(figures: &Figures) -> String {
    let cases = split(figures.status.as_ref());
    let mut sentence = format!(
        "共登记信访{}件次、{}件，涉及群众{}人次；{}",
        figures.petitions,
        cases.cases,
        figures.person_times,
        outcome(&cases)
    );
    if figures.visit_batches > 0 {
        sentence.push_str(&format!(
            "。来访{}批{}人次，其中集体访{}批",
            figures.visit_batches, figures.visit_person_times, figures.collective_visit_batches
        ));
    }
    sentence.push('。');
    sentence
}

fn leader_cases(level: &str, cases: Option<&xinfang_proto::statistics::v1::LeaderCases>) -> String {
    let cases = cases.copied().unwrap_or_default();
    format!("{level}领导包案{}件，化解{}件", cases.owned, cases.resolved)
}

fn escalation(to: &str, counted: Option<&xinfang_proto::statistics::v1::Escalations>) -> String {
    match counted {
        Some(counted) if counted.batches > 0 => {
            format!("{to}{}批{}人次", counted.batches, counted.person_times)
        }
        _ => format!("无{to}"),
    }
}

fn letters(work: &WorkFigures, kinds: &[&str]) -> u64 {
    work.letters_by_kind
        .iter()
        .filter(|count| kinds.contains(&count.key.as_str()))
        .map(|count| count.cases)
        .sum()
}

/// The bureau's work in sentences: what the seed's summary states besides the cases.
fn work_paragraphs(work: &WorkFigures) -> Vec<String> {
    let supervised = split(work.assigned_or_supervised.as_ref());
    let watched = work.key_persons + work.key_groups;
    let owned = if watched > 0 && work.watch_entries_owned_by_leaders == watched {
        "均已落实领导包案".to_owned()
    } else {
        format!(
            "其中{}个已落实领导包案",
            work.watch_entries_owned_by_leaders
        )
    };
    vec![
        format!(
            "交(督)办件{}件，{}。",
            supervised.cases,
            outcome(&supervised)
        ),
        format!(
            "排查重点人员{}人、重点群体{}个，{owned}。",
            work.key_persons, work.key_groups
        ),
        format!(
            "市级党政领导接访下访{}次，接待群众{}人次，党政主要领导下访{}次。",
            work.reception_sessions,
            work.reception_person_times,
            work.visits_down_by_principal_leaders
        ),
        format!(
            "{}；{}；{}；{}。",
            leader_cases("省级", work.province_leader_cases.as_ref()),
            leader_cases("市(地)级", work.prefecture_leader_cases.as_ref()),
            leader_cases("市级", work.city_leader_cases.as_ref()),
            leader_cases("镇(街)级", work.town_leader_cases.as_ref()),
        ),
        format!(
            "开展督查{}次，下发交办督办函{}份、提醒预警函{}份。",
            work.inspections,
            letters(work, &["assignment", "supervision"]),
            letters(work, &["reminder", "warning"]),
        ),
        format!(
            "{}，{}，{}。",
            escalation("进京访", work.to_beijing.as_ref()),
            escalation("赴省访", work.to_province.as_ref()),
            escalation("赴市(地)访", work.to_prefecture.as_ref()),
        ),
    ]
}

fn title(inputs: &Inputs) -> String {
    let whose = match &inputs.units {
        None => String::new(),
        Some(units) if units.is_empty() => "（无所属单位）".to_owned(),
        Some(units) => {
            let names: Vec<&str> = units
                .iter()
                .map(|unit| inputs.unit_names.get(unit).unwrap_or(unit).as_str())
                .collect();
            format!("（{}）", names.join("、"))
        }
    };
    let what = match inputs.kind {
        Kind::WeeklyBrief => "信访要情",
        Kind::HalfYearSummary => "信访工作半年总结",
        Kind::Annual => "信访工作年度报告",
    };
    format!("{what}{whose}")
}

fn trend_chart(inputs: &Inputs) -> Chart {
    Chart {
        file: "trend.svg".to_owned(),
        title: "信访件数走势".to_owned(),
        bars: inputs.trend.clone(),
    }
}

fn by_unit_section(figures: &Figures, heading: &str) -> Section {
    Section {
        heading: heading.to_owned(),
        paragraphs: figures
            .by_unit
            .first()
            .map(|top| {
                let s = split(top.status.as_ref());
                vec![format!(
                    "{}件数最多，共{}件，{}。",
                    top.key,
                    s.cases,
                    outcome(&s)
                )]
            })
            .unwrap_or_default(),
        table: Some(status_table("责任单位", &figures.by_unit, same)),
        chart: Some(Chart {
            file: "units.svg".to_owned(),
            title: "各责任单位信访件数".to_owned(),
            bars: bars(&figures.by_unit, same, 10),
        }),
    }
}

fn overdue_units(figures: &Figures) -> Vec<String> {
    figures
        .by_unit
        .iter()
        .filter(|row| split(row.status.as_ref()).overdue > 0)
        .map(|row| format!("{}{}件", row.key, split(row.status.as_ref()).overdue))
        .collect()
}

/// "本周" for a week, "本期" for any other period.
fn this_period(figures: &Figures) -> &'static str {
    let week = crate::period::Period::parse(&figures.period)
        .is_ok_and(|period| period.last - period.first == time::Duration::days(6));
    if week { "本周" } else { "本期" }
}

fn weekly(inputs: &Inputs) -> Vec<Section> {
    let figures = &inputs.figures;
    let status = split(figures.status.as_ref());
    let this = this_period(figures);
    let mut attention = Vec::new();
    let overdue = overdue_units(figures);
    if !overdue.is_empty() {
        attention.push(format!(
            "{}件超期未办结（{}），请督促责任单位限期办理。",
            status.overdue,
            overdue.join("、")
        ));
    }
    if figures.collective_petitions > 0 {
        attention.push(format!(
            "集体访、联名信{}件次，请关注稳控。",
            figures.collective_petitions
        ));
    }
    if figures.skip_level_petitions > 0 {
        attention.push(format!(
            "越级访{}件次，请督促属地化解。",
            figures.skip_level_petitions
        ));
    }
    if attention.is_empty() {
        attention.push(format!("{this}无需领导特别关注的事项。"));
    }
    let mut supervision = vec![format!("{this}登记的信访件中超期{}件。", status.overdue)];
    if let Some(work) = &inputs.work {
        let supervised = split(work.assigned_or_supervised.as_ref());
        supervision.push(format!(
            "交(督)办件{}件，{}。",
            supervised.cases,
            outcome(&supervised)
        ));
    }
    vec![
        Section {
            heading: format!("{this}信访概况"),
            paragraphs: vec![volume_sentence(figures)],
            table: Some(status_table("来源", &figures.by_source, source_name)),
            chart: Some(Chart {
                file: "sources.svg".to_owned(),
                title: "按来源".to_owned(),
                bars: bars(&figures.by_source, source_name, 10),
            }),
        },
        Section {
            heading: "走势".to_owned(),
            chart: Some(trend_chart(inputs)),
            ..Section::default()
        },
        Section {
            heading: "反映的主要问题".to_owned(),
            table: Some(status_table("事项类别", &figures.by_category, same)),
            ..Section::default()
        },
        Section {
            heading: "热点地区".to_owned(),
            table: Some(status_table("属地", &figures.by_territory, same)),
            ..Section::default()
        },
        by_unit_section(figures, "热点单位"),
        Section {
            heading: "超期和督办".to_owned(),
            paragraphs: supervision,
            ..Section::default()
        },
        Section {
            heading: "集体访和越级访".to_owned(),
            paragraphs: vec![format!(
                "集体访、联名信{}件次，越级访{}件次。",
                figures.collective_petitions, figures.skip_level_petitions
            )],
            ..Section::default()
        },
        Section {
            heading: "需领导关注的事项".to_owned(),
            paragraphs: attention,
            ..Section::default()
        },
    ]
}

fn half_year(inputs: &Inputs) -> Vec<Section> {
    let mut sections = vec![
        Section {
            heading: "网上信访办理".to_owned(),
            paragraphs: vec![
                online_sentence(&inputs.online),
                rates_sentence(&inputs.online, true),
            ],
            table: Some(status_table("来源", &inputs.online.by_source, source_name)),
            chart: Some(Chart {
                file: "sources.svg".to_owned(),
                title: "网上信访按来源".to_owned(),
                bars: bars(&inputs.online.by_source, source_name, 10),
            }),
        },
        Section {
            heading: "信访总体情况".to_owned(),
            paragraphs: vec![
                volume_sentence(&inputs.figures),
                rates_sentence(&inputs.figures, false),
            ],
            table: Some(status_table(
                "渠道",
                &inputs.figures.by_channel,
                channel_name,
            )),
            chart: Some(trend_chart(inputs)),
        },
    ];
    if let Some(work) = &inputs.work {
        sections.push(Section {
            heading: "重点工作".to_owned(),
            paragraphs: work_paragraphs(work),
            ..Section::default()
        });
    }
    sections.push(by_unit_section(&inputs.figures, "各责任单位"));
    sections
}

/// The three categories most petitioned about.
fn problem_areas(figures: &Figures) -> Vec<String> {
    let top: Vec<String> = figures
        .by_category
        .iter()
        .take(3)
        .map(|row| format!("{}类{}件", row.key, split(row.status.as_ref()).cases))
        .collect();
    if top.is_empty() {
        return Vec::new();
    }
    vec![format!("反映较多的问题：{}。", top.join("，"))]
}

fn annual(inputs: &Inputs) -> Vec<Section> {
    let figures = &inputs.figures;
    let mut forwarding = vec![format!(
        "转送、交办至责任单位{}件（导入法定途径的不计）。",
        figures
            .by_unit
            .iter()
            .map(|row| split(row.status.as_ref()).cases)
            .sum::<u64>()
    )];
    if let Some(work) = &inputs.work {
        forwarding.extend(work_paragraphs(work));
    }
    vec![
        Section {
            heading: "信访统计".to_owned(),
            paragraphs: vec![
                volume_sentence(figures),
                online_sentence(&inputs.online),
                rates_sentence(figures, false),
            ],
            table: Some(status_table("来源", &figures.by_source, source_name)),
            chart: Some(trend_chart(inputs)),
        },
        Section {
            heading: "信访来源".to_owned(),
            chart: Some(Chart {
                file: "sources.svg".to_owned(),
                title: "按来源".to_owned(),
                bars: bars(&figures.by_source, source_name, 10),
            }),
            ..Section::default()
        },
        Section {
            heading: "信访反映的主要问题领域".to_owned(),
            paragraphs: problem_areas(figures),
            table: Some(status_table("事项类别", &figures.by_category, same)),
            chart: Some(Chart {
                file: "categories.svg".to_owned(),
                title: "主要问题领域".to_owned(),
                bars: bars(&figures.by_category, same, 10),
            }),
        },
        // The units handling the most cases: routing never gives a case to its accused unit,
        // so these are not "the units complained about".
        by_unit_section(figures, "信访件数较多的责任单位"),
        Section {
            heading: "转送、交办、督办情况".to_owned(),
            paragraphs: forwarding,
            table: Some(status_table("依法分类", &figures.by_track, track_name)),
            ..Section::default()
        },
    ]
}

/// 一、二、三…: numbered once the sections a report leaves out are out.
fn numbered(sections: Vec<Section>) -> Vec<Section> {
    const NUMERALS: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
    sections
        .into_iter()
        .enumerate()
        .map(|(n, section)| Section {
            heading: format!(
                "{}、{}",
                NUMERALS.get(n).copied().unwrap_or("…"),
                section.heading
            ),
            ..section
        })
        .collect()
}

pub fn write(inputs: &Inputs) -> Report {
    let inputs = &Inputs {
        figures: named(&inputs.figures, &inputs.unit_names),
        online: named(&inputs.online, &inputs.unit_names),
        ..inputs.clone()
    };
    let figures = &inputs.figures;
    let as_of = figures
        .as_of
        .as_ref()
        .and_then(|at| xinfang_platform::wire::from_timestamp(Some(at)).ok())
        .map(|at| xinfang_platform::wire::china_date(at).to_string())
        .unwrap_or_default();
    Report {
        title: title(inputs),
        subtitle: format!(
            "统计期间 {}，数据截至 {as_of}，统计口径 {}",
            figures.period, figures.formula_version
        ),
        sections: numbered(match inputs.kind {
            Kind::WeeklyBrief => weekly(inputs),
            Kind::HalfYearSummary => half_year(inputs),
            Kind::Annual => annual(inputs),
        }),
    }
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
