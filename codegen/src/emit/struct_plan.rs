//! What a generated struct is, decided from its definition before anything is rendered: each
//! field's serde attributes and place in the builder, the name of the catch-all map, which
//! derives apply, whether `Debug` must hide a credential. `types.rs` only renders a plan.

use crate::names;
use crate::schema::{Field, Ty};

/// One struct.
pub struct StructPlan<'a> {
    /// The fields, in schema order.
    pub fields: Vec<FieldPlan<'a>>,
    /// The `#[serde(flatten)]` map of properties not named above: its field name and value type.
    pub extra: Option<(&'static str, &'a Ty)>,
    /// Every field can start empty, so the struct derives `Default`.
    pub default: bool,
    /// A field holds a credential: `Debug` is written by hand and prints `***` for it.
    pub secret_debug: bool,
    /// Users build it (it is reachable from a request body): `new` and `with_*` setters.
    pub buildable: bool,
}

/// One field.
pub struct FieldPlan<'a> {
    /// The field of the definition.
    pub field: &'a Field,
    /// `#[serde(rename)]`: the JSON name where it differs from the Rust name.
    pub rename: Option<&'a str>,
    /// Left out when `None`, and `None` when absent.
    pub skip_none: bool,
    /// Holds a credential.
    pub secret: bool,
    /// Its place in the builder.
    pub build: Build<'a>,
}

/// How the builder sets a field.
pub enum Build<'a> {
    /// A parameter of `new`, of the field's type.
    Required,
    /// A free-form object (a task's `payload`) that `new` leaves empty; its setter takes any
    /// `Serialize` value.
    StartsEmpty,
    /// `None` until its setter (taking the type inside the `Option`) is called; `free` when
    /// that type is a free-form object.
    Optional {
        /// The type inside the `Option`.
        inner: &'a Ty,
        /// Whether it is a free-form object.
        free: bool,
    },
}

impl<'a> StructPlan<'a> {
    /// The plan of a struct with `fields` and, if unknown properties are kept, `extra`.
    pub fn new(fields: &'a [Field], extra: Option<&'a Ty>, buildable: bool) -> StructPlan<'a> {
        let mut default = true;
        let fields: Vec<FieldPlan<'a>> = fields
            .iter()
            .map(|f| {
                let skip_none = f.ty.is_option() && !f.required;
                // A flattened branch has no default; a required free-form object defaults to `{}`.
                if f.flatten || (!skip_none && !is_free_object(&f.ty)) {
                    default = false;
                }
                let rename = (!f.flatten && names::unraw(&f.rust) != f.json).then_some(f.json.as_str());
                FieldPlan { field: f, rename, skip_none, secret: is_secret(&f.json), build: build(f) }
            })
            .collect();
        // A property may itself be called `extra`.
        let extra_name = if fields.iter().any(|f| f.field.rust == "extra") { "additional_properties" } else { "extra" };
        let secret_debug = fields.iter().any(|f| f.secret);
        StructPlan { fields, extra: extra.map(|t| (extra_name, t)), default, secret_debug, buildable }
    }
}

fn build(f: &Field) -> Build<'_> {
    let optional = !f.required && !f.flatten && f.ty.is_option();
    match &f.ty {
        Ty::Option(inner) if optional => Build::Optional { inner, free: is_free_object(inner) },
        t if is_free_object(t) => Build::StartsEmpty,
        _ => Build::Required,
    }
}

/// A free-form JSON object (a task's `payload`): filled from any `Serialize` value.
pub fn is_free_object(t: &Ty) -> bool {
    matches!(t, Ty::Map(inner) if **inner == Ty::Value)
}

/// Whether a property holds a credential, by its JSON name: the names Taskcluster and GoCD use
/// for tokens, keys and passwords (a `continuationToken` is no secret, nor is a list of the
/// names of `secrets`).
fn is_secret(json: &str) -> bool {
    let k = json.to_ascii_lowercase().replace(['_', '-'], "");
    if k == "secrets" {
        return false;
    }
    k == "token"
        || k == "certificate"
        || ["accesstoken", "password", "secret", "sessiontoken", "privatekey", "encryptedvalue"]
            .iter()
            .any(|s| k.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Docs;

    fn field(json: &str, ty: Ty, required: bool) -> Field {
        Field { json: json.into(), rust: names::snake(json), ty, required, flatten: false, docs: Docs::default() }
    }

    #[test]
    fn fields_get_their_serde_and_builder_roles() {
        let free = Ty::Map(Box::new(Ty::Value));
        let fields = [
            field("taskId", Ty::String, true),
            field("payload", free.clone(), true),
            field("extra", Ty::Option(Box::new(Ty::U64)), false),
            field("accessToken", Ty::Option(Box::new(free.clone())), false),
        ];
        let plan = StructPlan::new(&fields, Some(&Ty::Value), true);
        let renames: Vec<_> = plan.fields.iter().map(|f| f.rename).collect();
        assert_eq!(renames, [Some("taskId"), None, None, Some("accessToken")]);
        assert!(matches!(plan.fields[0].build, Build::Required));
        assert!(matches!(plan.fields[1].build, Build::StartsEmpty));
        assert!(matches!(plan.fields[2].build, Build::Optional { free: false, .. }));
        assert!(matches!(plan.fields[3].build, Build::Optional { free: true, .. }));
        // A property named `extra` pushes the catch-all map aside.
        assert_eq!(plan.extra.map(|(n, _)| n), Some("additional_properties"));
        // `taskId` is required and not free-form: no `Default`.
        assert!(!plan.default);
        assert!(plan.secret_debug && plan.fields[3].secret && !plan.fields[0].secret);
    }

    #[test]
    fn a_struct_of_optional_and_free_form_fields_derives_default() {
        let fields =
            [field("a", Ty::Option(Box::new(Ty::String)), false), field("b", Ty::Map(Box::new(Ty::Value)), true)];
        let plan = StructPlan::new(&fields, None, false);
        assert!(plan.default && !plan.secret_debug && plan.extra.is_none());
    }
}
