//! A report written out: Markdown with its charts as SVG beside it, CSV of its tables, and
//! an editable Word document with its Chinese fonts named.

use std::fmt::Write as _;
use std::io::Cursor;

use docx_rs::{Docx, Paragraph, Run, RunFonts, Table as WordTable, TableCell, TableRow};

use crate::report::{Chart, Report, Table};

/// A file of a written report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub name: String,
    pub media_type: &'static str,
    pub content: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    #[error("docx: {0}")]
    Docx(#[from] docx_rs::DocxError),
    /// The writer could not hand back its buffer (only the error is kept).
    #[error("csv: {0}")]
    Buffer(std::io::Error),
}

/// `&`, `<`, `>` and quotes, for SVG text.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A horizontal bar chart: one bar per label, its number at its end.
pub fn svg(chart: &Chart) -> String {
    const WIDTH: u64 = 640;
    const LABEL: u64 = 160;
    const BAR: u64 = 24;
    const GAP: u64 = 8;
    const TOP: u64 = 40;
    let rows = u64::try_from(chart.bars.len()).unwrap_or(0);
    let height = TOP + rows * (BAR + GAP) + GAP;
    let largest = chart.bars.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let room = WIDTH - LABEL - 60;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" font-family=\"SimSun, 宋体, sans-serif\" font-size=\"14\">\n\
         <title>{title}</title>\n\
         <text x=\"{x}\" y=\"24\" font-size=\"16\" font-family=\"SimHei, 黑体, sans-serif\" text-anchor=\"middle\">{title}</text>\n",
        title = escaped(&chart.title),
        x = WIDTH / 2,
    );
    for (row, (label, value)) in (0u64..).zip(&chart.bars) {
        let y = TOP + row * (BAR + GAP);
        let width = value * room / largest;
        let _ = write!(
            out,
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{label}</text>\n\
             <rect x=\"{LABEL}\" y=\"{y}\" width=\"{width}\" height=\"{BAR}\" fill=\"#c0392b\"/>\n\
             <text x=\"{vx}\" y=\"{ty}\">{value}</text>\n",
            lx = LABEL - 8,
            ty = y + BAR - 7,
            label = escaped(label),
            vx = LABEL + width + 6,
        );
    }
    out.push_str("</svg>\n");
    out
}

fn markdown_table(table: &Table, out: &mut String) {
    let cell = |text: &str| text.replace('|', "\\|");
    let _ = writeln!(
        out,
        "| {} |",
        table
            .header
            .iter()
            .map(|h| cell(h))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(out, "|{}", "---|".repeat(table.header.len()));
    for row in &table.rows {
        let _ = writeln!(
            out,
            "| {} |",
            row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
        );
    }
    out.push('\n');
}

/// `report.md` and a `.svg` beside it for each chart it shows.
pub fn markdown(report: &Report) -> Vec<File> {
    let mut out = format!("# {}\n\n{}\n\n", report.title, report.subtitle);
    let mut charts = Vec::new();
    for section in &report.sections {
        if !section.heading.is_empty() {
            let _ = writeln!(out, "## {}\n", section.heading);
        }
        for paragraph in &section.paragraphs {
            let _ = writeln!(out, "{paragraph}\n");
        }
        if let Some(chart) = &section.chart {
            let _ = writeln!(out, "![{}]({})\n", chart.title, chart.file);
            charts.push(File {
                name: chart.file.clone(),
                media_type: "image/svg+xml",
                content: svg(chart).into_bytes(),
            });
        }
        if let Some(table) = &section.table {
            markdown_table(table, &mut out);
        }
    }
    let mut files = vec![File {
        name: "report.md".to_owned(),
        media_type: "text/markdown; charset=utf-8",
        content: out.into_bytes(),
    }];
    files.extend(charts);
    files
}

/// Every table of the report, each row led by its section; a UTF-8 byte-order mark first, so
/// a spreadsheet opens the Chinese right.
pub fn csv(report: &Report) -> Result<File, RenderError> {
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    for section in &report.sections {
        let Some(table) = &section.table else {
            continue;
        };
        let mut header = vec![section.heading.clone()];
        header.extend(table.header.iter().cloned());
        writer.write_record(&header)?;
        for row in &table.rows {
            let mut record = vec![section.heading.clone()];
            record.extend(row.iter().cloned());
            writer.write_record(&record)?;
        }
    }
    Ok(File {
        name: "report.csv".to_owned(),
        media_type: "text/csv; charset=utf-8",
        content: writer
            .into_inner()
            .map_err(|error| RenderError::Buffer(error.into_error()))?,
    })
}

/// 宋体 for the text, 黑体 for the headings: the fonts a bureau's documents use.
const BODY_FONT: &str = "宋体";
const HEADING_FONT: &str = "黑体";

fn run(text: &str, font: &str, half_points: usize) -> Run {
    Run::new()
        .add_text(text)
        .fonts(RunFonts::new().east_asia(font).ascii(font).hi_ansi(font))
        .size(half_points)
}

/// An editable Word document: the title, the sections' sentences and tables. Charts stay in
/// the Markdown's SVG files (a Word document would need them as pictures).
pub fn docx(report: &Report) -> Result<File, RenderError> {
    let mut document = Docx::new()
        .default_fonts(RunFonts::new().east_asia(BODY_FONT).ascii(BODY_FONT))
        .add_paragraph(
            Paragraph::new()
                .align(docx_rs::AlignmentType::Center)
                .add_run(run(&report.title, HEADING_FONT, 44).bold()),
        )
        .add_paragraph(
            Paragraph::new()
                .align(docx_rs::AlignmentType::Center)
                .add_run(run(&report.subtitle, BODY_FONT, 24)),
        );
    for section in &report.sections {
        if !section.heading.is_empty() {
            document = document.add_paragraph(Paragraph::new().add_run(run(
                &section.heading,
                HEADING_FONT,
                32,
            )));
        }
        for paragraph in &section.paragraphs {
            document =
                document.add_paragraph(Paragraph::new().add_run(run(paragraph, BODY_FONT, 32)));
        }
        if let Some(table) = &section.table {
            let row = |cells: &[String]| {
                TableRow::new(
                    cells
                        .iter()
                        .map(|text| {
                            TableCell::new()
                                .add_paragraph(Paragraph::new().add_run(run(text, BODY_FONT, 24)))
                        })
                        .collect(),
                )
            };
            let mut rows = vec![row(&table.header)];
            rows.extend(table.rows.iter().map(|cells| row(cells)));
            document = document.add_table(WordTable::new(rows));
        }
    }
    let mut content = Cursor::new(Vec::new());
    document
        .build()
        .pack(&mut content)
        .map_err(docx_rs::DocxError::from)?;
    Ok(File {
        name: "report.docx".to_owned(),
        media_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        content: content.into_inner(),
    })
}
