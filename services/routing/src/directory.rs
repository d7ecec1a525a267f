//! The organisation directory routing decides by: the units (with their place in the
//! organisation tree) and the versioned table of matter categories. A document (TOML in the
//! file read at the first start, JSON in the database after) checked whole: a directory
//! with a mistake is refused with every mistake listed, never half-loaded. Every
//! administrator's change is a new document checked the same way.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use xinfang_proto::codes::DirectoryCode;
pub use xinfang_proto::vocabulary::{LegalTrack, UnitKind};

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("read the directory {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the directory is not valid TOML: {0}")]
    Syntax(#[from] toml::de::Error),
    #[error("the directory has {} mistake(s): {}", .0.len(), .0.join("; "))]
    Invalid(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub code: DirectoryCode,
    pub name: String,
    pub kind: UnitKind,
    pub parent: Option<DirectoryCode>,
    /// Kept because cases name it; sent no new case.
    pub retired: bool,
}

impl Unit {
    pub fn to_proto(&self) -> xinfang_proto::v1::Unit {
        xinfang_proto::v1::Unit {
            code: self.code.to_string(),
            name: self.name.clone(),
            kind: self.kind.to_proto().into(),
            parent_code: self
                .parent
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            retired: self.retired,
        }
    }
}

/// Who handles a matter category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handler {
    /// The town or street where the matter arose (属地管理).
    Territory,
    /// One named unit (谁主管、谁负责).
    Unit(DirectoryCode),
}

#[derive(Debug, Clone, PartialEq)]
pub struct MatterCategory {
    pub code: DirectoryCode,
    pub name: String,
    pub track: LegalTrack,
    pub handled_by: Handler,
    /// The provision a diversion's guidance notice cites (statutory-channel categories).
    pub legal_basis: String,
}

/// What a guidance notice cites when a category names no provision of its own.
pub const DEFAULT_DIVERSION_BASIS: &str = "《信访工作条例》第三十一条";

#[derive(Debug, Clone)]
pub struct Directory {
    /// The units' version and the category table's, e.g. `xingping-2026-11/2026.1`.
    pub version: String,
    pub bureau: DirectoryCode,
    /// The stored revision of the units (1: loaded from the file); 0 when not stored.
    pub revision: i32,
    /// When the category table took effect; `None` when not stored.
    pub table_effective_at: Option<OffsetDateTime>,
    units: BTreeMap<String, Unit>,
    categories: HashMap<String, MatterCategory>,
    document: DirectoryDocument,
}

impl Directory {
    pub fn load(path: &Path) -> Result<Self, DirectoryError> {
        let text = std::fs::read_to_string(path).map_err(|source| DirectoryError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Self, DirectoryError> {
        let file: DirectoryDocument = toml::from_str(text)?;
        file.check()
    }

    /// The document this directory was checked from: what an administrator's change edits.
    pub fn document(&self) -> &DirectoryDocument {
        &self.document
    }

    /// The units' version alone (the part before the `/`).
    pub fn units_version(&self) -> &str {
        &self.document.version
    }

    /// The category table's version alone.
    pub fn table_version(&self) -> &str {
        &self.document.categories.version
    }

    pub fn unit(&self, code: &str) -> Option<&Unit> {
        self.units.get(code)
    }

    pub fn category(&self, code: &str) -> Option<&MatterCategory> {
        self.categories.get(code)
    }

    /// Every matter category, ordered by code.
    pub fn categories(&self) -> Vec<&MatterCategory> {
        let mut all: Vec<&MatterCategory> = self.categories.values().collect();
        all.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
        all
    }

    /// Every unit, ordered by code.
    pub fn units(&self) -> impl Iterator<Item = &Unit> {
        self.units.values()
    }

    /// The unit itself, then its parent, up to the top of the tree.
    pub fn lineage<'a>(&'a self, code: &str) -> impl Iterator<Item = &'a Unit> + 'a {
        std::iter::successors(self.unit(code), |unit| {
            unit.parent
                .as_ref()
                .and_then(|parent| self.unit(parent.as_str()))
        })
    }

    /// The codes from the top of the tree down to `code` (empty for an unknown unit).
    pub fn path(&self, code: &str) -> Vec<String> {
        let mut path: Vec<String> = self
            .lineage(code)
            .map(|unit| unit.code.to_string())
            .collect();
        path.reverse();
        path
    }

    /// Whether `unit` is `ancestor` or lies under it.
    pub fn is_within(&self, unit: &str, ancestor: &str) -> bool {
        self.lineage(unit).any(|u| u.code.as_str() == ancestor)
    }
}

/// A directory as written: the file's form, and what the database keeps of each revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryDocument {
    pub version: String,
    pub bureau: String,
    pub units: Vec<UnitEntry>,
    pub categories: CategoryTable,
}

impl DirectoryDocument {
    /// A document of stored units and a stored category table.
    pub fn from_parts(units: UnitsDocument, categories: CategoryTable) -> Self {
        Self {
            version: units.version,
            bureau: units.bureau,
            units: units.units,
            categories,
        }
    }

    /// The units' part, as the database keeps each revision.
    pub fn units_part(&self) -> UnitsDocument {
        UnitsDocument {
            version: self.version.clone(),
            bureau: self.bureau.clone(),
            units: self.units.clone(),
        }
    }
}

/// The units of a directory without its category table: one revision of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitsDocument {
    pub version: String,
    pub bureau: String,
    pub units: Vec<UnitEntry>,
}

impl UnitEntry {
    pub fn of(unit: &Unit) -> Self {
        Self {
            code: unit.code.to_string(),
            name: unit.name.clone(),
            kind: unit.kind.code().to_owned(),
            parent: unit.parent.as_ref().map(ToString::to_string),
            retired: unit.retired,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitEntry {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retired: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryTable {
    pub version: String,
    #[serde(default)]
    pub entries: Vec<CategoryEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryEntry {
    pub code: String,
    pub name: String,
    pub track: String,
    /// A unit's code, or `territory` (where the matter arose).
    pub handled_by: String,
    pub legal_basis: Option<String>,
}

fn unit_kind(text: &str) -> Option<UnitKind> {
    UnitKind::from_code(text)
}

fn legal_track(text: &str) -> Option<LegalTrack> {
    LegalTrack::from_code(text)
}

/// Units that can be sent a case to handle: not the bureau itself, not a higher bureau.
fn can_handle(kind: UnitKind) -> bool {
    !matches!(kind, UnitKind::Bureau | UnitKind::HigherBureau)
}

impl DirectoryDocument {
    /// Checks the whole document: every mistake listed, or the directory it describes.
    pub fn check(self) -> Result<Directory, DirectoryError> {
        let mut mistakes = Vec::new();
        let mut code = |text: &str, what: &str| match DirectoryCode::parse(text) {
            Ok(code) => Some(code),
            Err(why) => {
                mistakes.push(format!("{what} {text:?} {why}"));
                None
            }
        };
        let mut units = BTreeMap::new();
        let mut entries = Vec::new();
        for entry in &self.units {
            let parsed = code(&entry.code, "unit code");
            let parent = entry.parent.as_deref().map(|p| code(p, "parent code"));
            entries.push((entry, parsed, parent));
        }
        let bureau = code(&self.bureau, "bureau code");
        let mut categories = HashMap::new();
        let mut category_entries = Vec::new();
        for entry in &self.categories.entries {
            let parsed = code(&entry.code, "category code");
            let handler = match entry.handled_by.as_str() {
                "territory" => Some(Handler::Territory),
                other => code(other, "handled_by").map(Handler::Unit),
            };
            category_entries.push((entry, parsed, handler));
        }

        for (entry, parsed, parent) in entries {
            let kind = unit_kind(&entry.kind);
            if kind.is_none() {
                mistakes.push(format!(
                    "unit {:?} has unknown kind {:?}",
                    entry.code, entry.kind
                ));
            }
            if entry.name.trim().is_empty() {
                mistakes.push(format!("unit {:?} has no name", entry.code));
            }
            if let (Some(code), Some(kind), parent) = (parsed, kind, parent) {
                let unit = Unit {
                    code: code.clone(),
                    name: entry.name.clone(),
                    kind,
                    parent: parent.flatten(),
                    retired: entry.retired,
                };
                if units.insert(code.as_str().to_owned(), unit).is_some() {
                    mistakes.push(format!("unit {:?} is listed twice", entry.code));
                }
            }
        }
        for unit in units.values() {
            match unit.parent.as_ref().map(|p| (p, units.get(p.as_str()))) {
                Some((parent, None)) => mistakes.push(format!(
                    "unit {:?} names unknown parent {:?}",
                    unit.code.as_str(),
                    parent.as_str()
                )),
                Some((parent, Some(found))) if found.retired && !unit.retired => {
                    mistakes.push(format!(
                        "unit {:?} lies under {:?}, which is retired: move or retire it first",
                        unit.code.as_str(),
                        parent.as_str()
                    ));
                }
                _ => {}
            }
        }
        // A cycle would make every walk up the tree endless.
        for unit in units.values() {
            let mut seen = 0;
            let mut at = unit.parent.as_ref();
            while let Some(parent) = at {
                seen += 1;
                if seen > units.len() {
                    mistakes.push(format!("unit {:?} is its own ancestor", unit.code.as_str()));
                    break;
                }
                at = units.get(parent.as_str()).and_then(|p| p.parent.as_ref());
            }
        }
        match &bureau {
            Some(bureau)
                if units
                    .get(bureau.as_str())
                    .is_none_or(|u| u.kind != UnitKind::Bureau || u.retired) =>
            {
                mistakes.push(format!(
                    "bureau {:?} is not a unit of kind bureau",
                    bureau.as_str()
                ));
            }
            _ => {}
        }

        for entry in &self.categories.entries {
            if entry.name.trim().is_empty() {
                mistakes.push(format!("category {:?} has no name", entry.code));
            }
        }
        for (entry, parsed, handler) in category_entries {
            let track = legal_track(&entry.track);
            if track.is_none() {
                mistakes.push(format!(
                    "category {:?} has unknown track {:?}",
                    entry.code, entry.track
                ));
            }
            if let Some(Handler::Unit(unit)) = &handler {
                match units.get(unit.as_str()) {
                    None => mistakes.push(format!(
                        "category {:?} is handled by unknown unit {:?}",
                        entry.code,
                        unit.as_str()
                    )),
                    Some(found) if !can_handle(found.kind) => mistakes.push(format!(
                        "category {:?} is handled by {:?}, which does not handle cases",
                        entry.code,
                        unit.as_str()
                    )),
                    Some(found) if found.retired => mistakes.push(format!(
                        "category {:?} is handled by {:?}, which is retired",
                        entry.code,
                        unit.as_str()
                    )),
                    Some(_) => {}
                }
            }
            if let (Some(code), Some(track), Some(handled_by)) = (parsed, track, handler) {
                let category = MatterCategory {
                    code: code.clone(),
                    name: entry.name.clone(),
                    track,
                    handled_by,
                    legal_basis: entry
                        .legal_basis
                        .clone()
                        .unwrap_or_else(|| DEFAULT_DIVERSION_BASIS.to_owned()),
                };
                if categories
                    .insert(code.as_str().to_owned(), category)
                    .is_some()
                {
                    mistakes.push(format!("category {:?} is listed twice", entry.code));
                }
            }
        }
        if self.version.trim().is_empty() || self.categories.version.trim().is_empty() {
            mistakes.push("the directory and its category table each need a version".to_owned());
        }

        match bureau {
            Some(bureau) if mistakes.is_empty() => Ok(Directory {
                version: format!("{}/{}", self.version.trim(), self.categories.version.trim()),
                bureau,
                revision: 0,
                table_effective_at: None,
                units,
                categories,
                document: self,
            }),
            _ => Err(DirectoryError::Invalid(mistakes)),
        }
    }
}

#[cfg(test)]
#[path = "directory_tests.rs"]
mod tests;
