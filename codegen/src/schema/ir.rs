//! The typed intermediate model of generated Rust types.

use crate::model::SchemaRef;

/// Index of a [`TypeDef`] in its [`crate::schema::TypeSpace`].
pub type TypeId = usize;

/// A type expression, as used by a field or a variant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Ty {
    /// A generated type.
    Named(TypeId),
    /// A generated type behind a `Box` (breaks a recursive cycle).
    Boxed(TypeId),
    /// `String`
    String,
    /// `i64`
    I64,
    /// `u64` (the schema says `minimum >= 0`)
    U64,
    /// `f64`
    F64,
    /// `bool`
    Bool,
    /// The runtime's `Time` (`format: date-time`)
    Time,
    /// `serde_json::Value`: the schema is free-form.
    Value,
    /// `()`: the schema only allows `null`.
    Unit,
    /// `Vec<T>`
    Vec(Box<Ty>),
    /// `BTreeMap<String, T>`
    Map(Box<Ty>),
    /// `Option<T>`: nullable.
    Option(Box<Ty>),
}

impl Ty {
    /// Whether `Default` exists for this type without generated code.
    pub fn is_option(&self) -> bool {
        matches!(self, Ty::Option(_))
    }
}

/// Documentation gathered from a schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Docs {
    /// `title`
    pub title: Option<String>,
    /// `description`
    pub description: Option<String>,
    /// Constraints and defaults, one line each.
    pub notes: Vec<String>,
}

/// A generated type.
#[derive(Debug, Clone)]
pub struct TypeDef {
    /// Rust name, unique in its type space.
    pub name: String,
    /// Documentation.
    pub docs: Docs,
    /// What it is.
    pub kind: Kind,
    /// The schema it comes from.
    pub origin: SchemaRef,
}

/// The shape of a generated type.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A struct; `extra` is a flattened map for additional properties.
    Struct {
        /// Named fields.
        fields: Vec<Field>,
        /// Value type of additional properties kept in a flattened map.
        extra: Option<Ty>,
    },
    /// A string enum; unknown values are kept in a catch-all variant.
    Enum {
        /// Known values.
        values: Vec<EnumValue>,
        /// Name of the `(String)` variant that keeps values this client does not know.
        catch_all: String,
    },
    /// `oneOf`/`anyOf`: internally tagged by `tag` if every branch has a distinct constant
    /// for it, untagged otherwise (then with a catch-all `Other(Value)`).
    Union {
        /// The discriminator property.
        tag: Option<String>,
        /// The branches.
        variants: Vec<Variant>,
    },
    /// `pub type X = ...;` for a named schema that turned out to be a plain type.
    Alias(Ty),
}

/// A struct field.
#[derive(Debug, Clone)]
pub struct Field {
    /// JSON property name.
    pub json: String,
    /// Rust field name (possibly `r#`-escaped).
    pub rust: String,
    /// Its type; `Option` when not required.
    pub ty: Ty,
    /// Whether the property is required.
    pub required: bool,
    /// `#[serde(flatten)]` (an `allOf` branch that is not a plain object).
    pub flatten: bool,
    /// Documentation.
    pub docs: Docs,
}

/// One known value of a string enum.
#[derive(Debug, Clone)]
pub struct EnumValue {
    /// The JSON string.
    pub json: String,
    /// The Rust variant name.
    pub rust: String,
}

/// One branch of a union.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Rust variant name.
    pub name: String,
    /// The tag value, for tagged unions.
    pub tag_value: Option<String>,
    /// The payload type.
    pub ty: Ty,
    /// Documentation.
    pub docs: Docs,
}
