//! The typed intermediate model of generated Rust types.

use std::ops::{Index, IndexMut};

use crate::model::SchemaRef;

/// A generated type: its index in the [`Defs`] of its [`crate::schema::TypeSpace`]. Only the
/// type space hands these out, so every `TypeId` names a type of the space it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TypeId(usize);

impl TypeId {
    /// The id's position in its [`Defs`].
    pub(super) fn index(self) -> usize {
        self.0
    }

    /// The id at position `index` (for ids moved into another [`Defs`]).
    pub(super) fn at(index: usize) -> TypeId {
        TypeId(index)
    }
}

/// The types of a type space, in creation order, indexed by [`TypeId`].
#[derive(Debug, Clone, Default)]
pub struct Defs(Vec<TypeDef>);

impl Defs {
    /// Appends a type and returns its id.
    pub(super) fn push(&mut self, def: TypeDef) -> TypeId {
        self.0.push(def);
        TypeId(self.0.len() - 1)
    }

    /// Every type with its id, in creation order.
    pub fn iter(&self) -> impl Iterator<Item = (TypeId, &TypeDef)> {
        self.0.iter().enumerate().map(|(i, d)| (TypeId(i), d))
    }

    /// Appends the types of `other`, whose ids are then `offset` higher.
    pub(super) fn append(&mut self, other: Defs) -> usize {
        let offset = self.0.len();
        self.0.extend(other.0);
        offset
    }

    /// Every id, in creation order.
    pub fn ids(&self) -> impl Iterator<Item = TypeId> {
        (0..self.0.len()).map(TypeId)
    }

    /// The number of types (emitted or inlined).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Index<TypeId> for Defs {
    type Output = TypeDef;
    fn index(&self, id: TypeId) -> &TypeDef {
        &self.0[id.0]
    }
}

impl IndexMut<TypeId> for Defs {
    fn index_mut(&mut self, id: TypeId) -> &mut TypeDef {
        &mut self.0[id.0]
    }
}

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
    /// `oneOf`/`anyOf` where every branch fixes the property `tag` to a distinct constant:
    /// internally tagged, with a catch-all `Other(Value)` for tags this client does not know.
    Tagged {
        /// The discriminator property.
        tag: String,
        /// The branches, each with its tag value.
        variants: Vec<TaggedVariant>,
    },
    /// Other `oneOf`/`anyOf`: untagged, with a catch-all `Other(Value)`.
    Union {
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

/// One branch of an untagged union.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Rust variant name.
    pub name: String,
    /// The payload type.
    pub ty: Ty,
    /// Documentation.
    pub docs: Docs,
}

/// One branch of a tagged union: always with its tag value.
#[derive(Debug, Clone)]
pub struct TaggedVariant {
    /// Rust variant name.
    pub name: String,
    /// The value of the union's tag property that selects this branch.
    pub tag_value: String,
    /// The payload type (a struct of the branch's other properties).
    pub ty: Ty,
    /// Documentation.
    pub docs: Docs,
}
