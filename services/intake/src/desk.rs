//! Registration where people first come (首接首办): a town's, street's or department's
//! registrar registers a petition at its own desk, and the case is that unit's unless
//! routing's rules decide otherwise. The bureau's registrations belong to no desk.

use xinfang_platform::auth::{Authorized, Scope};
use xinfang_platform::grpc::FieldViolation;

/// The unit at whose desk the petition is registered, from the caller and the request.
pub fn registering_unit(
    authorized: &Authorized,
    requested: &str,
) -> Result<Option<String>, FieldViolation> {
    let requested = requested.trim();
    let units = &authorized.caller.units;
    match authorized.scope {
        Scope::All if requested.is_empty() => Ok(None),
        Scope::All => Err(FieldViolation::new(
            "registering_unit",
            "only a unit registrar registers at a unit's desk; the bureau's registrations name none",
        )),
        Scope::OwnUnits if requested.is_empty() => match units.as_slice() {
            [only] => Ok(Some(only.clone())),
            _ => Err(FieldViolation::new(
                "registering_unit",
                format!(
                    "name the unit whose desk registers it, one of: {}",
                    units.join(", ")
                ),
            )),
        },
        Scope::OwnUnits if units.iter().any(|unit| unit == requested) => {
            Ok(Some(requested.to_owned()))
        }
        Scope::OwnUnits => Err(FieldViolation::new(
            "registering_unit",
            format!(
                "{requested:?} is not one of the caller's units ({})",
                units.join(", ")
            ),
        )),
    }
}
