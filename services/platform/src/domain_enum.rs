//! Declaring a closed domain enum beside its storage code and its protobuf counterpart, so
//! the three spellings of each value stand side by side, once, in the service that owns it.
//!
//! Domain code matches on the enum, which has no "unspecified" value; the storage code (a
//! short lowercase word, the same in every service's tables) is what the database holds;
//! the protobuf value appears only at the edge. Each service declares its own enums.

/// `domain_enum!(Name: xinfang_proto::v1::ProtoEnum, "what it is" { Variant = "code" / ProtoVariant, … })`
#[macro_export]
macro_rules! domain_enum {
    ($(#[$meta:meta])* $name:ident: $proto:path, $what:literal {
        $($variant:ident = $code:literal / $proto_variant:ident),+ $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$(Self::$variant),+];

            /// The value as stored in the service's tables.
            pub const fn code(self) -> &'static str {
                match self { $(Self::$variant => $code),+ }
            }

            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some(Self::$variant),)+ _ => None }
            }

            pub fn to_proto(self) -> $proto {
                use $proto as Proto;
                match self { $(Self::$variant => Proto::$proto_variant),+ }
            }

            /// Reads a protobuf enum field; zero (unset) is a missing field.
            pub fn from_proto(value: i32) -> Result<Self, &'static str> {
                use $proto as Proto;
                match Proto::try_from(value) {
                    $(Ok(Proto::$proto_variant) => Ok(Self::$variant),)+
                    Ok(_) => Err("is required"),
                    Err(_) => Err(concat!("is not a known ", $what)),
                }
            }
        }
    };
}
