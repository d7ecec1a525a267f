use std::collections::BTreeMap;

use xinfang_proto::statistics::v1::{Count, Escalations, LeaderCases};

use super::*;
use crate::render;

/// Every case in deadline accepted.
fn split(cases: u64, done: u64, overdue: u64) -> Option<StatusSplit> {
    Some(StatusSplit {
        cases,
        done,
        in_deadline: cases - done - overdue,
        overdue,
        in_deadline_accepted: cases - done - overdue,
    })
}

fn row(key: &str, status: Option<StatusSplit>) -> Breakdown {
    Breakdown {
        key: key.to_owned(),
        status,
    }
}

fn rate(numerator: u64, denominator: u64) -> Option<Rate> {
    Some(Rate {
        numerator,
        denominator,
        basis_points: (denominator > 0)
            .then(|| u32::try_from(numerator * 10_000 / denominator).unwrap_or(0)),
        ..Rate::default()
    })
}

/// The seed's half-year, as statistics would state it.
fn seed() -> Inputs {
    let online = Figures {
        period: "2026-01-01..2026-06-30".into(),
        formula_version: "v1".into(),
        status: split(212, 177, 0),
        by_source: vec![
            row("national", split(107, 86, 0)),
            row("provincial", split(51, 43, 0)),
            row("local", split(49, 43, 0)),
            row("prefecture", split(5, 5, 0)),
        ],
        timely_acceptance: rate(212, 212),
        on_time_reply: rate(177, 177),
        ..Figures::default()
    };
    let work = WorkFigures {
        assigned_or_supervised: split(24, 14, 0),
        key_persons: 91,
        key_groups: 33,
        watch_entries_owned_by_leaders: 124,
        reception_sessions: 78,
        reception_person_times: 922,
        visits_down_by_principal_leaders: 7,
        province_leader_cases: Some(LeaderCases {
            owned: 3,
            resolved: 1,
        }),
        prefecture_leader_cases: Some(LeaderCases {
            owned: 3,
            resolved: 2,
        }),
        inspections: 14,
        letters_by_kind: vec![Count {
            key: "supervision".into(),
            cases: 45,
        }],
        to_beijing: Some(Escalations {
            batches: 2,
            person_times: 5,
        }),
        ..WorkFigures::default()
    };
    Inputs {
        kind: Kind::HalfYearSummary,
        units: None,
        figures: online.clone(),
        online,
        work: Some(work),
        trend: vec![("2026-01".into(), 30), ("2026-02".into(), 25)],
        unit_names: BTreeMap::from([("zhaocun".to_owned(), "赵村镇".to_owned())]),
    }
}

fn text(report: &Report) -> String {
    report
        .sections
        .iter()
        .flat_map(|section| section.paragraphs.iter().cloned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_half_year_summary_states_the_seeds_figures_in_a_bureaus_sentences() {
    let report = write(&seed());
    let said = text(&report);
    for sentence in [
        "共接收转送交办网上信访件212件，其中国家信访局转送交办107件，办结86件，剩余21件均已受理并在办理期限内；\
         省信访局转送交办51件，办结43件，剩余8件均已受理并在办理期限内；市(地)信访局转送交办5件，已全部办结5件；\
         本级平台受理49件，办结43件，剩余6件均已受理并在办理期限内。",
        "网上信访及时受理率100%，按期答复率100%",
        "交(督)办件24件，办结14件，剩余10件均已受理并在办理期限内。",
        "排查重点人员91人、重点群体33个，均已落实领导包案。",
        "市级党政领导接访下访78次，接待群众922人次，党政主要领导下访7次。",
        "省级领导包案3件，化解1件；市(地)级领导包案3件，化解2件",
        "开展督查14次，下发交办督办函45份、提醒预警函0份。",
        "进京访2批5人次，无赴省访，无赴市(地)访。",
    ] {
        assert!(said.contains(sentence), "missing {sentence:?} in\n{said}");
    }
    assert_eq!(report.title, "信访工作半年总结");
    assert!(
        report.subtitle.contains("统计口径 v1"),
        "{}",
        report.subtitle
    );
}

#[test]
fn overdue_cases_are_said_so_and_brought_to_a_leaders_attention() {
    let mut inputs = seed();
    inputs.kind = Kind::WeeklyBrief;
    inputs.figures.status = split(10, 4, 2);
    inputs.figures.by_unit = vec![
        row("zhaocun", split(6, 2, 2)),
        row("dongcheng", split(4, 2, 0)),
    ];
    inputs.figures.skip_level_petitions = 1;
    let said = text(&write(&inputs));
    assert!(
        said.contains("办结4件，剩余6件中4件在办理期限内（其中已受理4件）、2件已超期"),
        "{said}"
    );
    assert!(
        said.contains("2件超期未办结（赵村镇2件），请督促责任单位限期办理。"),
        "{said}"
    );
    assert!(said.contains("越级访1件次，请督促属地化解。"), "{said}");
    // A quiet week says so; nothing at all is "无", not "已全部办结0件".
    let mut quiet = seed();
    quiet.kind = Kind::WeeklyBrief;
    quiet.figures.period = "2026-03-02..2026-03-08".into();
    quiet.figures.status = split(0, 0, 0);
    let said = text(&write(&quiet));
    assert!(said.contains("本周无需领导特别关注的事项。"), "{said}");
    assert!(
        said.contains("共登记信访0件次、0件，涉及群众0人次；无。"),
        "{said}"
    );
    // Accepted or not, the rest is said as it is.
    let partly = StatusSplit {
        cases: 5,
        done: 2,
        in_deadline: 3,
        overdue: 0,
        in_deadline_accepted: 1,
    };
    assert_eq!(
        outcome(&partly),
        "办结2件，剩余3件均在办理期限内（其中已受理1件）"
    );
}

#[test]
fn a_units_report_is_titled_for_it_and_leaves_out_the_bureaus_work() {
    let mut inputs = seed();
    inputs.units = Some(vec!["zhaocun".into()]);
    inputs.work = None;
    let report = write(&inputs);
    assert_eq!(report.title, "信访工作半年总结（赵村镇）");
    assert!(!text(&report).contains("重点人员"));
    // Numbered without the section it leaves out.
    let headings: Vec<&str> = report.sections.iter().map(|s| s.heading.as_str()).collect();
    assert_eq!(
        headings,
        ["一、网上信访办理", "二、信访总体情况", "三、各责任单位"]
    );
}

#[test]
fn a_rate_is_written_as_a_bureau_does_and_none_when_nothing_was_due() {
    let points = |basis_points| Rate {
        basis_points,
        ..Rate::default()
    };
    assert_eq!(percent(Some(&points(Some(10_000)))), "100%");
    assert_eq!(percent(Some(&points(Some(9_750)))), "97.5%");
    assert_eq!(percent(Some(&points(Some(3_333)))), "33.33%");
    assert_eq!(percent(Some(&points(None))), "—");
}

#[test]
fn the_written_report_is_markdown_with_svg_charts_a_csv_and_a_word_document() {
    let report = write(&seed());
    let files = render::markdown(&report);
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        ["report.md", "sources.svg", "trend.svg", "units.svg"]
    );
    let markdown = String::from_utf8(files[0].content.clone()).expect("UTF-8");
    assert!(markdown.starts_with("# 信访工作半年总结\n"), "{markdown}");
    assert!(markdown.contains("![网上信访按来源](sources.svg)"));
    assert!(
        markdown.contains("| 国家信访局 | 107 | 86 | 21 | 0 |"),
        "{markdown}"
    );
    let chart = String::from_utf8(files[1].content.clone()).expect("UTF-8");
    assert!(chart.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(chart.contains(">国家信访局</text>") && chart.contains(">107</text>"));

    let csv = render::csv(&report).expect("csv");
    let csv = String::from_utf8(csv.content).expect("UTF-8");
    assert!(csv.starts_with('\u{feff}'));
    assert!(
        csv.contains("一、网上信访办理,国家信访局,107,86,21,0"),
        "{csv}"
    );

    let word = render::docx(&report).expect("docx");
    // A Word document that reads back, its text in the Chinese fonts named.
    let read = docx_rs::read_docx(&word.content).expect("a readable document");
    let json = read.json();
    assert!(
        json.contains("宋体") && json.contains("黑体"),
        "fonts not named"
    );
    assert!(
        json.contains("市级党政领导接访下访78次"),
        "the text is not in it"
    );
}

#[test]
fn a_label_with_markup_is_escaped_in_a_chart() {
    let chart = Chart {
        file: "x.svg".into(),
        title: "<b>".into(),
        bars: vec![("a&b".into(), 3)],
    };
    let svg = render::svg(&chart);
    assert!(svg.contains("&lt;b&gt;") && svg.contains("a&amp;b") && !svg.contains("<b>"));
}
