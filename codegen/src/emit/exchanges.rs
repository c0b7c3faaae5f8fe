//! One binding struct per Pulse exchange.

use proc_macro2::TokenStream;
use quote::quote;

use super::docs;
use super::types::{ident, ty_qualified};
use crate::model::Exchanges;
use crate::names;
use crate::schema::{Ty, TypeSpace};

/// The `exchanges` module: bindings and their `Binding` impls. `messages[i]` is the message
/// type of `ex.entries[i]`.
pub fn module(ex: &Exchanges, messages: &[Ty], space: &TypeSpace<'_>) -> TokenStream {
    let described = docs::clean(&ex.description);
    let intro = if ex.title.is_empty() { described } else { format!("{}\n\n{described}", ex.title.trim()) };
    let module_doc = docs::inner_attrs(&format!(
        "{intro}\n\nBind a queue with a value of one of these structs: [`Binding::exchange`] names the exchange, \
         [`Binding::routing_key`] gives the routing-key pattern (unset single-word elements are `*`, an unset \
         multi-word element is `#`)."
    ));
    let prefix = &ex.prefix;
    let items = ex.entries.iter().zip(messages).map(|(e, m)| {
        let name = ident(&names::camel(&e.name));
        // For the doc only; the generated `Binding::exchange` joins them at run time.
        let exchange = format!("{}/{}", ex.prefix.trim_end_matches('/'), e.exchange.trim_start_matches('/'));
        let mut doc =
            format!("{}\n\n{}\n\nExchange `{exchange}`; routing key:\n", e.title.trim(), docs::clean(&e.description));
        for r in &e.routing_key {
            let what = match (&r.constant, r.multiple_words) {
                (Some(c), _) => format!("always `{c}`"),
                (None, true) => "multiple words".to_owned(),
                (None, false) => "one word".to_owned(),
            };
            doc.push_str(&format!(
                "\n1. `{}` ({what}{}): {}",
                r.name,
                if r.required { ", required" } else { "" },
                r.summary.replace('\n', " ")
            ));
        }
        let doc = docs::attrs(&doc);
        let mut used = std::collections::BTreeSet::new();
        let fields: Vec<(String, &crate::model::RoutingKeyElement)> = e
            .routing_key
            .iter()
            .filter(|r| r.constant.is_none())
            .map(|r| {
                let mut n = names::snake(&r.name);
                while !used.insert(n.clone()) {
                    n.push('_');
                }
                (n, r)
            })
            .collect();
        let field_ts = fields.iter().map(|(n, r)| {
            let f = ident(n);
            let d = docs::attrs(&format!(
                "{} ({}).",
                r.summary.trim().trim_end_matches('.'),
                if r.multiple_words { "may span words; unset: `#`" } else { "one word; unset: `*`" }
            ));
            quote! { #d pub #f: Option<String>, }
        });
        let mut field_iter = fields.iter();
        let parts = e.routing_key.iter().map(|r| match &r.constant {
            Some(c) => quote!(RoutingKeyPart::Constant(#c)),
            None => {
                let (n, _) = field_iter.next().expect("one field per non-constant element");
                let f = ident(n);
                let json = &r.name;
                if r.multiple_words {
                    quote!(RoutingKeyPart::Words(#json, self.#f.as_deref()))
                } else {
                    quote!(RoutingKeyPart::Word(#json, self.#f.as_deref()))
                }
            }
        });
        let message = ty_qualified(space, m);
        quote! {
            #doc
            #[derive(Debug, Clone, Default, PartialEq, Eq)]
            pub struct #name {
                #(#field_ts)*
            }

            impl Binding for #name {
                type Message = #message;

                fn exchange(&self) -> &'static str {
                    #exchange
                }

                fn routing_key(&self) -> Result<String, apigen_runtime::Error> {
                    apigen_runtime::routing_key(&[#(#parts),*])
                }
            }
        }
    });
    quote! {
        #module_doc

        pub use apigen_runtime::Binding;
        use apigen_runtime::RoutingKeyPart;

        /// The prefix of every exchange of this service.
        pub const EXCHANGE_PREFIX: &str = #prefix;

        #(#items)*
    }
}
