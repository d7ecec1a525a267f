//! The routing rules (属地管理、分级负责，谁主管、谁负责; Art 22, 29–31): which unit handles
//! a case, on which legal track, and why. Pure: a case and the directory in, a decision out.

use xinfang_proto::v1::UpstreamDisposition;

use crate::directory::{Directory, Handler, LegalTrack, UnitKind};

pub use xinfang_proto::vocabulary::{Disposition, UNCLASSIFIED};

/// What routing needs to know about a case to route it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseToRoute<'a> {
    pub territory: &'a str,
    pub matter_category: &'a str,
    /// For an accusation: the unit accused, which must never receive the case (Art 30).
    pub accused_unit: Option<&'a str>,
    pub upstream: Option<UpstreamDisposition>,
    /// The case whose matter this repeats, final after re-review (Art 36).
    pub repeats_final_case: Option<&'a str>,
    /// The first case of the matter this petition repeats (重复信访).
    pub repeat_of_case: Option<&'a str>,
    /// The unit at whose own desk it was registered (首接首办).
    pub registered_at_unit: Option<&'a str>,
    /// For a petition a higher bureau sent down: the case of the same matter intake
    /// proposes it be linked into (one case, many upstreams).
    pub proposed_link: Option<&'a str>,
    /// The case a clerk already linked it into: handled there.
    pub linked_into: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub unit_code: String,
    pub disposition: Disposition,
    /// `None` when the matter category is unknown: a clerk classifies it.
    pub track: Option<LegalTrack>,
    /// Which rule decided, e.g. `category:housing/unit`.
    pub rule: String,
    pub reason: String,
    /// For a diversion: the written guidance notice to the petitioner.
    pub guidance_notice: String,
}

pub fn route(case: &CaseToRoute<'_>, directory: &Directory) -> Decision {
    let triage = |rule: &str, track: Option<LegalTrack>, reason: String| Decision {
        unit_code: directory.bureau.as_str().to_owned(),
        disposition: Disposition::Triage,
        track,
        rule: rule.to_owned(),
        reason,
        guidance_notice: String::new(),
    };
    if let Some(final_case) = case.repeats_final_case {
        return triage(
            "final-matter",
            directory
                .category(case.matter_category)
                .map(|category| category.track),
            format!(
                "repeats case {final_case}, final after re-review (Art 36): not accepted again; the bureau answers the petitioner"
            ),
        );
    }
    if let Some(carrier) = case.linked_into {
        return triage(
            "linked",
            None,
            format!(
                "linked into case {carrier}, which carries the matter and answers to each higher bureau: not handled on its own"
            ),
        );
    }
    if let Some(carrier) = case.proposed_link {
        return triage(
            "upstream-link",
            directory
                .category(case.matter_category)
                .map(|category| category.track),
            format!(
                "a higher bureau sent down what looks like the matter of case {carrier}: a clerk links it into that case (one case, many upstreams) or routes it as a matter of its own"
            ),
        );
    }
    if let Some(first) = case.repeat_of_case {
        return triage(
            "repeat",
            directory
                .category(case.matter_category)
                .map(|category| category.track),
            format!(
                "repeats case {first} (重复信访): linked to it, not handed to a unit a second time; a clerk answers the petitioner, or routes it if it is a new matter"
            ),
        );
    }
    let Some(category) = directory.category(case.matter_category) else {
        return triage(
            "unknown-category",
            None,
            format!(
                "matter category {:?} is not in category table {}; a clerk routes it",
                case.matter_category, directory.version
            ),
        );
    };
    let rule_for = |how: &str| format!("category:{}/{how}", category.code.as_str());
    let (unit, rule, why) = match &category.handled_by {
        Handler::Unit(unit) => (
            unit.as_str(),
            rule_for("unit"),
            format!("{} is handled by its competent unit", category.name),
        ),
        Handler::Territory => match territorial_unit(case.territory, directory) {
            Some(unit) => (
                unit,
                rule_for("territory"),
                format!("{} is handled where it arose", category.name),
            ),
            None => {
                return triage(
                    &rule_for("territory"),
                    Some(category.track),
                    format!(
                        "territory {:?} is not a town, street, village or community in service in directory {}; a clerk routes it",
                        case.territory, directory.version
                    ),
                );
            }
        },
    };
    if let Some(accused) = case.accused_unit
        && directory.unit(accused).is_none()
    {
        // A mistyped code would let the case reach the very unit it accuses (Art 30, 46):
        // a person checks who is accused before it goes anywhere.
        return triage(
            "unknown-accused-unit",
            Some(category.track),
            format!(
                "the accused unit {accused:?} is not in directory {}; a clerk checks who is accused and routes it",
                directory.version
            ),
        );
    }
    if let Some(accused) = case.accused_unit
        && directory.is_within(unit, accused)
    {
        // Never to the accused, nor to a unit under it (Art 30): a person decides where else.
        return triage(
            &rule_for("accused-withheld"),
            Some(category.track),
            format!(
                "{unit} is or lies under the accused unit {accused}; a clerk routes it to an organ with authority over the accused"
            ),
        );
    }
    // A matter for a statutory channel is diverted there with a guidance notice (导入法定
    // 途径, Art 31), whoever sent it down: it is not a forwarded case.
    if category.track == LegalTrack::StatutoryChannel {
        let channel = directory.unit(unit).map_or(unit, |u| u.name.as_str());
        return Decision {
            unit_code: unit.to_owned(),
            disposition: Disposition::Divert,
            track: Some(category.track),
            rule: rule_for("divert"),
            reason: format!(
                "{} is for a statutory channel: diverted to {unit}",
                category.name
            ),
            guidance_notice: guidance_notice(&category.name, channel, &category.legal_basis),
        };
    }
    if let Some(desk) = first_contact_unit(case, directory, category.track, unit) {
        return Decision {
            unit_code: desk.to_owned(),
            disposition: Disposition::Forward,
            track: Some(category.track),
            rule: "first-contact".to_owned(),
            reason: format!(
                "registered at {desk}'s own desk (首接首办) and arising in its territory: {desk} handles it (by category it would go to {unit})"
            ),
            guidance_notice: String::new(),
        };
    }
    let disposition = match case.upstream {
        Some(UpstreamDisposition::Assigned) => Disposition::Assign,
        _ => Disposition::Forward,
    };
    Decision {
        unit_code: unit.to_owned(),
        disposition,
        track: Some(category.track),
        rule,
        reason: format!("{why}: {unit}"),
        guidance_notice: String::new(),
    }
}

/// The town or street that registered the case at its own desk (首接首办), when it keeps a
/// matter the rules would send to a department: an appeal or suggestion (never an
/// accusation, Art 30) that arose in its own territory (属地管理), not assigned down by a
/// higher bureau (交办 keeps its deadline), the desk in service and neither accused nor
/// under the accused. Otherwise the rules' unit handles it, as for any petition.
fn first_contact_unit<'a>(
    case: &CaseToRoute<'a>,
    directory: &Directory,
    track: LegalTrack,
    competent: &str,
) -> Option<&'a str> {
    let desk = case.registered_at_unit?;
    let unit = directory.unit(desk).filter(|unit| !unit.retired)?;
    let town_or_street = matches!(unit.kind, UnitKind::Town | UnitKind::Street);
    let own_territory = territorial_unit(case.territory, directory) == Some(desk);
    let handled_at_desk = matches!(track, LegalTrack::Appeal | LegalTrack::Suggestion);
    let assigned = case.upstream == Some(UpstreamDisposition::Assigned);
    let accused = case
        .accused_unit
        .is_some_and(|accused| directory.is_within(desk, accused));
    (town_or_street
        && own_territory
        && handled_at_desk
        && !assigned
        && !accused
        && desk != competent)
        .then_some(desk)
}

/// The written guidance notice of a diversion: which channel, on which legal basis. No
/// personal data: it travels on the event.
pub fn guidance_notice(matter: &str, channel: &str, legal_basis: &str) -> String {
    format!(
        "您反映的“{matter}”事项，依法应当通过法定途径解决，请向{channel}依照法定程序提出。依据：{legal_basis}。"
    )
}

/// The town or street responsible for a place: the place itself, or the town or street a
/// village or community belongs to.
fn territorial_unit<'a>(territory: &str, directory: &'a Directory) -> Option<&'a str> {
    directory
        .lineage(territory)
        .take_while(|unit| {
            matches!(
                unit.kind,
                UnitKind::Town | UnitKind::Street | UnitKind::Village | UnitKind::Community
            )
        })
        .find(|unit| matches!(unit.kind, UnitKind::Town | UnitKind::Street))
        .filter(|unit| !unit.retired)
        .map(|unit| unit.code.as_str())
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
